package github

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// appAuth turns a GitHub App's key into installation tokens.
type appAuth struct {
	appID, installationID int64
	key                   *rsa.PrivateKey

	mu      sync.Mutex
	token   string
	expires time.Time
	jwtUsed string // the last JWT sent
}

// secrets returns the credentials a server could echo back.
func (a *appAuth) secrets() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return []string{a.token, a.jwtUsed}
}

// jwt returns the App's JSON Web Token (RS256), valid for nine minutes
// from a minute ago, as GitHub recommends for clock drift.
func (a *appAuth) jwt(now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]int64{
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(9 * time.Minute).Unix(),
		"iss": a.appID,
	})
	if err != nil {
		return "", err
	}
	signed := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign App JWT: %w", err)
	}
	return signed + "." + enc.EncodeToString(sig), nil
}

// installationToken returns a cached installation token, or creates one
// when there is none or it expires within a minute.
func (a *appAuth) installationToken(ctx context.Context, c *http.Client, base *url.URL) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if a.token != "" && now.Add(time.Minute).Before(a.expires) {
		return a.token, nil
	}
	jwt, err := a.jwt(now)
	if err != nil {
		return "", err
	}
	a.jwtUsed = jwt
	u := base.JoinPath("app", "installations", fmt.Sprint(a.installationID), "access_tokens")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+jwt)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("create installation token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return "", &Error{Op: "create installation token", StatusCode: resp.StatusCode}
	}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil || out.Token == "" {
		return "", &Error{Op: "create installation token", StatusCode: resp.StatusCode, Message: "no token in the answer"}
	}
	a.token, a.expires = out.Token, out.ExpiresAt
	return a.token, nil
}

// authTransport adds the Authorization header to requests for the API
// host only, so a redirect elsewhere never carries a credential.
type authTransport struct {
	base        http.RoundTripper
	host        string
	token       string
	app         *appAuth
	tokenClient *http.Client
	baseURL     *url.URL
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host || (t.token == "" && t.app == nil) {
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	if t.app != nil {
		tok, err := t.app.installationToken(req.Context(), t.tokenClient, t.baseURL)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "token "+tok)
	} else {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	return t.base.RoundTrip(req)
}
