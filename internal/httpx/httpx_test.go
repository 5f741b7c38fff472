package httpx_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
	"github.com/railyard-gitops/railyard/internal/retry"
)

// authLog records the Authorization header of every request a server got.
type authLog struct {
	mu   sync.Mutex
	seen []string
}

func (a *authLog) handler(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen = append(a.seen, r.Header.Get("Authorization"))
		a.mu.Unlock()
		next(w, r)
	}
}

func (a *authLog) all() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

func TestCredentialsOnlyToTheirOrigin(t *testing.T) {
	t.Parallel()
	var other authLog
	// Same host (127.0.0.1), another port: another origin.
	otherPort := httptest.NewServer(other.handler(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other") }))
	defer otherPort.Close()
	var home authLog
	srv := httptest.NewServer(home.handler(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, otherPort.URL+"/stolen", http.StatusFound)
		case "/local":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()

	var calls atomic.Int32
	c, secrets, err := httpx.New(httpx.Config{
		Origin: srv.URL,
		Credentials: func(_ context.Context, host string) (httpx.Credentials, error) {
			calls.Add(1)
			assert.Equal(t, strings.TrimPrefix(srv.URL, "http://"), host)
			return httpx.Credentials{Token: "rotating-token-" + string(rune('a'+calls.Load()))}, nil
		},
	})
	require.NoError(t, err)
	for _, p := range []string{"/ok", "/local", "/redirect"} {
		resp, err := c.Get(srv.URL + p)
		require.NoError(t, err)
		resp.Body.Close()
	}
	// A request the caller sends straight to another origin with its own
	// header set loses the header too.
	req, _ := http.NewRequest(http.MethodGet, otherPort.URL+"/direct", nil)
	req.Header.Set("Authorization", "Bearer smuggled")
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	for _, h := range home.all() {
		assert.True(t, strings.HasPrefix(h, "Bearer rotating-token-"), h)
	}
	assert.Len(t, home.all(), 4) // ok, local, ok after local, redirect
	assert.Equal(t, []string{"", ""}, other.all(), "another port of the same host got credentials")
	assert.EqualValues(t, 4, calls.Load(), "the provider is asked per request")
	assert.NotContains(t, secrets.String("echo rotating-token-b"), "rotating-token-b")
}

func TestTrustedOriginKeepsHigherLayerHeader(t *testing.T) {
	t.Parallel()
	var tokens authLog
	tokenSrv := httptest.NewServer(tokens.handler(func(w http.ResponseWriter, r *http.Request) {}))
	defer tokenSrv.Close()
	c, _, err := httpx.New(httpx.Config{Origin: "https://registry.example", Trusted: []string{tokenSrv.URL}})
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodGet, tokenSrv.URL, nil)
	req.SetBasicAuth("u", "p")
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, []string{"Basic dTpw"}, tokens.all())
}

func TestBasicAuthAndProviderErrors(t *testing.T) {
	t.Parallel()
	var home authLog
	srv := httptest.NewServer(home.handler(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c, secrets, err := httpx.New(httpx.Config{Origin: srv.URL, Credentials: httpx.Static(httpx.Credentials{Username: "u", Password: "pass-word"})})
	require.NoError(t, err)
	resp, err := c.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, []string{"Basic dTpwYXNzLXdvcmQ="}, home.all())
	assert.Equal(t, "xxxxx xxxxx", secrets.String("pass-word dTpwYXNzLXdvcmQ="))

	failing, _, err := httpx.New(httpx.Config{Origin: srv.URL, Credentials: func(context.Context, string) (httpx.Credentials, error) {
		return httpx.Credentials{}, errors.New("vault down")
	}})
	require.NoError(t, err)
	_, err = failing.Get(srv.URL)
	var ce *httpx.CredentialsError
	require.ErrorAs(t, err, &ce)
}

func TestRedirectPolicy(t *testing.T) {
	t.Parallel()
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	defer loop.Close()
	c, _, err := httpx.New(httpx.Config{MaxRedirects: 3})
	require.NoError(t, err)
	_, err = c.Get(loop.URL)
	require.ErrorIs(t, err, httpx.ErrRedirect)

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL, http.StatusFound)
	}))
	defer tlsSrv.Close()
	c, _, err = httpx.New(httpx.Config{Client: tlsSrv.Client()})
	require.NoError(t, err)
	_, err = c.Get(tlsSrv.URL)
	require.ErrorIs(t, err, httpx.ErrRedirect, "https to http downgrade")

	_, _, err = httpx.New(httpx.Config{Origin: "ftp://x"})
	require.Error(t, err)
}

