package sparse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage"
)

// errRefused reports that the server answered a request with an error
// message (for example "not our ref" or a filter it does not allow): the
// strategy cannot work with this server, a fallback may.
var errRefused = errors.New("server refused the request")

// remote is one conversation with a repository: the advertisement, then
// any number of upload-pack requests, counted and retried.
type remote struct {
	url       string // redacted, for logs and errors
	ep        *transport.Endpoint
	tr        transport.Transport
	auth      transport.AuthMethod
	stateless bool // HTTP: one session serves every request
	sess      transport.UploadPackSession
	adv       *packp.AdvRefs
	meter     *meter
	opts      *options
	log       *slog.Logger
}

func dial(v *validated, o *options) (*remote, error) {
	ep, err := transport.NewEndpoint(v.url)
	if err != nil {
		return nil, fmt.Errorf("%w: URL %s does not parse", ErrInvalidRequest, redactURL(v.url))
	}
	r := &remote{
		url:   redactURL(v.url),
		ep:    ep,
		meter: &meter{max: o.maxTransfer, progress: o.progress},
		opts:  o,
	}
	r.log = o.logger.With("url", r.url)
	switch ep.Protocol {
	case "http", "https":
		base := o.httpClient
		if base == nil {
			base = &http.Client{}
		}
		hc := *base
		rt := hc.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		hc.Transport = &meteredTransport{base: rt, meter: r.meter}
		r.tr = githttp.NewClient(&hc)
		r.stateless = true
		switch {
		case v.user != "" || v.password != "":
			r.auth = &githttp.BasicAuth{Username: v.user, Password: v.password}
		case o.httpAuth != nil:
			r.auth = o.httpAuth
		}
	case "ssh":
		r.tr = gitssh.DefaultClient
		if o.sshKey != nil {
			pk, err := gitssh.NewPublicKeys(o.sshUser, o.sshKey, o.sshPass)
			if err != nil {
				return nil, fmt.Errorf("%w: SSH key does not parse", ErrInvalidRequest)
			}
			if len(o.knownHosts) > 0 {
				if pk.HostKeyCallback, err = gitssh.NewKnownHostsCallback(o.knownHosts...); err != nil {
					return nil, fmt.Errorf("%w: known_hosts: %w", ErrInvalidRequest, err)
				}
			}
			r.auth = pk
		} else if len(o.knownHosts) > 0 {
			// No key: ssh-agent, as go-git would use, but checking host
			// keys against the files given rather than its defaults.
			cb, err := gitssh.NewKnownHostsCallback(o.knownHosts...)
			if err != nil {
				return nil, fmt.Errorf("%w: known_hosts: %w", ErrInvalidRequest, err)
			}
			agentAuth, err := gitssh.NewSSHAgentAuth(ep.User)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrTransfer, err)
			}
			agentAuth.HostKeyCallback = cb
			r.auth = agentAuth
		}
	default:
		return nil, fmt.Errorf("%w: URL %s: unsupported scheme", ErrInvalidRequest, r.url)
	}
	return r, nil
}

func (r *remote) close() {
	if r.sess != nil {
		_ = r.sess.Close()
	}
}

// advertise fetches the reference advertisement and capabilities.
func (r *remote) advertise(ctx context.Context) error {
	return r.retry(ctx, "advertisement", func() error {
		sess, err := r.tr.NewUploadPackSession(r.ep, r.auth)
		if err != nil {
			return err
		}
		r.meter.roundTrip()
		adv, err := sess.AdvertisedReferencesContext(ctx)
		if err != nil {
			_ = sess.Close()
			if errors.Is(err, transport.ErrEmptyRemoteRepository) {
				return fmt.Errorf("%w: empty repository", ErrCommitNotFound)
			}
			return err
		}
		if r.stateless {
			r.sess = sess
		} else {
			_ = sess.Close()
		}
		r.adv = adv
		return nil
	})
}

// supports reports whether the server advertised capability c.
func (r *remote) supports(c capability.Capability) bool {
	return r.adv.Capabilities.Supports(c)
}

// advertises reports whether h is the tip of an advertised reference.
func (r *remote) advertises(h plumbing.Hash) bool {
	for _, v := range r.adv.References {
		if v == h {
			return true
		}
	}
	for _, v := range r.adv.Peeled {
		if v == h {
			return true
		}
	}
	return false
}

