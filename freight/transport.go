package freight

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/retry"
)

// policy is the retry policy of WithRetries.
func (o *options) policy() retry.Policy {
	return o.retryPolicy
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