func TestRetries(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "finally")
	}))
	defer srv.Close()
	policy := retry.Policy{Retries: 3, MinWait: time.Millisecond, MaxWait: 10 * time.Millisecond}
	c, _, err := httpx.New(httpx.Config{Retry: policy})
	require.NoError(t, err)
	ctx, stats := httpx.WithStats(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := c.Do(req)
	require.NoError(t, err)
	body, err := httpx.ReadAll(resp.Body, 100)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "finally", string(body))
	assert.EqualValues(t, 3, stats.Requests.Load())
	assert.EqualValues(t, 7, stats.BytesReceived.Load())

	// POST is not idempotent by default: sent once, the 503 returned.
	n.Store(0)
	resp, err = c.Post(srv.URL, "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.EqualValues(t, 1, n.Load())

	// Retries spent: the last answer reaches the caller.
	n.Store(-100)
	resp, err = c.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.EqualValues(t, -96, n.Load())

	// A network error retried until spent is a RetryError.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err = c.Get(dead.URL)
	var re *httpx.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 4, re.Attempts)
}

func TestReadAllAndLimitBody(t *testing.T) {
	t.Parallel()
	b, err := httpx.ReadAll(strings.NewReader("12345"), 5)
	require.NoError(t, err)
	assert.Equal(t, "12345", string(b))
	_, err = httpx.ReadAll(strings.NewReader("123456"), 5)
	var tl *httpx.TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.EqualValues(t, 5, tl.Max)

	got, err := io.ReadAll(httpx.LimitBody(io.NopCloser(strings.NewReader("12345")), 5))
	require.NoError(t, err)
	assert.Equal(t, "12345", string(got))
	got, err = io.ReadAll(httpx.LimitBody(io.NopCloser(strings.NewReader("123456789")), 5))
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, "12345", string(got))
}

func TestOriginOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://GitHub.com/org/repo.git": "https://github.com:443",
		"http://h:8080/x":                 "http://h:8080",
		"http://[::1]/x":                  "http://[::1]:80",
	} {
		got, err := httpx.OriginOf(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := httpx.OriginOf("https://u:secret@:bad")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
}

func TestMaxResponseSize(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length: the cap applies while reading
		}
		io.WriteString(w, strings.Repeat("x", 100))
	}))
	defer srv.Close()
	c, _, err := httpx.New(httpx.Config{MaxResponseSize: 10})
	require.NoError(t, err)
	var tl *httpx.TooLargeError

	_, err = c.Get(srv.URL + "/announced")
	require.ErrorAs(t, err, &tl, "a Content-Length over the cap fails before the body is read")
	assert.EqualValues(t, 10, tl.Max)

	resp, err := c.Get(srv.URL + "/chunked")
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.ErrorAs(t, err, &tl)
	assert.Len(t, got, 10)
}

func TestReadOnlyElsewhere(t *testing.T) {
	t.Parallel()
	var other authLog
	otherSrv := httptest.NewServer(other.handler(func(http.ResponseWriter, *http.Request) {}))
	defer otherSrv.Close()
	c, _, err := httpx.New(httpx.Config{Origin: "http://registry.invalid", ReadOnlyElsewhere: true})
	require.NoError(t, err)
	_, err = c.Post(otherSrv.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("refresh_token=secret"))
	require.ErrorIs(t, err, httpx.ErrOffOrigin)
	resp, err := c.Get(otherSrv.URL + "/blob")
	require.NoError(t, err, "reads elsewhere (a CDN) stay allowed")
	resp.Body.Close()
	assert.Len(t, other.all(), 1)
}

// A client above httpx that replaces CheckRedirect with a policy of its own
// (as go-containerregistry does) still cannot loop or leave https.
func TestRedirectPolicyInTheTransport(t *testing.T) {
	t.Parallel()
	var hops atomic.Int32
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	defer loop.Close()
	c, _, err := httpx.New(httpx.Config{MaxRedirects: 3})
	require.NoError(t, err)
	lax := &http.Client{Transport: c.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	_, err = lax.Get(loop.URL)
	require.ErrorIs(t, err, httpx.ErrRedirect)
	assert.EqualValues(t, 4, hops.Load(), "the first request and 3 redirects")

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL, http.StatusFound)
	}))
	defer tlsSrv.Close()
	c, _, err = httpx.New(httpx.Config{Client: tlsSrv.Client()})
	require.NoError(t, err)
	lax = &http.Client{Transport: c.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	hops.Store(0)
	_, err = lax.Get(tlsSrv.URL)
	require.ErrorIs(t, err, httpx.ErrRedirect)
	assert.Zero(t, hops.Load(), "the http server was never asked")
}

// Authorization headers set by a higher layer join the redaction set, so a
// server echoing them cannot get them into errors or logs.
func TestHigherLayerCredentialsAreRedacted(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	c, secrets, err := httpx.New(httpx.Config{Origin: srv.URL})
	require.NoError(t, err)
	for _, set := range []func(*http.Request){
		func(r *http.Request) { r.Header.Set("Authorization", "Bearer sdk-token-1234") },
		func(r *http.Request) { r.SetBasicAuth("robot", "basic-pass-5678") },
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		set(req)
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	out := secrets.String("echo: sdk-token-1234 basic-pass-5678 " + "cm9ib3Q6YmFzaWMtcGFzcy01Njc4")
	assert.NotContains(t, out, "sdk-token-1234")
	assert.NotContains(t, out, "basic-pass-5678")
	assert.NotContains(t, out, "cm9ib3Q6YmFzaWMtcGFzcy01Njc4")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzAuthorizationRedacted: whatever Authorization header a higher layer
// sets on a request to the origin, the client's redaction set masks its
// credential afterwards (so a server echoing it cannot leak it), and the
// header reaches no other origin.
func FuzzAuthorizationRedacted(f *testing.F) {
	f.Add("Bearer", "tok-1234")
	f.Add("Basic", "dTpwYXNzLXdvcmQ=")
	f.Add("token", "ghs_abc")
	f.Add("", "weird")
	f.Add("0", "xxxx") // a credential made of the mask's own letters
	f.Fuzz(func(t *testing.T, scheme, cred string) {
		h := strings.TrimSpace(scheme + " " + cred)
		if len(strings.TrimSpace(cred)) < 4 || strings.ContainsAny(h, "\r\n\x00") {
			return
		}
		var got []string
		base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = append(got, r.URL.Host+"="+r.Header.Get("Authorization"))
			return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
		})
		c, secrets, err := httpx.New(httpx.Config{Client: &http.Client{Transport: base}, Origin: "https://home.example"})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"https://home.example/x", "https://home.example:444/x"} {
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", h)
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		if len(got) != 2 || got[1] != "home.example:444=" {
			t.Fatalf("requests %q", got)
		}
		masked := secrets.String("echo: " + req(got[0]))
		// The mask itself is x's: a credential of x's is found inside it
		// without having leaked, so masks are taken out before looking.
		if c := strings.TrimSpace(cred); strings.Contains(strings.ReplaceAll(masked, redact.Mask, "\x00"), c) {
			t.Fatalf("header %q: %q stays in %q", h, c, masked)
		}
	})
}

func req(s string) string { _, v, _ := strings.Cut(s, "="); return v }