// fetch sends one upload-pack request for wants and stores the pack it
// returns in st. It returns the shallow boundary the server reported.
func (r *remote) fetch(ctx context.Context, st storage.Storer, wants []plumbing.Hash, depth int, filter packp.Filter) (shallows []plumbing.Hash, err error) {
	req := packp.NewUploadPackRequestFromCapabilities(r.adv.Capabilities)
	req.Wants = wants
	if depth > 0 {
		req.Depth = packp.DepthCommits(depth)
		req.Capabilities.Set(capability.Shallow)
	}
	if filter != "" {
		req.Filter = filter
		req.Capabilities.Set(capability.Filter)
	}
	if r.supports(capability.NoProgress) {
		req.Capabilities.Set(capability.NoProgress)
	}
	// Servers send deltas against objects we do not have only if asked.
	req.Capabilities.Delete(capability.ThinPack)
	r.log.Debug("upload-pack request", "wants", len(wants), "depth", depth, "filter", string(filter))
	start := time.Now()
	err = r.retry(ctx, "upload-pack", func() error {
		shallows, err = r.uploadPack(ctx, st, req)
		return err
	})
	_, objs, _ := r.meter.stats()
	r.log.Debug("upload-pack response", "duration", time.Since(start), "bytes", r.meter.bytes(), "objects", objs, "err", err)
	return shallows, err
}

func (r *remote) uploadPack(ctx context.Context, st storage.Storer, req *packp.UploadPackRequest) ([]plumbing.Hash, error) {
	sess := r.sess
	if !r.stateless {
		// Stateful transports serve one request per connection.
		s, err := r.tr.NewUploadPackSession(r.ep, r.auth)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		r.meter.roundTrip()
		if _, err := s.AdvertisedReferencesContext(ctx); err != nil {
			return nil, err
		}
		sess = s
	}
	r.meter.roundTrip()
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		return nil, err
	}
	defer resp.Close()
	var body io.Reader = resp
	if !r.stateless {
		body = r.meter.wrap(body)
	}
	switch {
	case req.Capabilities.Supports(capability.Sideband64k):
		body = sideband.NewDemuxer(sideband.Sideband64k, body)
	case req.Capabilities.Supports(capability.Sideband):
		body = sideband.NewDemuxer(sideband.Sideband, body)
	}
	body = &packCounter{r: body, meter: r.meter}
	if err := packfile.UpdateObjectStorage(st, body); err != nil && !errors.Is(err, packfile.ErrEmptyPackfile) {
		return nil, err
	}
	r.meter.report()
	return resp.Shallows, nil
}

// retry runs fn until it succeeds, fails permanently or the retries are
// spent, and classifies the final error.
func (r *remote) retry(ctx context.Context, what string, fn func() error) error {
	for attempt := 0; ; attempt++ {
		r.meter.startAttempt()
		err := fn()
		// Checked first: a response may cross the limit after the pack is
		// complete, where no reader sees the error.
		if r.meter.overLimit() {
			return &LimitError{Limit: "transfer", Max: r.meter.max}
		}
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s: %w", what, ctxErr)
		}
		if errors.Is(err, ErrCommitNotFound) {
			return err
		}
		if msg := err.Error(); refusal(msg) {
			return fmt.Errorf("%s: %w: %s", what, errRefused, serverMessage(msg))
		}
		transient, wait := r.meter.transient()
		if !transient || attempt >= r.opts.retries {
			return classify(what, err)
		}
		if wait <= 0 || wait > maxRetryWait {
			wait = backoff(attempt)
		}
		r.log.Debug("retrying", "request", what, "attempt", attempt+1, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(wait):
		}
	}
}

const maxRetryWait = 30 * time.Second

