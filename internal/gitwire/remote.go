package gitwire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
	"github.com/railyard-gitops/railyard/internal/retry"
)

// Config describes a [Remote].
type Config struct {
	// URL is the repository: http(s)://, ssh:// or scp-like user@host:path.
	// An http(s) URL must carry no user info (pass it as Credentials).
	URL string
	// HTTPClient carries HTTP requests (its Transport, Timeout and Jar are
	// kept; internal/httpx adds credentials, the redirect policy and
	// logging). Nil means a client on http.DefaultTransport.
	HTTPClient *http.Client
	// Credentials is asked, per HTTP request, for the credentials of the
	// URL's origin; they never go to another origin.
	Credentials httpx.CredentialsFunc
	// SSHUser, SSHKey (PEM) and SSHPassphrase authenticate ssh URLs; with
	// no key, ssh-agent is used. SSHKnownHosts are the known_hosts files
	// host keys are checked against (nil: the user's).
	SSHUser       string
	SSHKey        []byte
	SSHPassphrase string
	SSHKnownHosts []string
	// Secrets collects every credential; every error and log line is
	// redacted by it. Nil means a private set.
	Secrets *redact.Set
	// Retry bounds the retries of transient failures of idempotent
	// requests (advertisements and upload-pack); pushes are never retried
	// here.
	Retry retry.Policy
	// Limits bound what the Remote accepts over its whole life.
	Limits Limits
	// Logger receives Debug lines (round trips, requests, retries),
	// redacted; nil discards.
	Logger *slog.Logger
	// Prefix starts log messages, e.g. "sparse".
	Prefix string
	// Progress, when set, is called after each answer and about every MiB
	// received.
	Progress func(Stats)
}

// Stats counts what a Remote did.
type Stats struct {
	BytesReceived int64 // answer bytes: advertisements and packs, retries included
	RoundTrips    int   // requests (HTTP) or connections and requests (SSH)
	Objects       int   // objects received in packs
}

// Remote is one operation's conversation with a repository: it may
// advertise, fetch and push any number of times, all counted against one
// set of [Limits]. It is safe for concurrent use, but the limits are
// shared.
type Remote struct {
	cfg     Config
	w       wire
	meter   *meter
	budget  *budget
	bmu     sync.Mutex // guards budget
	secrets *redact.Set
	log     *slog.Logger
}

// New validates cfg and returns a Remote; it does no I/O.
func New(cfg Config) (*Remote, error) {
	if err := cfg.Limits.Check(); err != nil {
		return nil, newErr("configure", KindInvalid, "%v", err)
	}
	secrets := cfg.Secrets
	if secrets == nil {
		secrets = &redact.Set{}
	}
	r := &Remote{cfg: cfg, secrets: secrets, budget: &budget{lim: cfg.Limits}}
	r.log = redact.Logger(cfg.Logger, secrets)
	r.meter = &meter{max: cfg.Limits.MaxTransfer, progress: cfg.Progress}
	if strings.HasPrefix(cfg.URL, "http://") || strings.HasPrefix(cfg.URL, "https://") {
		u, err := url.Parse(cfg.URL)
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, newErr("configure", KindInvalid, "repository URL %s is not a plain http(s) URL", redact.URLs(cfg.URL))
		}
		client, _, err := httpx.New(httpx.Config{
			Client: cfg.HTTPClient, Origin: cfg.URL, Credentials: cfg.Credentials,
			Secrets: secrets, Logger: cfg.Logger, Prefix: cfg.Prefix,
		})
		if err != nil {
			return nil, newErr("configure", KindInvalid, "%v", err)
		}
		r.w = &httpWire{client: client, meter: r.meter, base: strings.TrimSuffix(cfg.URL, "/")}
		return r, nil
	}
	ep, err := transport.NewEndpoint(cfg.URL)
	if err != nil || ep.Protocol != "ssh" || ep.Host == "" {
		return nil, newErr("configure", KindInvalid, "repository URL %s is not an http(s) or ssh URL", redact.URLs(cfg.URL))
	}
	if ep.Password != "" {
		secrets.Add(ep.Password)
		return nil, newErr("configure", KindInvalid, "an ssh URL must not carry a password")
	}
	secrets.Add(cfg.SSHPassphrase)
	r.w = &sshWire{ep: ep, user: cfg.SSHUser, key: cfg.SSHKey, passphrase: cfg.SSHPassphrase,
		knownHosts: cfg.SSHKnownHosts, meter: r.meter}
	return r, nil
}

