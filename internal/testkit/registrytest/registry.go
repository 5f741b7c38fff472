package registrytest

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is go-containerregistry's in-process registry served on
// 127.0.0.1, wrapped for paged tag listings with Link headers, optional
// authentication, request counters and fault injection. It is safe for
// concurrent use. Start it with [Start] or [New] and stop it with
// [Registry.Close].
type Registry struct {
	// URL is the base URL, "http://127.0.0.1:PORT".
	URL string
	// Host is "127.0.0.1:PORT", the registry part of image references.
	Host string

	pusher

	opts  *options
	srv   *httptest.Server
	inner http.Handler
	done  chan struct{}
	once  sync.Once

	statsMu sync.Mutex
	stats   map[string]int64

	fault atomic.Pointer[func(Request) *Fault]

	tags tagCache
}

// Start serves a new registry on a free loopback port. The caller must
// [Registry.Close] it. It fails only on an invalid option or when no
// loopback port can be bound.
func Start(opts ...Option) (*Registry, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("registrytest: %w", err)
	}
	r := &Registry{
		opts:  o,
		inner: registry.New(registry.Logger(log.New(io.Discard, "", 0))),
		done:  make(chan struct{}),
		stats: map[string]int64{},
	}
	r.tags.init()
	r.Host = ln.Addr().String()
	r.URL = "http://" + r.Host
	r.pusher = newPusher(r.Host, o.authenticator())
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.handle))
	r.srv.Listener = ln
	r.srv.Start()
	return r, nil
}

// New starts a registry for t (failing t if that is impossible) and closes
// it when t ends.
func New(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	r, err := Start(opts...)
	if err != nil {
		t.Fatalf("registrytest: start: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

// Close stops the server: delayed requests end at once, and Close waits for
// requests in flight. Calling it again does nothing.
func (r *Registry) Close() {
	r.once.Do(func() {
		close(r.done)
		r.srv.Close()
		r.client.CloseIdleConnections()
	})
}

// handle counts the request, applies the fault hook, checks credentials,
// then serves it.
func (r *Registry) handle(w http.ResponseWriter, req *http.Request) {
	kind := classify(req)
	rq := Request{Method: req.Method, Path: req.URL.Path, Kind: kind, N: r.count(kind)}
	if fn := r.fault.Load(); fn != nil {
		if f := (*fn)(rq); f != nil {
			r.serveFault(w, req, kind, f)
			return
		}
	}
	r.serve(w, req, kind)
}

// serve answers a request that no fault intercepted.
func (r *Registry) serve(w http.ResponseWriter, req *http.Request, kind string) {
	if kind == KindToken {
		r.serveToken(w, req)
		return
	}
	if !r.authorized(w, req) {
		return
	}
	switch {
	case kind == KindTags && req.Method == http.MethodGet:
		r.serveTags(w, req)
	case kind == KindManifestPut:
		// Invalidate cached listings before and after the write, so no
		// listing that could miss it outlives the write.
		r.tags.invalidate()
		defer r.tags.invalidate()
		r.inner.ServeHTTP(w, req)
	default:
		r.inner.ServeHTTP(w, req)
	}
}
