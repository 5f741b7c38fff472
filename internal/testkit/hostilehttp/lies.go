package hostilehttp

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Echo answers every request with status and sends back what it received,
// as proxies and misconfigured servers do: the Authorization header and the
// query in a JSON error body that GitHub, Gitea and registry clients all
// parse ("message", "errors[].message", "errors[].detail"), and the
// Authorization header again in X-Echo-Authorization and, for 401, in the
// Basic challenge's realm.
func Echo(status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		var headers []string
		for k, vs := range r.Header {
			headers = append(headers, k+": "+strings.Join(vs, ", "))
		}
		sort.Strings(headers)
		all := strings.Join(headers, "; ")
		w.Header().Set("X-Echo-Authorization", auth)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="echo `+strings.ReplaceAll(auth, `"`, "")+`"`)
		}
		writeJSON(w, status, map[string]any{
			"message":           "bad credentials: " + auth + " query " + r.URL.RawQuery,
			"documentation_url": all,
			"errors":            []map[string]string{{"code": "UNAUTHORIZED", "message": "bad credentials: " + auth, "detail": all}},
		})
	})
}

// Redirect sends every request to the same path and query under base (for
// example another port of the same host, or [Server.AltURL]) with status
// code (301, 302, 303, 307 or 308).
func Redirect(base string, code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.TrimSuffix(base, "/")+r.URL.RequestURI(), code)
	})
}

// HugeJSON answers 200 with a JSON array of one pull request whose title
// makes the body size bytes long, streamed without holding it; announce
// sets Content-Length, otherwise the body is chunked.
func HugeJSON(size int64, announce bool) http.Handler {
	const head, tail = `[{"number":1,"state":"open","head":{"ref":"h"},"base":{"ref":"b"},"title":"`, `"}]`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream(w, announce, size, head, "x", tail)
	})
}

// Endless answers 200 with a JSON array of pull requests that never ends,
// until the client goes away or the server closes.
func Endless() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "[")
		chunk := strings.Repeat(`{"number":1,"state":"open","title":"x"},`, 1000)
		for r.Context().Err() == nil {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
}

// Slow answers 200 with body, one byte every interval, flushing each.
func Slow(interval time.Duration, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := range len(body) {
			if _, err := io.WriteString(w, body[i:i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(interval):
			}
		}
	})
}

// Stall accepts a request and then hangs until the client goes away or
// the server closes: with headers, after sending a 200 status line and
// headers; without, before sending anything.
func Stall(headers bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headers {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	})
}

// PullsForever answers every listing of pull requests (GitHub's
// /repos/{o}/{r}/pulls and Gitea's /api/v1/repos/{o}/{r}/pulls) with a page
// holding one open pull request from a fork ("evil/gitops") on a branch
// named after the page, and a Link header to the next page: the listing
// never ends and never matches. Other paths get 404.
func PullsForever() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/pulls") || r.Method != http.MethodGet {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?%s>; rel="next"`, r.Host, r.URL.Path, q.Encode()))
		fork := map[string]any{"id": 666, "full_name": "evil/gitops", "name": "gitops", "owner": map[string]any{"login": "evil"}}
		writeJSON(w, http.StatusOK, []map[string]any{{
			"number": page, "id": page, "state": "open", "title": "t",
			"head": map[string]any{"ref": fmt.Sprintf("other-%d", page), "repo_id": 666, "repo": fork, "label": "evil:x"},
			"base": map[string]any{"ref": "stage/production", "repo_id": 1},
		}})
	})
}

// RegistryToken is the bearer token [RegistryRealm]'s token service hands
// out.
const RegistryToken = "hostile-registry-token"

