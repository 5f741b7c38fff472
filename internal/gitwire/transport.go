package gitwire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/railyard-gitops/railyard/internal/retry"
)

// Services.
const (
	UploadPack  = "git-upload-pack"
	ReceivePack = "git-receive-pack"
)

// wire is one way of reaching a repository: smart HTTP or SSH.
type wire interface {
	// open starts a conversation with service: the advertisement is read
	// from session.adv (nil over HTTP when needAdv is false).
	open(ctx context.Context, service string, needAdv bool) (session, error)
	// stateless reports whether one advertisement serves any number of
	// requests (HTTP), or each request needs its own connection (SSH).
	stateless() bool
}

// session is one conversation.
type session interface {
	// adv is the advertisement, positioned at the first reference line.
	adv() *pktReader
	// request sends body and returns the answer.
	request(ctx context.Context, body []byte) (*pktReader, error)
	close()
}

// userAgent is sent on every HTTP request; some servers serve the smart
// protocol only to git clients.
const userAgent = "git/2.0 (railyard)"

// httpWire speaks smart HTTP through a client built by internal/httpx.
type httpWire struct {
	client *http.Client
	meter  *meter
	mu     sync.Mutex
	base   string // the repository URL; replaced once by a redirect of info/refs
}

func (w *httpWire) stateless() bool { return true }

func (w *httpWire) repoBase() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.base
}

type httpSession struct {
	w       *httpWire
	service string
	body    io.ReadCloser // the advertisement
	reader  *pktReader
	resp    []io.Closer
}

func (s *httpSession) adv() *pktReader { return s.reader }

func (s *httpSession) close() {
	if s.body != nil {
		drain(s.body)
		_ = s.body.Close()
	}
	for _, c := range s.resp {
		drain(c.(io.Reader))
		_ = c.Close()
	}
}

// drain reads what is left of an answer that ended (a flush after a pack
// or a report), a little at most, so that the connection can serve the
// next request and the server's process ends normally.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, 16<<10)) }

func (w *httpWire) open(ctx context.Context, service string, needAdv bool) (session, error) {
	s := &httpSession{w: w, service: service}
	if !needAdv {
		return s, nil
	}
	op := "advertisement"
	u := w.repoBase() + "/info/refs?service=" + service
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, newErr(op, KindInvalid, "bad repository URL")
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "*/*")
	resp, err := w.do(req)
	if err != nil {
		return nil, netErr(op, err)
	}
	if err := checkStatus(op, resp, "application/x-"+service+"-advertisement"); err != nil {
		return nil, err
	}
	// git follows a redirect of info/refs and sends the requests that
	// follow to where it led (http.followRedirects=initial).
	if final := resp.Request.URL; final.String() != u {
		if base, ok := strings.CutSuffix(final.Path, "/info/refs"); ok {
			nb := *final
			nb.Path, nb.RawPath, nb.RawQuery = base, "", ""
			w.mu.Lock()
			w.base = strings.TrimSuffix(nb.String(), "/")
			w.mu.Unlock()
		}
	}
	s.body = resp.Body
	body := w.meter.reader(resp.Body)
	p := newPktReader(body)
	// The smart-HTTP header: "# service=<service>" and a flush.
	line, err := p.next()
	if err != nil {
		_ = resp.Body.Close()
		return nil, readErr(op, err)
	}
	if want := "# service=" + service; string(bytes.TrimSuffix(line, []byte("\n"))) != want {
		_ = resp.Body.Close()
		return nil, newErr(op, KindCorrupt, "advertisement does not start with %q", want)
	}
	if _, err := p.next(); !errors.Is(err, errFlush) {
		_ = resp.Body.Close()
		if err == nil {
			return nil, newErr(op, KindCorrupt, "no flush after the service line")
		}
		return nil, readErr(op, err)
	}
	s.reader = p
	return s, nil
}

func (w *httpWire) do(req *http.Request) (*http.Response, error) {
	w.meter.roundTrip()
	return w.client.Do(req)
}

