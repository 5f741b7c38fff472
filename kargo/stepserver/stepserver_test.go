package stepserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/kargo/renderbranch"
	"github.com/railyard-gitops/railyard/kargo/stepserver"
)

const token = "t0ken-for-kargo"

func config(repoURL string) string {
	sha := strings.Repeat("a", 40)
	return `{"repoURL":"` + repoURL + `","commit":"` + sha + `","paths":["k8s/kustomize/base"],
		"image":{"image":"app","newName":"ghcr.io/o/app","tag":"git-` + sha + `","digest":"sha256:` + strings.Repeat("0", 64) + `"},
		"gitopsRepoURL":"` + repoURL + `","app":"codeai","deployment":"test"}`
}

func call(t *testing.T, h http.Handler, method, auth, contentType, body string) (int, stepserver.Response) {
	t.Helper()
	req := httptest.NewRequest(method, "/v1/render-branch", strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r stepserver.Response
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r), rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	return rec.Code, r
}

func TestNewNeedsAuthenticationChoice(t *testing.T) {
	r, err := renderbranch.New()
	require.NoError(t, err)
	_, err = stepserver.New(r)
	assert.ErrorContains(t, err, "token is required")
	_, err = stepserver.New(r, stepserver.WithBearerToken(token), stepserver.WithoutAuthentication())
	assert.Error(t, err)
	_, err = stepserver.New(nil, stepserver.WithoutAuthentication())
	assert.Error(t, err)
	_, err = stepserver.New(r, stepserver.WithBearerToken(""))
	assert.Error(t, err)
}

// Requests are refused before any I/O when they are not POSTed JSON with
// the token, too large, or not a valid configuration; answers never echo
// the token or a credential.
func TestRefusals(t *testing.T) {
	r, err := renderbranch.New()
	require.NoError(t, err)
	h, err := stepserver.New(r, stepserver.WithBearerToken(token))
	require.NoError(t, err)
	good := "Bearer " + token
	for name, tc := range map[string]struct {
		method, auth, ct, body string
		code                   int
		contains               string
	}{
		"GET":           {http.MethodGet, good, "application/json", "{}", http.StatusMethodNotAllowed, "POST"},
		"no token":      {http.MethodPost, "", "application/json", "{}", http.StatusUnauthorized, "token"},
		"wrong token":   {http.MethodPost, "Bearer nope", "application/json", "{}", http.StatusUnauthorized, "token"},
		"basic":         {http.MethodPost, "Basic " + token, "application/json", "{}", http.StatusUnauthorized, "token"},
		"text":          {http.MethodPost, good, "text/plain", "{}", http.StatusUnsupportedMediaType, "json"},
		"too large":     {http.MethodPost, good, "application/json", `{"message":"` + strings.Repeat("x", stepserver.MaxRequestBytes) + `"}`, http.StatusRequestEntityTooLarge, "exceeds"},
		"not JSON":      {http.MethodPost, good, "application/json; charset=utf-8", "{", http.StatusBadRequest, "malformed JSON"},
		"unknown key":   {http.MethodPost, good, "application/json", `{"password":"hunter2"}`, http.StatusBadRequest, "unknown key"},
		"credentials":   {http.MethodPost, good, "application/json", config("https://bot:hunter2@example.invalid/o/r.git"), http.StatusBadRequest, "without credentials"},
		"trailing data": {http.MethodPost, good, "application/json", config("https://example.invalid/o/r.git") + "{}", http.StatusBadRequest, "trailing"},
	} {
		t.Run(name, func(t *testing.T) {
			code, resp := call(t, h, tc.method, tc.auth, tc.ct, tc.body)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, "Failed", resp.Status)
			assert.False(t, resp.Retryable)
			assert.Contains(t, resp.Error, tc.contains)
			assert.NotContains(t, resp.Error, "hunter2")
			assert.NotContains(t, resp.Error, token)
		})
	}
}

// Failures of the run: a refusal retrying cannot fix is 422, a server
// failure 503 with retryable set.
func TestRunFailures(t *testing.T) {
	status := http.StatusUnauthorized
	git := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
		http.Error(w, "no", status)
	}))
	defer git.Close()
	r, err := renderbranch.New()
	require.NoError(t, err)
	h, err := stepserver.New(r, stepserver.WithoutAuthentication())
	require.NoError(t, err)

	code, resp := call(t, h, http.MethodPost, "", "application/json", config(git.URL+"/o/r.git"))
	assert.Equal(t, http.StatusUnprocessableEntity, code)
	assert.Equal(t, "Failed", resp.Status)
	assert.False(t, resp.Retryable)

	status = http.StatusBadGateway
	code, resp = call(t, h, http.MethodPost, "", "application/json", config(git.URL+"/o/r.git"))
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "Errored", resp.Status)
	assert.True(t, resp.Retryable)
}
