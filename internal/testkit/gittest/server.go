package gittest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Endpoint names used by [Stats], [Request] and the fault hook.
const (
	EndpointInfoRefs    = "info/refs"
	EndpointUploadPack  = "git-upload-pack"
	EndpointReceivePack = "git-receive-pack"
	EndpointOther       = "other"
)

// Server serves the bare repositories under Root over smart HTTP through a
// real `git http-backend` on 127.0.0.1. Protocol v2 works for the git CLI
// (the Git-Protocol header is passed through); go-git speaks v0.
//
// A Server is safe for concurrent use.
type Server struct {
	// URL is the server's base URL, "http://127.0.0.1:PORT".
	URL string
	// Root is the directory holding the served bare repositories.
	Root string

	srv     *httptest.Server
	backend string
	home    string
	ownRoot bool

	mu     sync.Mutex
	stats  map[string]Stats
	counts map[string]int64
	fault  func(Request) *Fault
}

// EndpointStats counts the traffic of one endpoint of one repository.
type EndpointStats struct {
	Requests      int64
	RequestBytes  int64
	ResponseBytes int64
}

func (e EndpointStats) add(o EndpointStats) EndpointStats {
	return EndpointStats{
		Requests:      e.Requests + o.Requests,
		RequestBytes:  e.RequestBytes + o.RequestBytes,
		ResponseBytes: e.ResponseBytes + o.ResponseBytes,
	}
}

// Stats maps an endpoint name (see the Endpoint constants) to its counters.
type Stats map[string]EndpointStats

// Request describes one incoming request to the fault hook.
type Request struct {
	// Repo is the repository name, e.g. "monorepo.git".
	Repo string
	// Endpoint is one of the Endpoint constants.
	Endpoint string
	// Service is the service asked for on info/refs: "git-upload-pack" or
	// "git-receive-pack"; for the other endpoints it equals Endpoint.
	Service string
	// N is the 1-based index of this request among the requests to the same
	// Repo and Endpoint since the server started (or ResetStats).
	N int64
}

// Fault says how to misbehave on one request. The zero Fault serves normally.
type Fault struct {
	// Delay sleeps before serving; a client that gives up ends the wait.
	Delay time.Duration
	// Status, if non-zero, answers with this HTTP status instead of serving.
	Status int
	// RetryAfter is sent as the Retry-After header with Status.
	RetryAfter string
	// CutAfter, if positive, aborts the connection after this many bytes of
	// the response body.
	CutAfter int64
}

// Start serves the bare repositories under root. An empty root makes a new
// temporary directory that Close removes.
func Start(root string) (*Server, error) {
	gitPath, err := gitBinary()
	if err != nil {
		return nil, err
	}
	execPath, err := exec(gitPath, "", "--exec-path")
	if err != nil {
		return nil, fmt.Errorf("gittest: locate git exec path: %w", err)
	}
	backend := filepath.Join(execPath, "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		return nil, fmt.Errorf("gittest: git-http-backend not found: %w", err)
	}
	s := &Server{backend: backend, stats: map[string]Stats{}, counts: map[string]int64{}}
	if root == "" {
		if root, err = os.MkdirTemp("", "gittest-"); err != nil {
			return nil, fmt.Errorf("gittest: %w", err)
		}
		s.ownRoot = true
	}
	if s.Root, err = filepath.Abs(root); err != nil {
		return nil, fmt.Errorf("gittest: %w", err)
	}
	if s.home, err = os.MkdirTemp("", "gittest-home-"); err != nil {
		return nil, fmt.Errorf("gittest: %w", err)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	return s, nil
}

// New starts a server on a temporary root and closes it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and removes what Start created.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
	_ = os.RemoveAll(s.home)
	if s.ownRoot {
		_ = os.RemoveAll(s.Root)
	}
}

// RepoURL returns the clone URL of the named repository.
func (s *Server) RepoURL(name string) string { return s.URL + "/" + name }

// RepoDir returns the directory of the named bare repository.
func (s *Server) RepoDir(name string) string { return filepath.Join(s.Root, filepath.FromSlash(name)) }

// InitBare creates an empty bare repository (default branch main) with
// [FullConfig] and returns its directory. The name is a relative slash path
// ending in ".git", e.g. "monorepo.git" or "org/gitops.git".
func (s *Server) InitBare(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	dir := s.RepoDir(name)
	if _, err := Git("", "init", "--quiet", "--bare", "--initial-branch=main", dir); err != nil {
		return "", err
	}
	if err := s.Configure(name, FullConfig()); err != nil {
		return "", err
	}
	return dir, nil
}

func checkName(name string) error {
	if !strings.HasSuffix(name, ".git") || path.IsAbs(name) || path.Clean(name) != name || strings.HasPrefix(name, "../") {
		return fmt.Errorf("gittest: bad repository name %q (want a clean relative path ending in .git)", name)
	}
	return nil
}

// Config holds the per-repository server settings.
type Config struct {
	AllowFilter              bool // uploadpack.allowFilter
	AllowReachableSHA1InWant bool // uploadpack.allowReachableSHA1InWant
	AllowAnySHA1InWant       bool // uploadpack.allowAnySHA1InWant
	AllowTipSHA1InWant       bool // uploadpack.allowTipSHA1InWant
	ReceivePack              bool // http.receivepack: pushes accepted
}

// FullConfig turns every setting on.
func FullConfig() Config {
	return Config{AllowFilter: true, AllowReachableSHA1InWant: true, AllowAnySHA1InWant: true, AllowTipSHA1InWant: true, ReceivePack: true}
}