func (s *httpSession) request(ctx context.Context, body []byte) (*pktReader, error) {
	op := strings.TrimPrefix(s.service, "git-")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.w.repoBase()+"/"+s.service, bytes.NewReader(body))
	if err != nil {
		return nil, newErr(op, KindInvalid, "bad repository URL")
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Content-Type", "application/x-"+s.service+"-request")
	req.Header.Set("Accept", "application/x-"+s.service+"-result")
	resp, err := s.w.do(req)
	if err != nil {
		return nil, netErr(op, err)
	}
	if err := checkStatus(op, resp, "application/x-"+s.service+"-result"); err != nil {
		return nil, err
	}
	s.resp = append(s.resp, resp.Body)
	return newPktReader(s.w.meter.reader(resp.Body)), nil
}

// checkStatus turns an HTTP answer that is not the expected git answer
// into an error, quoting a little of its body (redacted later).
func checkStatus(op string, resp *http.Response, contentType string) error {
	if resp.StatusCode == http.StatusOK {
		if ct := resp.Header.Get("Content-Type"); !strings.EqualFold(strings.TrimSpace(strings.Split(ct, ";")[0]), contentType) {
			resp.Body.Close()
			return newErr(op, KindRefused, "not a smart git server: content type %q", sanitize([]byte(truncateString(ct, 80))))
		}
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	text := serverText(snippet)
	e := &Error{Op: op, Msg: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	if text != "" {
		e.Msg += ": " + text
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Kind = KindAuth
	case code == http.StatusNotFound:
		e.Kind = KindNotFound
	case retry.TransientStatus(code) || code >= 500:
		e.Kind = KindUnavailable
		e.RetryAfter = retry.After(resp.Header.Get("Retry-After"), time.Now())
	default:
		e.Kind = KindRefused
	}
	return e
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// netErr classifies a failed round trip: transient, unless the redirect
// policy or the credentials provider refused it.
func netErr(op string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its URL is the repository's, known to the caller
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	kind := KindUnavailable
	if strings.Contains(err.Error(), "redirect refused") {
		kind = KindRefused
	}
	if strings.Contains(err.Error(), "credentials provider") {
		kind = KindAuth
	}
	return &Error{Op: op, Kind: kind, Msg: err.Error(), Err: err}
}

// sshWire runs git's services over SSH: one connection per conversation,
// authenticated with go-git's SSH auth methods and host keys checked
// against known_hosts.
type sshWire struct {
	ep         *transport.Endpoint
	user       string
	key        []byte
	passphrase string
	knownHosts []string
	meter      *meter
}

func (w *sshWire) stateless() bool { return false }

type sshSession struct {
	client *ssh.Client
	sess   *ssh.Session
	stdin  io.WriteCloser
	stdout *pktReader
	stderr *limitedBuffer
	stop   func() bool
	op     string
	meter  *meter
}

// limitedBuffer keeps the first 4 KiB written to it.
type limitedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 4<<10 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (w *sshWire) auth() (gitssh.AuthMethod, error) {
	user := w.user
	if user == "" {
		user = w.ep.User
	}
	var cb ssh.HostKeyCallback
	var algos []string
	db, err := gitssh.NewKnownHostsDb(w.knownHosts...)
	if err != nil {
		return nil, newErr("connect", KindInvalid, "known_hosts: %s", osReason(err))
	}
	cb = db.HostKeyCallback()
	algos = db.HostKeyAlgorithms(w.addr())
	if len(w.key) > 0 {
		pk, err := gitssh.NewPublicKeys(user, w.key, w.passphrase)
		if err != nil {
			return nil, newErr("connect", KindInvalid, "SSH key does not parse")
		}
		pk.HostKeyCallback = cb
		pk.HostKeyAlgorithms = algos
		return pk, nil
	}
	agent, err := gitssh.NewSSHAgentAuth(user)
	if err != nil {
		return nil, &Error{Op: "connect", Kind: KindAuth, Msg: "no SSH key given and no ssh-agent: " + err.Error(), Err: err}
	}
	agent.HostKeyCallback = cb
	agent.HostKeyAlgorithms = algos
	return agent, nil
}

func (w *sshWire) addr() string {
	port := w.ep.Port
	if port <= 0 {
		port = 22
	}
	return net.JoinHostPort(w.ep.Host, strconv.Itoa(port))
}

func (w *sshWire) open(ctx context.Context, service string, _ bool) (session, error) {
	op := "connect"
	auth, err := w.auth()
	if err != nil {
		return nil, err
	}
	cfg, err := auth.ClientConfig()
	if err != nil {
		return nil, &Error{Op: op, Kind: KindInvalid, Msg: err.Error(), Err: err}
	}
	w.meter.roundTrip()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", w.addr())
	if err != nil {
		return nil, netErr(op, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, w.addr(), cfg)
	if err != nil {
		stop()
		_ = conn.Close()
		return nil, sshErr(op, err)
	}
	client := ssh.NewClient(c, chans, reqs)
	s := &sshSession{client: client, stop: stop, op: strings.TrimPrefix(service, "git-"), stderr: &limitedBuffer{}, meter: w.meter}
	fail := func(err error) (session, error) {
		s.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Op: op, Kind: KindUnavailable, Msg: err.Error(), Err: err}
	}
	if s.sess, err = client.NewSession(); err != nil {
		return fail(err)
	}
	if s.stdin, err = s.sess.StdinPipe(); err != nil {
		return fail(err)
	}
	out, err := s.sess.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	s.sess.Stderr = s.stderr
	s.stdout = newPktReader(&sshStdout{r: w.meter.reader(out), s: s})
	if err := s.sess.Start(service + " " + shellQuote(w.ep.Path)); err != nil {
		return fail(err)
	}
	return s, nil
}

// sshStdout turns the end of the command's output before an answer into
// an error that quotes its standard error.
type sshStdout struct {
	r io.Reader
	s *sshSession
}

func (o *sshStdout) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	if err == io.EOF {
		// Standard error is copied apart: let the command's end (and its
		// last words) arrive, briefly.
		done := make(chan struct{})
		go func() { _ = o.s.sess.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
		if msg := o.s.stderr.String(); strings.TrimSpace(msg) != "" {
			return n, &remoteStderr{msg: msg}
		}
	}
	return n, err
}

// remoteStderr is what the remote command said before it stopped.
type remoteStderr struct{ msg string }

func (r *remoteStderr) Error() string { return serverText([]byte(r.msg)) }

func (s *sshSession) adv() *pktReader { return s.stdout }

func (s *sshSession) request(_ context.Context, body []byte) (*pktReader, error) {
	s.meter.roundTrip()
	if _, err := s.stdin.Write(body); err != nil {
		return nil, &Error{Op: s.op, Kind: KindUnavailable, Msg: "send request: " + err.Error(), Err: err}
	}
	// Nothing more will be sent: the server may stop reading.
	_ = s.stdin.Close()
	return s.stdout, nil
}

func (s *sshSession) close() {
	if s.stdin != nil {
		_ = s.stdin.Close()
	}
	if s.sess != nil {
		_ = s.sess.Close()
	}
	_ = s.client.Close()
	s.stop()
}

// sshErr classifies a failed SSH handshake.
func sshErr(op string, err error) error {
	msg := err.Error()
	var ke *knownhosts.KeyError
	switch {
	case errors.As(err, &ke), strings.Contains(msg, "knownhosts:"):
		return &Error{Op: op, Kind: KindAuth, Msg: "host key not trusted: " + msg, Err: err}
	case strings.Contains(msg, "unable to authenticate"):
		return &Error{Op: op, Kind: KindAuth, Msg: msg, Err: err}
	}
	return &Error{Op: op, Kind: KindUnavailable, Msg: msg, Err: err}
}

// shellQuote quotes a repository path for the remote shell, as git does.
func shellQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' || c == '!' {
			b.WriteString(`'\`)
			b.WriteByte(c)
			b.WriteByte('\'')
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('\'')
	return b.String()
}
