// Package httpx is railyard's one HTTP stack. Every package that speaks
// HTTP (git smart HTTP, registries, forges) builds its client here, so the
// rules hold everywhere:
//
//   - Credentials go only to the origin (scheme, host and port) they were
//     given for. They are added per request by the transport, never set as
//     a header a redirect could carry, and Authorization headers set by
//     higher layers are removed from requests to any other origin unless
//     that origin is trusted explicitly.
//   - Credentials may rotate: a provider is asked per request with the
//     host; every secret it hands out joins the client's redaction set.
//   - Redirects are bounded and never downgrade https to http.
//   - Idempotent requests are retried on network errors and transient
//     statuses with full-jitter backoff, honouring Retry-After.
//   - Requests and response bytes are counted per operation (see
//     [WithStats]) and logged at Debug with redacted URLs.
//   - Bodies are read through [ReadAll] with a size cap.
package httpx

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/railyard-gitops/railyard/internal/redact"
	"github.com/railyard-gitops/railyard/internal/retry"
)

// Credentials are what a provider hands out for one host. Token, when set,
// is sent as a bearer token; otherwise Username and Password as basic auth.
// The zero value means anonymous.
type Credentials struct {
	Username, Password, Token string
}

// IsZero reports whether c carries no credential.
func (c Credentials) IsZero() bool { return c == Credentials{} }

// CredentialsFunc returns the credentials for host (host[:port] of the
// origin). It is called per request, so a rotating token stays fresh.
type CredentialsFunc func(ctx context.Context, host string) (Credentials, error)

// Static returns a CredentialsFunc that always answers c.
func Static(c Credentials) CredentialsFunc {
	return func(context.Context, string) (Credentials, error) { return c, nil }
}

// DefaultMaxRedirects bounds the redirects one request follows.
const DefaultMaxRedirects = 10

// Config describes one client. Its zero value is a client without
// credentials, retries or logging on http.DefaultTransport.
type Config struct {
	// Client is the caller's client: its Transport carries every request,
	// its Timeout and Jar are kept, its CheckRedirect is replaced. Nil
	// means a zero http.Client.
	Client *http.Client
	// Origin is where Credentials go: "scheme://host[:port]" or any URL of
	// that origin. Empty means credentials go nowhere.
	Origin string
	// Credentials, when not nil, is asked for each request to Origin.
	Credentials CredentialsFunc
	// Trusted lists further origins that may receive Authorization headers
	// set by higher layers (for example a registry's token service); they
	// never receive Credentials.
	Trusted []string
	// Secrets records every credential handed out, for redaction; nil
	// means a private set.
	Secrets *redact.Set
	// Retry bounds the retries of idempotent requests; the zero value
	// sends each request once.
	Retry retry.Policy
	// Idempotent reports which requests may be sent again; nil means GET
	// and HEAD.
	Idempotent func(*http.Request) bool
	// MaxRedirects bounds the redirects one request follows; 0 means
	// [DefaultMaxRedirects], negative means none.
	MaxRedirects int
	// Logger receives one Debug line per round trip; nil discards.
	Logger *slog.Logger
	// Prefix starts every log message, e.g. "freight".
	Prefix string
	// MaxResponseSize caps the body of every response: one announcing a
	// longer Content-Length fails before any of it is read, and reading
	// past the cap fails with *[TooLargeError]. 0 means no cap.
	MaxResponseSize int64
	// ReadOnlyElsewhere refuses requests other than GET and HEAD to origins
	// that are neither Origin nor Trusted, with [ErrOffOrigin]: a redirected
	// write, or a token exchange that would carry a secret in its body to a
	// token service on another origin.
	ReadOnlyElsewhere bool
}

// New returns a client following cfg, and the redaction set its
// credentials join (cfg.Secrets or a new one). It returns an error only for
// an Origin or Trusted entry that is not an absolute http(s) URL.
func New(cfg Config) (*http.Client, *redact.Set, error) {
	set := cfg.Secrets
	if set == nil {
		set = &redact.Set{}
	}
	var origin string
	if cfg.Origin != "" {
		o, err := OriginOf(cfg.Origin)
		if err != nil {
			return nil, nil, err
		}
		origin = o
	}
	trusted := map[string]bool{}
	if origin != "" {
		trusted[origin] = true
	}
	for _, t := range cfg.Trusted {
		o, err := OriginOf(t)
		if err != nil {
			return nil, nil, err
		}
		trusted[o] = true
	}
	var base http.Client
	if cfg.Client != nil {
		base = *cfg.Client
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	idem := cfg.Idempotent
	if idem == nil {
		idem = func(r *http.Request) bool { return r.Method == http.MethodGet || r.Method == http.MethodHead }
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	maxRedirects := cfg.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = DefaultMaxRedirects
	}
	maxRedirects = max(maxRedirects, 0)
	t := &transport{
		base: rt, origin: origin, creds: cfg.Credentials, trusted: trusted, secrets: set,
		policy: cfg.Retry, idempotent: idem, log: redact.Logger(logger, set), prefix: cfg.Prefix,
		maxResponse: cfg.MaxResponseSize, readOnlyElsewhere: cfg.ReadOnlyElsewhere, maxRedirects: maxRedirects,
	}
	base.Transport = t
	base.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		return checkRedirect(req.URL, via[len(via)-1].URL, len(via), maxRedirects)
	}
	return &base, set, nil
}

