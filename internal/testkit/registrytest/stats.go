package registrytest

import (
	"maps"
	"net/http"
	"strings"
)

// Request kinds counted by [Registry.Stats] and passed to fault hooks in
// [Request.Kind].
const (
	KindTags         = "tags/list"     // /v2/<repo>/tags/list
	KindManifestHead = "manifest HEAD" // HEAD /v2/<repo>/manifests/<ref>
	KindManifestGet  = "manifest GET"  // GET /v2/<repo>/manifests/<ref>
	KindManifestPut  = "manifest PUT"  // PUT or DELETE /v2/<repo>/manifests/<ref>
	KindBlob         = "blob"          // GET, HEAD or DELETE /v2/<repo>/blobs/<digest>
	KindUpload       = "upload"        // anything under /v2/<repo>/blobs/uploads/
	KindToken        = "token"         // the bearer token endpoint, GET /token
	KindOther        = "other"         // the /v2/ ping, the catalog and the rest
)

var kinds = []string{KindTags, KindManifestHead, KindManifestGet, KindManifestPut, KindBlob, KindUpload, KindToken, KindOther}

// classify names the kind of an incoming request, routing as the wrapped
// registry does.
func classify(req *http.Request) string {
	p := req.URL.Path
	if p == tokenPath {
		return KindToken
	}
	repo := repoOf(p)
	if repo == "" {
		return KindOther
	}
	rest := strings.TrimPrefix(p, "/v2/"+repo+"/")
	kind, ref, _ := strings.Cut(rest, "/")
	switch {
	case kind == "tags" && !strings.Contains(ref, "/"):
		return KindTags
	case kind == "manifests" && !strings.Contains(ref, "/"):
		switch req.Method {
		case http.MethodHead:
			return KindManifestHead
		case http.MethodGet:
			return KindManifestGet
		default:
			return KindManifestPut
		}
	case kind == "blobs" && (ref == "uploads" || strings.HasPrefix(ref, "uploads/")):
		return KindUpload
	case kind == "blobs" && !strings.Contains(ref, "/"):
		return KindBlob
	}
	return KindOther
}

// count records one request of kind and returns its 1-based index among
// requests of that kind since the last reset.
func (r *Registry) count(kind string) int64 {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	r.stats[kind]++
	return r.stats[kind]
}

// Stats returns how many requests of each kind the registry has received
// since it started or since the last [Registry.ResetStats], including those
// made by the push helpers and those answered by a fault or a 401. Every kind
// constant is present, zero when unseen. The map is a copy.
func (r *Registry) Stats() map[string]int64 {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	out := make(map[string]int64, len(kinds))
	for _, k := range kinds {
		out[k] = 0
	}
	maps.Copy(out, r.stats)
	return out
}

// ResetStats sets every counter to zero; the next request of each kind gets
// [Request.N] 1 again.
func (r *Registry) ResetStats() {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	clear(r.stats)
}