// RegistryRealm is a registry whose every /v2/ request without its token
// gets 401 with a Bearer challenge naming realm as the token service (for
// example another port, or the same server under [Server.AltURL]). GET
// /token hands out [RegistryToken] to anyone (recording what they sent);
// with the token, tags/list answers one tag and manifests 404.
func RegistryRealm(realm string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token":
			writeJSON(w, http.StatusOK, map[string]any{"token": RegistryToken, "access_token": RegistryToken, "expires_in": 300})
		case r.Header.Get("Authorization") != "Bearer "+RegistryToken:
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`",service="hostile",scope="repository:app:pull"`)
			writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]string{{"code": "UNAUTHORIZED", "message": "token required"}}})
		case strings.HasSuffix(r.URL.Path, "/tags/list"):
			writeJSON(w, http.StatusOK, map[string]any{"name": "app", "tags": []string{"a"}})
		case r.URL.Path == "/v2/":
			writeJSON(w, http.StatusOK, map[string]any{})
		default:
			writeJSON(w, http.StatusNotFound, map[string]any{"errors": []map[string]string{{"code": "MANIFEST_UNKNOWN", "message": "unknown"}}})
		}
	})
}

// TagsForever is an anonymous registry whose tags/list never ends: each
// page holds perPage new tags and a Link header to the next page.
func TagsForever(perPage int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/tags/list") {
			writeJSON(w, http.StatusOK, map[string]any{})
			return
		}
		last, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Query().Get("last"), "t"))
		tags := make([]string, perPage)
		for i := range tags {
			tags[i] = fmt.Sprintf("t%09d", last+i+1)
		}
		w.Header().Set("Link", fmt.Sprintf(`<%s?n=%d&last=%s>; rel="next"`, r.URL.Path, perPage, tags[len(tags)-1]))
		writeJSON(w, http.StatusOK, map[string]any{"name": "app", "tags": tags})
	})
}

// HugeTags is an anonymous registry whose tags/list answer is size bytes
// of distinct tags in one page, streamed without holding it; announce sets
// Content-Length, otherwise the body is chunked.
func HugeTags(size int64, announce bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/tags/list") {
			writeJSON(w, http.StatusOK, map[string]any{})
			return
		}
		streamTags(w, announce, size)
	})
}

// stream writes head, then fill repeated, then tail, size bytes in all.
func stream(w http.ResponseWriter, announce bool, size int64, head, fill, tail string) {
	w.Header().Set("Content-Type", "application/json")
	if announce {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	}
	w.WriteHeader(http.StatusOK)
	left := size - int64(len(head)+len(tail))
	if _, err := io.WriteString(w, head); err != nil {
		return
	}
	chunk := strings.Repeat(fill, (64<<10)/len(fill))
	for left > 0 {
		n := min(left, int64(len(chunk)))
		if _, err := io.WriteString(w, chunk[:n]); err != nil {
			return
		}
		left -= n
	}
	_, _ = io.WriteString(w, tail)
}

// streamTags writes {"name":"app","tags":["t000000001",...]} of about size
// bytes.
func streamTags(w http.ResponseWriter, announce bool, size int64) {
	const head, tail = `{"name":"app","tags":[`, `"t"]}`
	const per = len(`"t000000001",`)
	n := (size - int64(len(head)+len(tail))) / int64(per)
	total := int64(len(head)+len(tail)) + n*int64(per)
	w.Header().Set("Content-Type", "application/json")
	if announce {
		w.Header().Set("Content-Length", strconv.FormatInt(total, 10))
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, head); err != nil {
		return
	}
	buf := make([]byte, 0, 64<<10+per)
	for i := int64(1); i <= n; i++ {
		buf = append(buf, '"', 't')
		for d := int64(100_000_000); d > 0; d /= 10 { // nine digits
			buf = append(buf, byte('0'+i/d%10))
		}
		buf = append(buf, '"', ',')
		if len(buf) >= 64<<10 || i == n {
			if _, err := w.Write(buf); err != nil {
				return
			}
			buf = buf[:0]
		}
	}
	_, _ = io.WriteString(w, tail)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