// Stateless reports whether the transport serves many requests after one
// advertisement (HTTP) rather than one per connection (SSH).
func (r *Remote) Stateless() bool { return r.w.stateless() }

// Stats returns what the Remote did so far.
func (r *Remote) Stats() Stats { return r.meter.stats() }

// clean redacts err's message of every known secret.
func (r *Remote) clean(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Msg = r.secrets.String(c.Msg)
		var rej *RejectedError
		if errors.As(c.Err, &rej) {
			c.Err = &RejectedError{Ref: rej.Ref, Reason: r.secrets.String(rej.Reason)}
		}
		return &c
	}
	return r.secrets.Error(err)
}

// retry runs try until it succeeds, fails for good, or the retries are
// spent; only transient failures are tried again. A crossed transfer limit
// wins over whatever else failed.
func (r *Remote) retry(ctx context.Context, op string, try func() error) error {
	err := retry.Do(ctx, r.cfg.Retry, func(int) (retry.Outcome, error) {
		err := try()
		if err == nil {
			return retry.Outcome{}, nil
		}
		if r.meter.overLimit() {
			return retry.Outcome{}, limitErr(op, "transfer", r.meter.max)
		}
		if ctx.Err() != nil {
			return retry.Outcome{}, err
		}
		var e *Error
		if errors.As(err, &e) && e.Kind == KindUnavailable {
			return retry.Outcome{Retry: true, After: e.RetryAfter}, err
		}
		return retry.Outcome{}, err
	}, func(attempt int, wait time.Duration, err error) {
		r.log.Debug(r.cfg.Prefix+": retrying", "op", op, "attempt", attempt, "wait", wait, "err", r.clean(err))
	})
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return r.clean(err)
}

