package github_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub implements the GitHub REST endpoints the provider uses, under
// a prefix (e.g. "/api/v3" for GitHub Enterprise): list, get, create and
// edit pull requests, and create App installation tokens. It checks the
// Authorization header of every call.
type fakeGitHub struct {
	t      *testing.T
	srv    *httptest.Server
	prefix string
	owner  string
	repo   string

	mu         sync.Mutex
	prs        []map[string]any
	calls      map[string]int // "METHOD /path-pattern" -> count
	failNext   map[string]int // same keys -> status to answer once
	wantAuth   string         // exact Authorization header for API calls
	appKey     *rsa.PublicKey // verifies App JWTs when set
	appID      int64
	tokenCount int
	tokenLife  time.Duration // of the installation tokens issued; 0 means an hour
}

func newFakeGitHub(t *testing.T, prefix string) *fakeGitHub {
	f := &fakeGitHub{t: t, prefix: prefix, owner: "org", repo: "gitops", calls: map[string]int{}, failNext: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) baseURL() string { return f.srv.URL + f.prefix + "/" }

func (f *fakeGitHub) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

// fail makes the next call to key answer status.
func (f *fakeGitHub) fail(key string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[key] = status
}

// set changes pull request n as a person on GitHub would.
func (f *fakeGitHub) set(n int, fields map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range fields {
		f.prs[n-1][k] = v
	}
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path, ok := strings.CutPrefix(r.URL.Path, f.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	pulls := fmt.Sprintf("/repos/%s/%s/pulls", f.owner, f.repo)
	key := r.Method + " " + path
	if rest, ok := strings.CutPrefix(path, pulls+"/"); ok {
		if _, err := strconv.Atoi(rest); err == nil {
			key = r.Method + " " + pulls + "/{n}"
		}
	}
	if strings.HasPrefix(path, "/app/installations/") {
		key = r.Method + " /app/installations/{id}/access_tokens"
	}
	f.calls[key]++
	if status := f.failNext[key]; status != 0 {
		delete(f.failNext, key)
		w.WriteHeader(status)
		return
	}
	if key == "POST /app/installations/{id}/access_tokens" {
		f.issueToken(w, r)
		return
	}
	if r.Header.Get("Authorization") != f.wantAuth {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials"})
		return
	}
	switch key {
	case "GET " + pulls:
		q := r.URL.Query()
		out := []map[string]any{}
		for _, pr := range f.prs {
			if pr["state"] == q.Get("state") && f.owner+":"+ref(pr, "head") == q.Get("head") && ref(pr, "base") == q.Get("base") {
				out = append(out, pr)
			}
		}
		writeJSON(w, http.StatusOK, out)
	case "POST " + pulls:
		var in struct{ Title, Head, Base, Body string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
			return
		}
		for _, pr := range f.prs {
			if pr["state"] == "open" && ref(pr, "head") == in.Head && ref(pr, "base") == in.Base {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed: A pull request already exists"})
				return
			}
		}
		n := len(f.prs) + 1
		pr := map[string]any{
			"number": n, "state": "open", "title": in.Title, "body": in.Body, "merged": false,
			"html_url": fmt.Sprintf("https://github.example/%s/%s/pull/%d", f.owner, f.repo, n),
			"head":     map[string]any{"ref": in.Head, "repo": f.repoJSON()}, "base": map[string]any{"ref": in.Base, "repo": f.repoJSON()},
			"merge_commit_sha": "0000000000000000000000000000000000000000", // GitHub's test merge
		}
		f.prs = append(f.prs, pr)
		writeJSON(w, http.StatusCreated, pr)
	case "GET " + pulls + "/{n}", "PATCH " + pulls + "/{n}":
		n, _ := strconv.Atoi(strings.TrimPrefix(path, pulls+"/"))
		if n < 1 || n > len(f.prs) {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		if r.Method == http.MethodPatch {
			var in map[string]any
			_ = json.NewDecoder(r.Body).Decode(&in)
			if body, ok := in["body"]; ok {
				f.prs[n-1]["body"] = body
			}
		}
		writeJSON(w, http.StatusOK, f.prs[n-1])
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	}
}

// issueToken checks the App JWT (RS256 by the App key, issuer the App ID,
// short-lived) and returns a new installation token.
func (f *fakeGitHub) issueToken(w http.ResponseWriter, r *http.Request) {
	jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(jwt, ".")
	if !ok || len(parts) != 3 || f.appKey == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "A JSON web token could not be decoded"})
		return
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(f.appKey, crypto.SHA256, sum[:], sig); err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "bad signature"})
		return
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Iat, Exp int64
		Iss      string // GitHub accepts the App ID as a number or a string
	}
	_ = json.Unmarshal(raw, &claims)
	now := time.Now().Unix()
	if claims.Iss != strconv.FormatInt(f.appID, 10) || claims.Iat > now || claims.Exp < now || claims.Exp-claims.Iat > 600 {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "bad claims"})
		return
	}
	f.tokenCount++
	tok := fmt.Sprintf("ghs_installation%d", f.tokenCount)
	f.wantAuth = "Bearer " + tok // only the newest token is accepted
	life := f.tokenLife
	if life == 0 {
		life = time.Hour
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": time.Now().Add(life).UTC().Format(time.RFC3339)})
}

// repoJSON is the repository object GitHub puts in a pull request's head
// and base.
func (f *fakeGitHub) repoJSON() map[string]any {
	return map[string]any{"id": 1, "name": f.repo, "full_name": f.owner + "/" + f.repo}
}

func ref(pr map[string]any, side string) string {
	return pr[side].(map[string]any)["ref"].(string)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