// refusal reports whether msg carries git upload-pack's answer to a request
// it will not serve: an "ERR" packet, an object it will not send, or a
// filter it does not allow. go-git flattens these into strings.
func refusal(msg string) bool {
	for _, s := range []string{"ERR ", "not our ref", "filter '", "filter-spec", "filtering capability"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// backoff is exponential from 100ms with full jitter, capped at 5s.
func backoff(attempt int) time.Duration {
	d := min(100*time.Millisecond<<attempt, 5*time.Second)
	return d/2 + rand.N(d/2+1)
}

// serverMessage keeps the server's words out of go-git's wrapping.
func serverMessage(msg string) string {
	if i := strings.Index(msg, "ERR "); i >= 0 {
		msg = msg[i+4:]
	}
	return truncate(strings.TrimSpace(msg))
}

// classify maps a failed request to this package's sentinels.
func classify(what string, err error) error {
	switch {
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%s: %w: repository not found", what, ErrTransfer)
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("%s: %w: authentication required or refused", what, ErrTransfer)
	case errors.Is(err, packfile.ErrMalformedPackFile), errors.Is(err, packfile.ErrBadSignature),
		errors.Is(err, packfile.ErrUnsupportedVersion), errors.Is(err, packfile.ErrInvalidObject):
		return fmt.Errorf("%s: %w: bad pack: %v", what, ErrCorrupt, err)
	}
	return fmt.Errorf("%s: %w: %v", what, ErrTransfer, err)
}

// meter counts what a fetch receives and flags transient failures. It is
// shared by the HTTP transport and the pack readers.
type meter struct {
	max      int64
	progress func(Progress)

	mu         sync.Mutex
	received   int64
	objects    int
	trips      int
	over       bool
	flaky      bool          // the current attempt failed transiently
	retryAfter time.Duration // from a 429/503 of the current attempt
	reported   int64
}

func (m *meter) roundTrip() {
	m.mu.Lock()
	m.trips++
	m.mu.Unlock()
}

func (m *meter) startAttempt() {
	m.mu.Lock()
	m.flaky, m.retryAfter = false, 0
	m.mu.Unlock()
}

func (m *meter) markTransient(after time.Duration) {
	m.mu.Lock()
	m.flaky, m.retryAfter = true, after
	m.mu.Unlock()
}

func (m *meter) transient() (bool, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.flaky, m.retryAfter
}

func (m *meter) overLimit() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.over
}

func (m *meter) bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.received
}

func (m *meter) stats() (int64, int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.received, m.objects, m.trips
}

// add counts n received bytes and reports whether the limit still holds.
func (m *meter) add(n int) bool {
	m.mu.Lock()
	m.received += int64(n)
	if m.received > m.max {
		m.over = true
	}
	ok := !m.over
	due := m.progress != nil && m.received-m.reported >= 1<<20
	m.mu.Unlock()
	if due {
		m.report()
	}
	return ok
}

func (m *meter) addObjects(n int) {
	m.mu.Lock()
	m.objects += n
	m.mu.Unlock()
}

// report calls the progress callback with the current counts.
func (m *meter) report() {
	if m.progress == nil {
		return
	}
	m.mu.Lock()
	m.reported = m.received
	p := Progress{BytesReceived: m.received, Objects: m.objects, RoundTrips: m.trips}
	m.mu.Unlock()
	m.progress(p)
}

var errTransferLimit = errors.New("transfer limit reached")

// wrap counts bytes read from r, and marks read errors as transient.
func (m *meter) wrap(r io.Reader) io.Reader { return &meteredReader{r: r, m: m} }

type meteredReader struct {
	r io.Reader
	m *meter
}

func (mr *meteredReader) Read(p []byte) (int, error) {
	n, err := mr.r.Read(p)
	if !mr.m.add(n) {
		return n, errTransferLimit
	}
	if err != nil && err != io.EOF {
		mr.m.markTransient(0)
	}
	return n, err
}

// meteredTransport counts HTTP response bytes and flags responses worth
// retrying.
type meteredTransport struct {
	base  http.RoundTripper
	meter *meter
}

func (t *meteredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.meter.markTransient(0)
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		t.meter.markTransient(retryAfter(resp.Header.Get("Retry-After")))
	}
	resp.Body = &meteredBody{meteredReader: meteredReader{r: resp.Body, m: t.meter}, c: resp.Body}
	return resp, nil
}

type meteredBody struct {
	meteredReader
	c io.Closer
}

func (b *meteredBody) Close() error { return b.c.Close() }

// retryAfter parses a Retry-After header given in seconds or as a date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// packCounter reads the object count from the pack header as it streams.
type packCounter struct {
	r      io.Reader
	meter  *meter
	header [12]byte
	seen   int
}

func (p *packCounter) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if p.seen < len(p.header) {
		c := copy(p.header[p.seen:], b[:n])
		p.seen += c
		if p.seen == len(p.header) && string(p.header[:4]) == "PACK" {
			count := uint32(p.header[8])<<24 | uint32(p.header[9])<<16 | uint32(p.header[10])<<8 | uint32(p.header[11])
			p.meter.addObjects(int(count))
		}
	}
	return n, err
}
