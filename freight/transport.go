package freight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
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

// retryTransport retries idempotent requests on transient failures, counts
// requests and response bytes into the context's callStats and logs each
// round trip at debug level with a redacted URL.
//
// It retries what it can see: connection errors before a response and
// retryable statuses. Failures while reading a body surface to the caller,
// whose operation-level retry (options.retry) starts the read over.
type retryTransport struct {
	base http.RoundTripper
	o    *options
}

// retryableStatus reports statuses a later attempt can heal.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
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
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		start := time.Now()
		resp, err := t.base.RoundTrip(r)
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

		retry := canRetry && attempt < t.o.retries && ctx.Err() == nil &&
			((err != nil && transientNetErr(err)) || (err == nil && retryableStatus(resp.StatusCode)))
		if !retry {
			if err != nil && canRetry && ctx.Err() == nil && transientNetErr(err) {
				// Retried here already: the operation-level retry must not
				// start another round of attempts (see permanent).
				err = fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
			if resp != nil && stats != nil {
				resp.Body = &countingBody{ReadCloser: resp.Body, n: &stats.bytesReceived}
			}
			return resp, err
		}
		wait := t.o.backoff(attempt)
		if resp != nil {
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				wait = min(ra, t.o.maxBackoff)
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

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

// transientNetErr reports connection-level failures worth another attempt.
func transientNetErr(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || (errors.As(err, &ne) && ne.Timeout())
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// backoff returns the wait before retry attempt+1: exponential growth from
// minBackoff, capped at maxBackoff, with equal jitter.
func (o *options) backoff(attempt int) time.Duration {
	capped := o.maxBackoff
	if attempt < 30 {
		capped = min(o.minBackoff<<attempt, o.maxBackoff)
	}
	if capped <= 0 {
		return 0
	}
	return capped/2 + rand.N(capped/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// statusErr classifies an HTTP error status. Retryable statuses reach it
// only after retryTransport gave up on them.
func statusErr(code int, err error) error {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	case code == http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case retryableStatus(code) || code >= 500:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return fmt.Errorf("%w: %w", ErrRejected, err)
}

// permanent reports errors no retry can heal.
func permanent(err error) bool {
	for _, target := range []error{ErrUnauthorized, ErrNotFound, ErrBranchNotFound, ErrRejected,
		ErrInvalid, ErrUnavailable, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// retry runs fn until it succeeds, fails permanently, the retries are spent
// or ctx ends. It covers what retryTransport cannot: responses cut while
// their body is read, and answers that do not parse.
func (o *options) retry(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || permanent(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= o.retries {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if err := sleep(ctx, o.backoff(attempt)); err != nil {
			return err
		}
	}
}

// client returns an HTTP client over the retrying, counting transport.
func (o *options) client() *http.Client {
	return &http.Client{Transport: &retryTransport{base: o.transport, o: o}}
}

// redactURL renders u without user info and with query values elided, fit
// for logs and errors.
func redactURL(u *url.URL) string {
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
