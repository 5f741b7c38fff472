package freight

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
	"sync/atomic"
	"time"

	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/retry"
)

// callStats counts the network traffic of one operation. It travels in the
// request context, so concurrent operations over one transport count apart.
type callStats struct {
	requests      atomic.Int64
	bytesReceived atomic.Int64
}

type callStatsKey struct{}

// withCallStats returns ctx carrying a fresh counter, and the counter.
func withCallStats(ctx context.Context) (context.Context, *callStats) {
	s := &callStats{}
	return context.WithValue(ctx, callStatsKey{}, s), s
}

func callStatsFrom(ctx context.Context) *callStats {
	s, _ := ctx.Value(callStatsKey{}).(*callStats)
	return s
}

// policy is the retry policy of WithRetries.
func (o *options) policy() retry.Policy {
	return retry.Policy{Retries: o.retries, MinWait: o.minBackoff, MaxWait: o.maxBackoff}
}

// retryTransport is the git source's transport (see options.client): it
// retries idempotent requests on transient failures with internal/retry,
// counts requests and response bytes into the context's callStats and logs
// each round trip at debug level with a redacted URL. The registry side
// uses internal/httpx instead (see ImageSource), which also scopes
// credentials to their origin; go-git sets its own Authorization header,
// so the git side keeps this transport until it moves to internal/gitwire.
//
// It retries what it can see: connection errors before a response and
// retryable statuses. Failures while reading a body surface to the caller,
// whose operation-level retry (options.retry) starts the read over.
type retryTransport struct {
	base http.RoundTripper
	o    *options
}

// idempotent reports whether req may be sent twice: reads, and git's
// upload-pack POST, which only reads.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPost:
		return strings.HasSuffix(req.URL.Path, "/git-upload-pack") && (req.Body == nil || req.GetBody != nil)
	}
	return false
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stats := callStatsFrom(ctx)
	canRetry := idempotent(req)
	var resp *http.Response
	attempts := 0
	err := retry.Do(ctx, t.o.policy(), func(attempt int) (retry.Outcome, error) {
		attempts = attempt + 1
		r := req
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return retry.Outcome{}, err
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		start := time.Now()
		var err error
		resp, err = t.base.RoundTrip(r)
		if stats != nil {
			stats.requests.Add(1)
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.o.logger.LogAttrs(ctx, slog.LevelDebug, "freight: round trip",
			slog.String("method", req.Method), slog.String("url", redactURL(req.URL)),
			slog.Int("status", status), slog.Duration("elapsed", time.Since(start)),
			slog.Int("attempt", attempt+1), slog.Any("error", err))
		switch {
		case err != nil:
			return retry.Outcome{Retry: canRetry && httpx.TransientNetErr(err)}, err
		case canRetry && retry.TransientStatus(resp.StatusCode) && attempt < t.o.retries:
			out := retry.Outcome{Retry: true, After: retry.After(resp.Header.Get("Retry-After"), time.Now())}
			if out.After <= t.o.maxBackoff {
				// Another try follows: this answer is spent.
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
				return out, errSpent
			}
		}
		return retry.Outcome{}, nil
	}, nil)
	switch {
	case errors.Is(err, errSpent):
		// Only the context ends the loop while a spent answer waits.
		return nil, ctx.Err()
	case err != nil:
		if attempts > 1 && canRetry && httpx.TransientNetErr(err) {
			// Retried here already: the operation-level retry must not
			// start another round of attempts (see permanent).
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, err
	}
	if stats != nil && resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &stats.bytesReceived}
	}
	return resp, nil
}

var errSpent = errors.New("transient status")

// countingBody adds the bytes read from a response body to n.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	k, err := c.ReadCloser.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// statusErr classifies an HTTP error status. Retryable statuses reach it
// only after the transport gave up on them.
func statusErr(code int, err error) error {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	case code == http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case retry.TransientStatus(code) || code >= 500:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return fmt.Errorf("%w: %w", ErrRejected, err)
}

// permanent reports errors no retry can heal, or that were retried below
// already (ErrUnavailable).
func permanent(err error) bool {
	for _, target := range []error{ErrUnauthorized, ErrNotFound, ErrBranchNotFound, ErrRejected,
		ErrInvalid, ErrUnavailable, ErrLimitExceeded, ErrUnsafeContent, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// retry runs fn until it succeeds, fails permanently, the retries are spent
// or ctx ends, waiting as WithRetries says between tries. It covers what
// the transports cannot: responses cut while their body is read, and
// answers that do not parse.
func (o *options) retry(ctx context.Context, fn func() error) error {
	err := retry.Do(ctx, o.policy(), func(int) (retry.Outcome, error) {
		err := fn()
		return retry.Outcome{Retry: err != nil && !permanent(err)}, err
	}, nil)
	if err != nil && !permanent(err) && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

// client returns an HTTP client over the retrying, counting transport, for
// the git source.
func (o *options) client() *http.Client {
	c := http.Client{}
	if o.httpClient != nil {
		c = *o.httpClient
	}
	c.Transport = &retryTransport{base: o.transport, o: o}
	return &c
}

// redactURL renders u without user info and with query values elided, fit
// for logs and errors.
func redactURL(u *url.URL) string { return httpx.URL(u) }

// pageBuffer reads each tags/list answer whole (within the response cap
// httpx applies) before go-containerregistry's lister decodes it, and
// sends the request again when the body is cut: the lister cannot resume
// a listing after a failed page, so without this a page cut on page 15
// would restart the listing at page 1. Other requests pass through.
type pageBuffer struct {
	next http.RoundTripper
	o    *options
}

func (p *pageBuffer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/tags/list") {
		return p.next.RoundTrip(req)
	}
	ctx := req.Context()
	var out *http.Response
	err := retry.Do(ctx, p.o.policy(), func(attempt int) (retry.Outcome, error) {
		r := req
		if attempt > 0 {
			r = req.Clone(ctx)
		}
		resp, err := p.next.RoundTrip(r) // httpx retried what it could see
		if err != nil || resp.StatusCode != http.StatusOK {
			out = resp
			return retry.Outcome{}, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			var big *httpx.TooLargeError
			return retry.Outcome{Retry: !errors.As(err, &big) && httpx.TransientNetErr(err)}, err
		}
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		out = resp
		return retry.Outcome{}, nil
	}, nil)
	if err != nil {
		if httpx.TransientNetErr(err) && ctx.Err() == nil {
			// Retried here: the operation must not retry it again.
			err = fmt.Errorf("%w: tags/list page: %w", ErrUnavailable, err)
		}
		return nil, err
	}
	return out, nil
}
