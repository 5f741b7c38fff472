package hostilehttp

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// maxRecordedBody is how much of each request body a Server keeps.
const maxRecordedBody = 64 << 10

// Request is what a Server recorded of one request.
type Request struct {
	Method   string
	Host     string // the Host header, e.g. "localhost:4711"
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte // at most the first 64 KiB
}

// Server is an httptest server on 127.0.0.1 that records every request
// and serves it with a replaceable handler. It is safe for concurrent use.
type Server struct {
	// URL is "http://127.0.0.1:PORT".
	URL string
	// Host is "127.0.0.1:PORT".
	Host string

	srv     *httptest.Server
	handler atomic.Pointer[http.Handler]
	// closing ends when Close is called: it ends every handler's request
	// context, even one net/http would not cancel (a client that
	// pipelined a request behind a stalled one, then went away).
	closing  context.Context
	closeAll context.CancelFunc

	mu   sync.Mutex
	reqs []Request
}

// Start serves h (nil: 404 for everything) on a free loopback port. The
// caller must Close the server.
func Start(h http.Handler) *Server {
	s := &Server{}
	s.closing, s.closeAll = context.WithCancel(context.Background())
	s.SetHandler(h)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	s.Host = strings.TrimPrefix(s.URL, "http://")
	return s
}

// New starts a server for t and closes it when t ends.
func New(t testing.TB, h http.Handler) *Server {
	t.Helper()
	s := Start(h)
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, ending requests in flight (endless bodies).
func (s *Server) Close() {
	s.closeAll()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// SetHandler replaces the handler; nil answers 404.
func (s *Server) SetHandler(h http.Handler) {
	if h == nil {
		h = http.NotFoundHandler()
	}
	s.handler.Store(&h)
}

// AltURL is URL with the host name "localhost" instead of 127.0.0.1: the
// same listener, but another origin.
func (s *Server) AltURL() string { return strings.Replace(s.URL, "127.0.0.1", "localhost", 1) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{
		Method: r.Method, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body,
	})
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.closing, cancel)()
	(*s.handler.Load()).ServeHTTP(w, r.WithContext(ctx))
}

// Requests returns a copy of the requests recorded so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Count returns how many requests the server received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// Leaks returns the recorded requests that carried one of secrets anywhere:
// in a header (basic credentials decoded), the query or the body.
func (s *Server) Leaks(secrets ...string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.carries(secrets) {
			out = append(out, r)
		}
	}
	return out
}

func (r Request) carries(secrets []string) bool {
	var hay []string
	for _, vs := range r.Header {
		for _, v := range vs {
			hay = append(hay, v)
			if scheme, cred, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "basic") {
				if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
					hay = append(hay, string(raw))
				}
			}
		}
	}
	hay = append(hay, r.RawQuery, string(r.Body))
	for _, h := range hay {
		for _, s := range secrets {
			if s != "" && strings.Contains(h, s) {
				return true
			}
		}
	}
	return false
}

// Authorizations returns the Authorization headers the server received,
// "" for requests without one.
func (s *Server) Authorizations() []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Header.Get("Authorization"))
	}
	return out
}
