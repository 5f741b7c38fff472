package registrytest

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"time"
)

// Request describes an incoming request to a fault hook.
type Request struct {
	Method string // HTTP method
	Path   string // URL path, e.g. "/v2/app/tags/list"
	Kind   string // one of the Kind constants, e.g. [KindTags]
	N      int64  // 1-based index among requests of this Kind since start or the last ResetStats
}

// Fault says how to spoil one request. Its zero value spoils nothing. The
// fields combine in order: Delay first, then either Status or CutAfter.
type Fault struct {
	// Delay holds the request back before it is served. It ends early,
	// aborting the connection without an answer, when the client gives up
	// (the request's context is done) or the registry closes.
	Delay time.Duration
	// Status, when non-zero, answers with this status (100–999; meant for
	// errors such as 429, 500, 503) and a distribution-style error body
	// instead of serving the request.
	Status int
	// RetryAfter, when set with Status, is sent as the Retry-After header,
	// e.g. "1" or an HTTP date.
	RetryAfter string
	// CutAfter > 0 serves the request, sends the status line, the headers
	// (including the real Content-Length) and the first CutAfter bytes of
	// the body, then aborts the connection. A body no longer than CutAfter
	// is cut before its last byte, and a response without a body (HEAD,
	// 201, 202) is aborted before anything is sent, so the client always
	// sees a broken response.
	CutAfter int64
}

// SetFault installs fn as the fault hook: it is called for every request,
// from many goroutines at once, before authentication, and the request is
// spoiled as the returned *Fault says (nil: served normally). SetFault(nil)
// removes the hook. The push helpers' requests pass through the hook too.
func (r *Registry) SetFault(fn func(Request) *Fault) {
	if fn == nil {
		r.fault.Store(nil)
		return
	}
	r.fault.Store(&fn)
}

// serveFault applies f to a request of kind.
func (r *Registry) serveFault(w http.ResponseWriter, req *http.Request, kind string, f *Fault) {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-req.Context().Done():
			panic(http.ErrAbortHandler)
		case <-r.done:
			panic(http.ErrAbortHandler)
		}
	}
	switch {
	case f.Status != 0:
		if f.Status < 100 || f.Status > 999 {
			writeError(w, http.StatusInternalServerError, "UNKNOWN", "registrytest: invalid fault status")
			return
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeError(w, f.Status, errorCode(f.Status), "fault injected by registrytest")
	case f.CutAfter > 0:
		rec := httptest.NewRecorder()
		r.serve(rec, req, kind)
		body := rec.Body.Bytes()
		if len(body) == 0 {
			panic(http.ErrAbortHandler)
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:min(f.CutAfter, int64(len(body)-1))])
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	default:
		r.serve(w, req, kind)
	}
}

// errorCode is the distribution error code matching an HTTP status.
func errorCode(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "UNAUTHORIZED"
	case http.StatusForbidden:
		return "DENIED"
	case http.StatusNotFound:
		return "NAME_UNKNOWN"
	case http.StatusTooManyRequests:
		return "TOOMANYREQUESTS"
	}
	if status >= 500 {
		return "UNAVAILABLE"
	}
	return "UNKNOWN"
}