// Configure writes c into the named repository's git config. Settings that
// are off are removed rather than written as false: git treats a false
// uploadpack.allowAnySHA1InWant as clearing the other want switches too.
func (s *Server) Configure(name string, c Config) error {
	if err := checkName(name); err != nil {
		return err
	}
	dir := s.RepoDir(name)
	settings := []struct {
		key string
		on  bool
	}{
		{"uploadpack.allowFilter", c.AllowFilter},
		{"uploadpack.allowReachableSHA1InWant", c.AllowReachableSHA1InWant},
		{"uploadpack.allowAnySHA1InWant", c.AllowAnySHA1InWant},
		{"uploadpack.allowTipSHA1InWant", c.AllowTipSHA1InWant},
		{"http.receivepack", c.ReceivePack},
	}
	for _, st := range settings {
		// Exit status 5 means the key was not set: nothing to remove.
		if _, err := Git(dir, "config", "--unset-all", st.key); err != nil && !strings.Contains(err.Error(), "exit status 5") {
			return err
		}
	}
	for _, st := range settings {
		if st.key == "http.receivepack" && !st.on {
			// http-backend enables receive-pack for authenticated users when
			// unset; say no explicitly.
			if _, err := Git(dir, "config", st.key, "false"); err != nil {
				return err
			}
			continue
		}
		if st.on {
			if _, err := Git(dir, "config", st.key, "true"); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stats returns a copy of the counters of the named repository.
func (s *Server) Stats(name string) Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{}
	for k, v := range s.stats[name] {
		out[k] = v
	}
	return out
}

// Total returns the counters of the named repository summed over endpoints.
func (s *Server) Total(name string) EndpointStats {
	var t EndpointStats
	for _, v := range s.Stats(name) {
		t = t.add(v)
	}
	return t
}

// ResetStats zeroes every counter, including the request indexes the fault
// hook sees.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = map[string]Stats{}
	s.counts = map[string]int64{}
}

// SetFault installs the fault hook; nil removes it. The hook is called for
// every request and may be called concurrently.
func (s *Server) SetFault(fn func(Request) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = fn
}

// split returns the repository name and endpoint of a request path.
func split(p string) (repo, endpoint string) {
	p = strings.TrimPrefix(p, "/")
	i := strings.Index(p, ".git/")
	if i < 0 {
		return strings.TrimSuffix(p, "/"), EndpointOther
	}
	repo, rest := p[:i+len(".git")], p[i+len(".git/"):]
	switch rest {
	case EndpointInfoRefs, EndpointUploadPack, EndpointReceivePack:
		return repo, rest
	}
	return repo, EndpointOther
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	repo, endpoint := split(r.URL.Path)
	service := endpoint
	if endpoint == EndpointInfoRefs {
		service = r.URL.Query().Get("service")
	}
	s.mu.Lock()
	key := repo + "\x00" + endpoint
	s.counts[key]++
	req := Request{Repo: repo, Endpoint: endpoint, Service: service, N: s.counts[key]}
	hook := s.fault
	s.mu.Unlock()

	var f Fault
	if hook != nil {
		if p := hook(req); p != nil {
			f = *p
		}
	}
	body := &countingReader{r: r.Body}
	r.Body = body
	cw := &countingWriter{w: w, limit: f.CutAfter}
	if len(r.TransferEncoding) > 0 {
		// Go's CGI host refuses chunked request bodies (400), and the git
		// CLI sends one whenever a request outgrows http.postBuffer (1 MiB:
		// a lazy fetch of many blobs). Real servers take them: buffer it.
		b, err := io.ReadAll(io.LimitReader(body, maxChunkedBody+1))
		switch {
		case err != nil:
			http.Error(cw, err.Error(), http.StatusBadRequest)
			return
		case len(b) > maxChunkedBody:
			http.Error(cw, "gittest: chunked request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body, r.ContentLength, r.TransferEncoding = io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
	}
	defer func() {
		s.mu.Lock()
		st := s.stats[repo]
		if st == nil {
			st = Stats{}
			s.stats[repo] = st
		}
		st[endpoint] = st[endpoint].add(EndpointStats{Requests: 1, RequestBytes: body.n, ResponseBytes: cw.n})
		s.mu.Unlock()
		if cw.cut {
			panic(http.ErrAbortHandler)
		}
	}()

	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f.Status != 0 {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		http.Error(cw, http.StatusText(f.Status), f.Status)
		return
	}
	h := &cgi.Handler{
		Path: s.backend,
		Root: "/",
		Dir:  s.Root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.Root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_PROTOCOL=" + r.Header.Get("Git-Protocol"),
			"HOME=" + s.home,
		},
		InheritEnv: []string{"PATH"},
		Stderr:     io.Discard,
		Logger:     discardLogger,
	}
	h.ServeHTTP(cw, r)
}

// maxChunkedBody bounds a chunked request body the server buffers.
const maxChunkedBody = 256 << 20

// countingReader counts the bytes of a request body.
type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

// errCut is returned by a countingWriter past its limit, which makes the CGI
// host kill the backend; the handler then aborts the connection.
var errCut = errors.New("gittest: response cut by fault hook")

// countingWriter counts response bytes and cuts the body at limit.
type countingWriter struct {
	w     http.ResponseWriter
	n     int64
	limit int64
	cut   bool
}

func (c *countingWriter) Header() http.Header    { return c.w.Header() }
func (c *countingWriter) WriteHeader(status int) { c.w.WriteHeader(status) }

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.cut {
		return 0, errCut
	}
	if c.limit > 0 && c.n+int64(len(p)) > c.limit {
		keep := c.limit - c.n
		n, _ := c.w.Write(p[:keep])
		c.n += int64(n)
		if f, ok := c.w.(http.Flusher); ok {
			f.Flush()
		}
		c.cut = true
		return n, errCut
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Flush sends buffered data, so clients see progress of long responses.
func (c *countingWriter) Flush() {
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
}
