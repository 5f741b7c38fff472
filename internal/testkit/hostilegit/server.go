package hostilegit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultCaps are the upload-pack capabilities advertised when
// [Handler.Caps] is nil: what git advertises with every upload-pack switch
// on.
var DefaultCaps = []string{
	"multi_ack", "thin-pack", "side-band", "side-band-64k", "ofs-delta", "shallow",
	"deepen-since", "deepen-not", "deepen-relative", "no-progress", "include-tag",
	"multi_ack_detailed", "allow-tip-sha1-in-want", "allow-reachable-sha1-in-want",
	"no-done", "filter", "symref=HEAD:refs/heads/main", "object-format=sha1", "agent=git/2.39.5",
}

// DefaultReceiveCaps are the receive-pack capabilities advertised when
// [Handler.ReceiveCaps] is nil.
var DefaultReceiveCaps = []string{
	"report-status", "report-status-v2", "delete-refs", "side-band-64k", "quiet",
	"atomic", "ofs-delta", "object-format=sha1", "agent=git/2.39.5",
}

// Ref is one advertised reference.
type Ref struct {
	Name string // e.g. "HEAD", "refs/heads/main", "refs/tags/v1^{}"
	ID   string // hex object id
}

// Handler says how the server answers. Nil functions answer 404.
type Handler struct {
	// Refs are advertised in order, for both services. None advertises an
	// empty repository.
	Refs []Ref
	// Caps and ReceiveCaps replace the advertised capabilities.
	Caps, ReceiveCaps []string
	// InfoRefs, when set, answers info/refs instead of the advertisement
	// built from Refs (for 401s, endless or malformed advertisements).
	InfoRefs func(*Request) Reply
	// UploadPack answers a git-upload-pack POST.
	UploadPack func(*Request) Reply
	// ReceivePack answers a git-receive-pack POST.
	ReceivePack func(*Request) Reply
}

// Request is one request the server received, parsed.
type Request struct {
	Endpoint string // "info/refs", "git-upload-pack" or "git-receive-pack"
	Service  string // info/refs: the service asked for
	N        int    // 1-based index among requests to the same endpoint
	Header   http.Header
	Body     []byte // as received

	// Upload-pack requests.
	Wants   []string
	Haves   []string
	Depth   int
	Filter  string
	Caps    []string // of the first want (or command)
	Shallow []string // shallow lines the client sent

	// Receive-pack requests.
	Commands []Command
	Pushed   []byte // the pack after the commands
}

// Command is one ref update of a receive-pack request.
type Command struct{ Old, New, Ref string }

// HasCap reports whether the client asked for capability c.
func (r *Request) HasCap(c string) bool {
	for _, x := range r.Caps {
		if x == c || strings.HasPrefix(x, c+"=") {
			return true
		}
	}
	return false
}

// Credentials returns the basic-auth user and password, or the bearer
// token as password, the request carried ("" when none).
func (r *Request) Credentials() string {
	a := r.Header.Get("Authorization")
	if v, ok := strings.CutPrefix(a, "Basic "); ok {
		raw, err := base64.StdEncoding.DecodeString(v)
		if err == nil {
			return string(raw)
		}
	}
	if v, ok := strings.CutPrefix(a, "Bearer "); ok {
		return v
	}
	return a
}

// Reply is an HTTP answer: Status (0 is 200), headers, and a body from
// Body or, when set, Stream (for endless or slow bodies; it should return
// when ctx ends).
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
	Stream func(ctx context.Context, w io.Writer) error
}

// Server is a smart-HTTP git server on 127.0.0.1 that answers as its
// [Handler] says. Every repository path is served the same way. It is safe
// for concurrent use.
type Server struct {
	URL string // base URL; use [Server.RepoURL] for a repository

	srv *httptest.Server
	h   Handler

	mu       sync.Mutex
	requests []*Request
	counts   map[string]int
}

