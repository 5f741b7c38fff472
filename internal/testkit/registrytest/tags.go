package registrytest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"sync"
)

// page is a parsed tags/list query: tags after last, at most limit of them
// (limit < 0: all).
type page struct {
	last  string
	limit int
}

// parsePage reads ?n= and ?last= as distribution v3 does: n must be a
// non-negative integer, and n above the server cap is clamped. A cap > 0 also
// applies when n is absent.
func parsePage(q url.Values, pageCap int) (page, error) {
	p := page{last: q.Get("last"), limit: -1}
	if ns := q.Get("n"); ns != "" {
		n, err := strconv.Atoi(ns)
		if err != nil || n < 0 {
			return page{}, fmt.Errorf("n=%q is not a non-negative integer", ns)
		}
		p.limit = n
	}
	if pageCap > 0 && (p.limit < 0 || p.limit > pageCap) {
		p.limit = pageCap
	}
	return p, nil
}

// apply selects the page from tags (sorted) and reports whether more tags
// follow it. Like distribution, n=0 gives an empty page and no link.
func (p page) apply(tags []string) (out []string, more bool) {
	if p.limit == 0 {
		return nil, false
	}
	i := sort.Search(len(tags), func(i int) bool { return tags[i] > p.last })
	rest := tags[i:]
	if p.limit < 0 || len(rest) <= p.limit {
		return rest, false
	}
	return rest[:p.limit], true
}

// link is the RFC 5988 Link header value pointing at the page after out.
func (p page) link(path string, out []string) string {
	q := "n=" + strconv.Itoa(p.limit) + "&last=" + url.QueryEscape(out[len(out)-1])
	return "<" + path + "?" + q + `>; rel="next"`
}

// tagCache keeps each repository's sorted tag list between listings; any
// manifest write drops it.
type tagCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]cachedTags
}

type cachedTags struct {
	gen  uint64
	tags []string
}

func (c *tagCache) init() { c.entries = map[string]cachedTags{} }

func (c *tagCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// get returns the cached tags of repo, or the current generation to pass to
// put once they are read.
func (c *tagCache) get(repo string) ([]string, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[repo]
	return e.tags, c.gen, ok && e.gen == c.gen
}

func (c *tagCache) put(repo string, gen uint64, tags []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.entries[repo] = cachedTags{gen: gen, tags: tags}
	}
}

// serveTags answers GET /v2/<repo>/tags/list with paging and Link headers.
// The full list comes from the wrapped registry, which is asked without
// ?n= and ?last= (its own paging is what drops tags).
func (r *Registry) serveTags(w http.ResponseWriter, req *http.Request) {
	p, err := parsePage(req.URL.Query(), r.opts.pageSizeCap)
	if err != nil {
		writeError(w, http.StatusBadRequest, "PAGINATION_NUMBER_INVALID", err.Error())
		return
	}
	repo := repoOf(req.URL.Path)
	tags, gen, ok := r.tags.get(repo)
	if !ok {
		full := req.Clone(req.Context())
		full.URL.RawQuery = ""
		rec := httptest.NewRecorder()
		r.inner.ServeHTTP(rec, full)
		if rec.Code != http.StatusOK {
			maps.Copy(w.Header(), rec.Header())
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		var body tagList
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			writeError(w, http.StatusInternalServerError, "UNKNOWN", "decoding the inner tag list: "+err.Error())
			return
		}
		tags = body.Tags
		slices.Sort(tags)
		r.tags.put(repo, gen, tags)
	}
	out, more := p.apply(tags)
	if more {
		w.Header().Set("Link", p.link(req.URL.EscapedPath(), out))
	}
	if out == nil {
		out = []string{}
	}
	writeJSON(w, http.StatusOK, tagList{Name: repo, Tags: out})
}

// tagList is the body of a tags/list response.
type tagList struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

// writeJSON answers with status and v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers with a distribution-style error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeJSON(w, status, struct {
		Errors []detail `json:"errors"`
	}{[]detail{{code, msg}}})
}