// Advertise reads the references and capabilities service
// ([UploadPack] or [ReceivePack]) advertises, keeping what req asks for.
// Transient failures are retried.
func (r *Remote) Advertise(ctx context.Context, service string, req AdvertiseRequest) (*Advertisement, error) {
	var adv *Advertisement
	err := r.retry(ctx, "advertisement", func() error {
		s, err := r.w.open(ctx, service, true)
		if err != nil {
			return err
		}
		defer s.close()
		a, err := parseAdvertisement(s.adv(), req)
		if err != nil {
			return readErr("advertisement", err)
		}
		adv = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.log.Debug(r.cfg.Prefix+": advertisement", "refs", len(adv.Refs), "empty", adv.Empty)
	return adv, nil
}

// FetchRequest is one upload-pack request.
type FetchRequest struct {
	Wants  []plumbing.Hash
	Depth  int    // deepen by this many commits; 0 for all
	Filter string // an object filter ("blob:none", "tree:0", ...); "" for none
}

// FetchResult is what one upload-pack answer brought.
type FetchResult struct {
	// Shallows are the commits the server cut the history at.
	Shallows []plumbing.Hash
	// Objects are the objects of the pack, now in the store.
	Objects []ObjectInfo
}

// Fetch sends req to upload-pack (whose capabilities caps are, from an
// advertisement) and stores the pack it answers in st, within the limits.
// Over SSH each fetch is a new connection. Transient failures are
// retried; a half-received pack is never kept.
func (r *Remote) Fetch(ctx context.Context, caps Caps, req FetchRequest, st *Store) (*FetchResult, error) {
	op := "upload-pack"
	if len(req.Wants) == 0 {
		return &FetchResult{}, nil
	}
	if req.Filter != "" && !caps.Supports("filter") {
		return nil, newErr(op, KindFilterRefused, "server does not filter objects")
	}
	if req.Depth > 0 && !caps.Supports("shallow") {
		return nil, newErr(op, KindRefused, "server does not serve shallow fetches")
	}
	body, sideband := uploadRequest(caps, req)
	r.log.Debug(r.cfg.Prefix+": upload-pack request", "wants", len(req.Wants), "depth", req.Depth, "filter", req.Filter)
	start := time.Now()
	var res *FetchResult
	err := r.retry(ctx, op, func() error {
		var err error
		res, err = r.fetchOnce(ctx, op, body, sideband, req.Depth > 0, st)
		return err
	})
	r.meter.report()
	st2 := r.meter.stats()
	r.log.Debug(r.cfg.Prefix+": upload-pack response", "duration", time.Since(start), "bytes", st2.BytesReceived,
		"objects", st2.Objects, "err", err)
	return res, err
}

func (r *Remote) fetchOnce(ctx context.Context, op string, body []byte, sideband, shallow bool, st *Store) (*FetchResult, error) {
	s, err := r.w.open(ctx, UploadPack, false)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if !r.w.stateless() {
		// A new connection advertises again; only the request matters.
		if _, err := parseAdvertisement(s.adv(), AdvertiseRequest{}); err != nil {
			return nil, readErr("advertisement", err)
		}
	}
	p, err := s.request(ctx, body)
	if err != nil {
		return nil, err
	}
	res := &FetchResult{}
	if shallow {
		if res.Shallows, err = r.shallowLines(op, p); err != nil {
			return nil, err
		}
	}
	line, err := p.next()
	if err != nil {
		return nil, readErr(op, err)
	}
	if msg, ok := errLine(line); ok {
		return nil, classifyRefusal(op, msg)
	}
	if !bytes.HasPrefix(line, []byte("NAK")) && !bytes.HasPrefix(line, []byte("ACK ")) {
		return nil, newErr(op, KindCorrupt, "expected NAK, got %q", sanitize(truncateBytes(line, 60)))
	}
	var pack io.Reader = p.r
	if sideband {
		pack = &sidebandReader{p: p}
	}
	maxCount := min(r.cfg.Limits.MaxObjects, (r.meter.max-r.meter.bytes())/minObjectBytes+1)
	r.bmu.Lock()
	info, err := st.ingest(op, pack, r.budget, maxCount)
	r.bmu.Unlock()
	if errors.Is(err, errEmptyPack) {
		return nil, newErr(op, KindUnavailable, "answer cut short: no pack")
	}
	if err != nil {
		return nil, err
	}
	r.meter.addObjects(len(info.Objects))
	res.Objects = info.Objects
	return res, nil
}

// shallowLines reads the shallow-update section of an answer to a
// request with a depth: "shallow"/"unshallow" lines, then a flush.
func (r *Remote) shallowLines(op string, p *pktReader) ([]plumbing.Hash, error) {
	var out []plumbing.Hash
	for n := int64(0); ; n++ {
		line, err := p.next()
		if errors.Is(err, errFlush) {
			return out, nil
		}
		if err != nil {
			return nil, readErr(op, err)
		}
		if msg, ok := errLine(line); ok {
			return nil, classifyRefusal(op, msg)
		}
		if n >= r.cfg.Limits.MaxObjects {
			return nil, limitErr(op, "shallow lines", r.cfg.Limits.MaxObjects)
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if id, ok := bytes.CutPrefix(line, []byte("shallow ")); ok {
			h, ok := parseHash(id)
			if !ok {
				return nil, newErr(op, KindCorrupt, "shallow line with a bad id")
			}
			out = append(out, h)
			continue
		}
		if id, ok := bytes.CutPrefix(line, []byte("unshallow ")); ok {
			if _, ok := parseHash(id); !ok {
				return nil, newErr(op, KindCorrupt, "unshallow line with a bad id")
			}
			continue
		}
		return nil, newErr(op, KindCorrupt, "expected shallow lines, got %q", sanitize(truncateBytes(line, 60)))
	}
}

// uploadRequest encodes a v0 upload-pack request: wants (the first with
// the capabilities asked for), the depth and filter, a flush, "done". No
// thin packs are asked for: every delta's base is in the same pack.
func uploadRequest(caps Caps, req FetchRequest) ([]byte, bool) {
	var want []string
	sideband := true
	switch {
	case caps.Supports("side-band-64k"):
		want = append(want, "side-band-64k")
	case caps.Supports("side-band"):
		want = append(want, "side-band")
	default:
		sideband = false
	}
	for _, c := range []string{"ofs-delta", "no-progress"} {
		if caps.Supports(c) {
			want = append(want, c)
		}
	}
	if req.Depth > 0 {
		want = append(want, "shallow")
	}
	if req.Filter != "" {
		want = append(want, "filter")
	}
	want = append(want, "agent=railyard")
	var b bytes.Buffer
	for i, h := range req.Wants {
		if i == 0 {
			pktLine(&b, "want "+h.String()+" "+strings.Join(want, " ")+"\n")
			continue
		}
		pktLine(&b, "want "+h.String()+"\n")
	}
	if req.Depth > 0 {
		pktLine(&b, fmt.Sprintf("deepen %d\n", req.Depth))
	}
	if req.Filter != "" {
		pktLine(&b, "filter "+req.Filter+"\n")
	}
	pktFlush(&b)
	pktLine(&b, "done\n")
	return b.Bytes(), sideband
}

// sidebandReader is a side-band stream whose channel-3 messages and ERR
// lines become errors.
type sidebandReader struct {
	p  *pktReader
	sb *sideband
}

func (s *sidebandReader) Read(b []byte) (int, error) {
	if s.sb == nil {
		s.sb = &sideband{p: s.p}
	}
	return s.sb.Read(b)
}

// classifyRefusal makes an error of what a server said in an ERR line or
// on side-band channel 3.
func classifyRefusal(op string, msg []byte) error {
	text := serverText(msg)
	lower := strings.ToLower(text)
	kind := KindRefused
	switch {
	case strings.Contains(lower, "not our ref"):
		kind = KindNotOurRef
	case strings.Contains(lower, "filter"):
		kind = KindFilterRefused
	case notFoundText(lower):
		kind = KindNotFound
	case strings.Contains(lower, "access denied") || strings.Contains(lower, "permission denied"):
		kind = KindAuth
	}
	return &Error{Op: op, Kind: kind, Msg: "server says: " + text}
}

// classifyStderr makes an error of what a remote command wrote to its
// standard error before it stopped (SSH).
func classifyStderr(op string, msg string) error {
	text := serverText([]byte(msg))
	lower := strings.ToLower(text)
	kind := KindRefused
	switch {
	case notFoundText(lower):
		kind = KindNotFound
	case strings.Contains(lower, "access denied") || strings.Contains(lower, "permission denied"):
		kind = KindAuth
	}
	return &Error{Op: op, Kind: kind, Msg: "server says: " + text}
}

// notFoundText recognizes servers' ways of saying there is no such
// repository.
func notFoundText(lower string) bool {
	for _, s := range []string{"repository not found", "does not appear to be a git repository",
		"no such repository", "repository does not exist", "not a git repository"} {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// meter counts what a Remote receives and enforces MaxTransfer.
type meter struct {
	max      int64
	progress func(Stats)

	mu       sync.Mutex
	received int64
	trips    int
	objects  int
	over     bool
	reported int64
}

func (m *meter) roundTrip() {
	m.mu.Lock()
	m.trips++
	m.mu.Unlock()
}

func (m *meter) addObjects(n int) {
	m.mu.Lock()
	m.objects += n
	m.mu.Unlock()
}

func (m *meter) bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.received
}

func (m *meter) overLimit() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.over
}

func (m *meter) stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{BytesReceived: m.received, RoundTrips: m.trips, Objects: m.objects}
}

// add counts n bytes and reports whether the limit still holds.
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

func (m *meter) report() {
	if m.progress == nil {
		return
	}
	m.mu.Lock()
	m.reported = m.received
	s := Stats{BytesReceived: m.received, RoundTrips: m.trips, Objects: m.objects}
	m.mu.Unlock()
	m.progress(s)
}

// reader counts the bytes read from r, failing once the transfer limit is
// crossed.
func (m *meter) reader(r io.Reader) io.Reader { return &meteredReader{r: r, m: m} }

type meteredReader struct {
	r io.Reader
	m *meter
}

func (mr *meteredReader) Read(p []byte) (int, error) {
	if mr.m.overLimit() {
		return 0, limitErr("read answer", "transfer", mr.m.max)
	}
	n, err := mr.r.Read(p)
	if !mr.m.add(n) {
		return n, limitErr("read answer", "transfer", mr.m.max)
	}
	return n, err
}