// New starts a server answering with h and closes it when the test ends.
func New(t testing.TB, h Handler) *Server {
	t.Helper()
	s := &Server{h: h, counts: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(func() {
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
	return s
}

// RepoURL returns the clone URL of a repository named name.
func (s *Server) RepoURL(name string) string { return s.URL + "/" + name }

// Requests returns the requests received so far.
func (s *Server) Requests() []*Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Request(nil), s.requests...)
}

// Count returns how many requests reached endpoint.
func (s *Server) Count(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[endpoint]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	req := &Request{Header: r.Header.Clone(), Body: body}
	switch {
	case strings.HasSuffix(r.URL.Path, "/info/refs"):
		req.Endpoint, req.Service = "info/refs", r.URL.Query().Get("service")
	case strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
		req.Endpoint = "git-upload-pack"
		parseUploadRequest(req)
	case strings.HasSuffix(r.URL.Path, "/git-receive-pack"):
		req.Endpoint = "git-receive-pack"
		parseReceiveRequest(req)
	default:
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.counts[req.Endpoint]++
	req.N = s.counts[req.Endpoint]
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	var reply Reply
	switch req.Endpoint {
	case "info/refs":
		if s.h.InfoRefs != nil {
			reply = s.h.InfoRefs(req)
		} else {
			reply = s.advertise(req.Service)
		}
	case "git-upload-pack":
		if s.h.UploadPack == nil {
			http.NotFound(w, r)
			return
		}
		reply = s.h.UploadPack(req)
		if reply.Header == nil {
			reply.Header = http.Header{"Content-Type": {"application/x-git-upload-pack-result"}}
		}
	case "git-receive-pack":
		if s.h.ReceivePack == nil {
			http.NotFound(w, r)
			return
		}
		reply = s.h.ReceivePack(req)
		if reply.Header == nil {
			reply.Header = http.Header{"Content-Type": {"application/x-git-receive-pack-result"}}
		}
	}
	for k, v := range reply.Header {
		w.Header()[k] = v
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if reply.Stream != nil {
		_ = reply.Stream(r.Context(), &flushWriter{w: w})
		return
	}
	_, _ = w.Write(reply.Body)
}

type flushWriter struct{ w http.ResponseWriter }

func (f *flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}

// Advertisement returns the info/refs body for service with refs and caps,
// as git http-backend writes it.
func Advertisement(service string, refs []Ref, caps []string) []byte {
	var b bytes.Buffer
	b.Write(Pkt("# service=" + service + "\n"))
	b.Write(Flush())
	b.Write(RefLines(refs, caps))
	return b.Bytes()
}

// RefLines returns the reference lines of an advertisement (without the
// smart-HTTP service header), capabilities on the first, and a flush.
func RefLines(refs []Ref, caps []string) []byte {
	var b bytes.Buffer
	capStr := strings.Join(caps, " ")
	if len(refs) == 0 {
		b.Write(Pkt(strings.Repeat("0", 40) + " capabilities^{}\x00" + capStr + "\n"))
	}
	for i, r := range refs {
		line := r.ID + " " + r.Name
		if i == 0 {
			line += "\x00" + capStr
		}
		b.Write(Pkt(line + "\n"))
	}
	b.Write(Flush())
	return b.Bytes()
}

func (s *Server) advertise(service string) Reply {
	caps := s.h.Caps
	if caps == nil {
		caps = DefaultCaps
	}
	if service == "git-receive-pack" {
		caps = s.h.ReceiveCaps
		if caps == nil {
			caps = DefaultReceiveCaps
		}
	}
	if service != "git-upload-pack" && service != "git-receive-pack" {
		return Reply{Status: http.StatusForbidden, Body: []byte("service not enabled\n")}
	}
	return Reply{
		Header: http.Header{"Content-Type": {"application/x-" + service + "-advertisement"}},
		Body:   Advertisement(service, s.h.Refs, caps),
	}
}

// Pkt encodes one pkt-line.
func Pkt(payload string) []byte {
	return []byte(fmt.Sprintf("%04x%s", len(payload)+4, payload))
}

// Flush is the flush-pkt.
func Flush() []byte { return []byte("0000") }

// ERR is an ERR pkt-line carrying msg, as upload-pack sends when it
// refuses a request.
func ERR(msg string) []byte { return Pkt("ERR " + msg + "\n") }

// Sideband wraps data in side-band-64k packets on channel (1 data, 2
// progress, 3 error), without a flush.
func Sideband(channel byte, data []byte) []byte {
	var b bytes.Buffer
	for len(data) > 0 {
		n := min(len(data), 65515)
		fmt.Fprintf(&b, "%04x", n+5)
		b.WriteByte(channel)
		b.Write(data[:n])
		data = data[n:]
	}
	return b.Bytes()
}

// PackBody returns an upload-pack result carrying pack: the shallow lines
// (and their flush) when the request asked for a depth, NAK, then the pack
// side-band encoded when the request asked for a side band, then a flush.
func (r *Request) PackBody(pack []byte, shallows ...string) []byte {
	var b bytes.Buffer
	if r.Depth > 0 || len(shallows) > 0 {
		for _, s := range shallows {
			b.Write(Pkt("shallow " + s + "\n"))
		}
		b.Write(Flush())
	}
	b.Write(Pkt("NAK\n"))
	if r.HasCap("side-band-64k") || r.HasCap("side-band") {
		b.Write(Sideband(1, pack))
		b.Write(Flush())
	} else {
		b.Write(pack)
	}
	return b.Bytes()
}

// Preamble returns what precedes a pack in an answer to r: the shallow
// section (each want as shallow) when r asked for a depth, then NAK.
func (r *Request) Preamble() []byte {
	var b bytes.Buffer
	if r.Depth > 0 {
		for _, w := range r.Wants {
			b.Write(Pkt("shallow " + w + "\n"))
		}
		b.Write(Flush())
	}
	b.Write(Pkt("NAK\n"))
	return b.Bytes()
}

// Pack answers with [Request.PackBody].
func (r *Request) Pack(pack []byte, shallows ...string) Reply {
	return Reply{Body: r.PackBody(pack, shallows...)}
}

// Endless streams chunk forever (until the client goes away), pausing
// pause between writes, after prefix.
func Endless(prefix, chunk []byte, pause time.Duration) Reply {
	return Reply{Stream: func(ctx context.Context, w io.Writer) error {
		if _, err := w.Write(prefix); err != nil {
			return err
		}
		for ctx.Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return err
			}
			if pause > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(pause):
				}
			}
		}
		return ctx.Err()
	}}
}