// checkRedirect refuses the hop from prev to next when it is redirect
// number n (1 for the first) of a chain limited to maxRedirects, or when
// it leaves https.
func checkRedirect(next, prev *url.URL, n, maxRedirects int) error {
	if n > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrRedirect, maxRedirects)
	}
	if prev.Scheme == "https" && next.Scheme != "https" {
		return fmt.Errorf("%w: from https to %s", ErrRedirect, next.Scheme)
	}
	return nil
}

// ErrRedirect reports a redirect the client refused to follow.
var ErrRedirect = errors.New("redirect refused")

// ErrOffOrigin reports a request other than GET or HEAD to an untrusted
// origin that a client built with [Config.ReadOnlyElsewhere] refused.
var ErrOffOrigin = errors.New("request to an untrusted origin refused")

// OriginOf returns "scheme://host:port" of an absolute http(s) URL, lower
// case, with the scheme's default port made explicit.
func OriginOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("httpx: origin %q is not an absolute http(s) URL", redact.URLs(raw))
	}
	return origin(u), nil
}

func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

type transport struct {
	base       http.RoundTripper
	origin     string
	creds      CredentialsFunc
	trusted    map[string]bool
	secrets    *redact.Set
	policy     retry.Policy
	idempotent func(*http.Request) bool
	log        *slog.Logger
	prefix     string

	maxResponse       int64
	readOnlyElsewhere bool
	maxRedirects      int
}

// RetryError is returned when the transport spent its retries on a
// transient network error: the operation above must not retry again.
type RetryError struct {
	Attempts int
	Err      error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (after %d attempts)", e.Err, e.Attempts)
}

func (e *RetryError) Unwrap() error { return e.Err }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stats := statsFrom(ctx)
	reqOrigin := origin(req.URL)
	// Clients above this one (go-containerregistry's, the forges' SDKs) may
	// follow redirects with a policy of their own: the chain a request
	// carries is checked here too, so no client loops or downgrades.
	if hops, prev := redirectChain(req); prev != nil {
		if err := checkRedirect(req.URL, prev, hops, t.maxRedirects); err != nil {
			return nil, err
		}
	}
	if t.readOnlyElsewhere && !t.trusted[reqOrigin] && req.Method != http.MethodGet && req.Method != http.MethodHead {
		return nil, fmt.Errorf("%w: %s %s", ErrOffOrigin, req.Method, URL(req.URL))
	}
	canRetry := t.idempotent(req) && (req.Body == nil || req.Body == http.NoBody || req.GetBody != nil)
	var resp *http.Response
	attempts := 0
	err := retry.Do(ctx, t.policy, func(attempt int) (retry.Outcome, error) {
		attempts = attempt + 1
		r := req.Clone(ctx)
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return retry.Outcome{}, err
			}
			r.Body = body
		}
		if err := t.authorize(ctx, r, reqOrigin); err != nil {
			return retry.Outcome{}, err
		}
		start := time.Now()
		var err error
		resp, err = t.base.RoundTrip(r)
		if stats != nil {
			stats.Requests.Add(1)
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.log.LogAttrs(ctx, slog.LevelDebug, t.prefix+": round trip",
			slog.String("method", req.Method), slog.String("url", URL(req.URL)),
			slog.Int("status", status), slog.Duration("elapsed", time.Since(start)),
			slog.Int("attempt", attempt+1), slog.Any("error", err))
		switch {
		case err != nil:
			return retry.Outcome{Retry: canRetry && TransientNetErr(err)}, err
		case canRetry && retry.TransientStatus(resp.StatusCode):
			out := retry.Outcome{Retry: true, After: retry.After(resp.Header.Get("Retry-After"), time.Now())}
			if attempt < t.policy.Retries && (t.policy.MaxWait <= 0 || out.After <= t.policy.MaxWait) {
				// Another try follows: this answer is spent.
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
				return out, errStatus
			}
		}
		return retry.Outcome{}, nil
	}, nil)
	if errors.Is(err, errStatus) {
		// The loop ended while waiting to retry a spent answer: only the
		// context ends it there.
		err = ctx.Err()
		resp = nil
	}
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		err = t.secrets.Error(err)
		if attempts > 1 && TransientNetErr(err) {
			return nil, &RetryError{Attempts: attempts, Err: err}
		}
		return nil, err
	}
	if t.maxResponse > 0 && resp.Body != nil {
		if resp.ContentLength > t.maxResponse {
			resp.Body.Close()
			return nil, &TooLargeError{Max: t.maxResponse}
		}
		resp.Body = LimitBody(resp.Body, t.maxResponse)
	}
	if stats != nil && resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &stats.BytesReceived}
	}
	return resp, nil
}

