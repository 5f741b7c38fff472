package registrytest

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// tokenPath is the bearer token endpoint (the challenge's realm).
const tokenPath = "/token"

// service is the service name in bearer challenges.
const service = "registrytest"

// equal compares secrets in constant time.
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authorized reports whether req carries the configured credentials, and
// answers 401 with a challenge when it does not.
func (r *Registry) authorized(w http.ResponseWriter, req *http.Request) bool {
	o := r.opts
	switch {
	case o.basicUser != "":
		u, p, ok := req.BasicAuth()
		if ok && equal(u, o.basicUser) && equal(p, o.basicPass) {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+service+`"`)
	case o.bearer:
		if equal(req.Header.Get("Authorization"), "Bearer "+o.token) {
			return true
		}
		c := `Bearer realm="` + r.URL + tokenPath + `",service="` + service + `"`
		if repo := repoOf(req.URL.Path); repo != "" {
			actions := "pull"
			if req.Method != http.MethodGet && req.Method != http.MethodHead {
				actions = "pull,push"
			}
			c += `,scope="repository:` + repo + ":" + actions + `"`
		}
		w.Header().Set("WWW-Authenticate", c)
	default:
		return true
	}
	writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
	return false
}

// serveToken is the bearer token endpoint: GET /token with the configured
// basic credentials (or none, when the user is empty) returns the token.
// Other methods get 404, so clients fall back from the OAuth2 POST flow to
// GET as they do with registries lacking it.
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request) {
	o := r.opts
	if !o.bearer || req.Method != http.MethodGet {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no token endpoint here")
		return
	}
	if o.tokenUser != "" {
		u, p, ok := req.BasicAuth()
		if !ok || !equal(u, o.tokenUser) || !equal(p, o.tokenPass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+service+`"`)
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "bad credentials")
			return
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}{o.token, o.token, 300})
}

// repoOf extracts the repository name from a /v2/<repo>/... path, or ""
// for paths outside any repository (the ping, the catalog).
func repoOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	end := -1
	for _, sep := range []string{"/tags/", "/manifests/", "/blobs/"} {
		end = max(end, strings.LastIndex(rest, sep))
	}
	if end <= 0 {
		return ""
	}
	return rest[:end]
}