// Trickle sends body one byte every pause, flushing each, then ends (or
// stops when the client goes away): a correct answer, too slow to wait
// for.
func Trickle(body []byte, pause time.Duration) Reply {
	return Reply{Stream: func(ctx context.Context, w io.Writer) error {
		for i := range body {
			if _, err := w.Write(body[i : i+1]); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
		}
		return nil
	}}
}

// Stall sends the status line and headers, then nothing until the client
// goes away: a server that accepted the request and hangs.
func Stall() Reply {
	return Reply{Stream: func(ctx context.Context, w io.Writer) error {
		if _, err := w.Write(nil); err != nil { // flushes the headers
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}}
}

// readPkts splits a request body into pkt-line payloads ("" for a flush)
// and returns what follows the first flush after which no pkt-line parses
// (the pack of a receive-pack request).
func readPkts(body []byte, stopAfterFlush bool) (lines []string, rest []byte) {
	br := bufio.NewReader(bytes.NewReader(body))
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return lines, nil
		}
		n, err := strconv.ParseUint(string(hdr[:]), 16, 16)
		if err != nil {
			return lines, nil
		}
		if n == 0 {
			lines = append(lines, "")
			if stopAfterFlush {
				rest, _ = io.ReadAll(br)
				return lines, rest
			}
			continue
		}
		if n < 4 {
			return lines, nil
		}
		p := make([]byte, n-4)
		if _, err := io.ReadFull(br, p); err != nil {
			return lines, nil
		}
		lines = append(lines, string(p))
	}
}

func parseUploadRequest(r *Request) {
	lines, _ := readPkts(r.Body, false)
	for _, l := range lines {
		l = strings.TrimSuffix(l, "\n")
		switch {
		case strings.HasPrefix(l, "want "):
			id, caps, _ := strings.Cut(strings.TrimPrefix(l, "want "), " ")
			if len(r.Wants) == 0 && caps != "" {
				r.Caps = strings.Fields(caps)
			}
			r.Wants = append(r.Wants, id)
		case strings.HasPrefix(l, "have "):
			r.Haves = append(r.Haves, strings.TrimPrefix(l, "have "))
		case strings.HasPrefix(l, "shallow "):
			r.Shallow = append(r.Shallow, strings.TrimPrefix(l, "shallow "))
		case strings.HasPrefix(l, "deepen "):
			r.Depth, _ = strconv.Atoi(strings.TrimPrefix(l, "deepen "))
		case strings.HasPrefix(l, "filter "):
			r.Filter = strings.TrimPrefix(l, "filter ")
		}
	}
}

func parseReceiveRequest(r *Request) {
	lines, rest := readPkts(r.Body, true)
	for _, l := range lines {
		if l == "" {
			break
		}
		l = strings.TrimSuffix(l, "\n")
		cmd, caps, hasCaps := strings.Cut(l, "\x00")
		if hasCaps && len(r.Commands) == 0 {
			r.Caps = strings.Fields(caps)
		}
		f := strings.Fields(cmd)
		if len(f) == 3 {
			r.Commands = append(r.Commands, Command{Old: f[0], New: f[1], Ref: f[2]})
		}
	}
	r.Pushed = rest
}

// ReportBody returns a receive-pack report-status body: the unpack status
// line, then lines (e.g. "ok refs/heads/x", "ng refs/heads/x reason"),
// side-band encoded when the request asked for side-band-64k.
func (r *Request) ReportBody(unpack string, lines ...string) []byte {
	var report bytes.Buffer
	report.Write(Pkt("unpack " + unpack + "\n"))
	for _, l := range lines {
		report.Write(Pkt(l + "\n"))
	}
	report.Write(Flush())
	if !r.HasCap("side-band-64k") {
		return report.Bytes()
	}
	var b bytes.Buffer
	b.Write(Sideband(1, report.Bytes()))
	b.Write(Flush())
	return b.Bytes()
}