// redirectChain returns how many redirects led to req and the URL of the
// request that was redirected to it (nil when req is no redirect).
func redirectChain(req *http.Request) (int, *url.URL) {
	if req.Response == nil || req.Response.Request == nil {
		return 0, nil
	}
	n := 0
	for r := req; r.Response != nil && r.Response.Request != nil && n <= 1000; r = r.Response.Request {
		n++
	}
	return n, req.Response.Request.URL
}

var errStatus = errors.New("transient status")

// authorize adds the origin's credentials to r, or removes an
// Authorization header r must not carry to its origin.
func (t *transport) authorize(ctx context.Context, r *http.Request, reqOrigin string) error {
	if !t.trusted[reqOrigin] {
		r.Header.Del("Authorization")
		r.Header.Del("Proxy-Authorization")
		return nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		// Set by a higher layer (an SDK, a token exchange): a server may
		// echo it, so it joins the redaction set.
		recordAuthorization(t.secrets, h)
		return nil
	}
	if reqOrigin != t.origin || t.creds == nil {
		return nil
	}
	c, err := t.creds(ctx, r.URL.Host)
	if err != nil {
		return &CredentialsError{Err: t.secrets.Error(err)}
	}
	t.secrets.Add(c.Password, c.Token)
	switch {
	case c.Token != "":
		t.secrets.Add("Bearer " + c.Token)
		r.Header.Set("Authorization", "Bearer "+c.Token)
	case c.Username != "" || c.Password != "":
		enc := base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))
		t.secrets.Add(enc)
		r.Header.Set("Authorization", "Basic "+enc)
	}
	return nil
}

// recordAuthorization adds the secrets of an Authorization header value to
// set: the whole value, its credential, and for basic auth the password.
func recordAuthorization(set *redact.Set, h string) {
	scheme, cred, ok := strings.Cut(h, " ")
	set.Add(h)
	if !ok {
		return
	}
	cred = strings.TrimSpace(cred)
	set.Add(cred)
	if strings.EqualFold(scheme, "basic") {
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			if _, pw, ok := strings.Cut(string(raw), ":"); ok {
				set.Add(pw)
			}
		}
	}
}

// CredentialsError reports that the credentials provider failed.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string { return "credentials provider: " + e.Err.Error() }
func (e *CredentialsError) Unwrap() error { return e.Err }

// TransientNetErr reports connection-level failures worth another try:
// resets, refusals, cut streams and timeouts, but not the caller's context
// ending.
func TransientNetErr(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// URL renders u for logs and errors: no user info, query values elided,
// no fragment.
func URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	c.Fragment = ""
	return c.String()
}

// Stats counts the traffic of one operation. It travels in the request
// context, so concurrent operations over one client count apart.
type Stats struct {
	Requests      atomic.Int64
	BytesReceived atomic.Int64
}

type statsKey struct{}

// WithStats returns ctx carrying a fresh counter, and the counter.
func WithStats(ctx context.Context) (context.Context, *Stats) {
	s := &Stats{}
	return context.WithValue(ctx, statsKey{}, s), s
}

func statsFrom(ctx context.Context) *Stats {
	s, _ := ctx.Value(statsKey{}).(*Stats)
	return s
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	k, err := c.ReadCloser.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// TooLargeError reports a body longer than the cap [ReadAll] was given.
type TooLargeError struct{ Max int64 }

func (e *TooLargeError) Error() string { return fmt.Sprintf("response larger than %d bytes", e.Max) }

// ReadAll reads r to its end, failing with *[TooLargeError] as soon as it
// holds more than max bytes: memory never exceeds max+1 bytes.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &TooLargeError{Max: max}
	}
	return b, nil
}

// LimitBody returns a body that fails with *[TooLargeError] once more than
// max bytes were read from it, for decoders that stream.
func LimitBody(rc io.ReadCloser, max int64) io.ReadCloser {
	return &limitedBody{rc: rc, left: max, max: max}
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
	max  int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, &TooLargeError{Max: l.max}
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n - 1, &TooLargeError{Max: l.max}
	}
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }
