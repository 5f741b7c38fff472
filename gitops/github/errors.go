package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v75/github"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
)

// maxMessage bounds the part of a server's message an error quotes.
const maxMessage = 256

// Error is a refusal from the GitHub API, after the retries for transient
// statuses were spent. It matches the [gitops] sentinel for its status:
// [gitops.ErrUnauthorized] (401, 403), [gitops.ErrNotFound] (404, 410),
// [gitops.ErrUnavailable] (408, 429, 5xx, rate limits and statuses no
// call expects, such as an unfollowed redirect; retryable) and
// [gitops.ErrInvalid] (other 4xx, such as 422 "Validation Failed"). It is
// immutable and safe for concurrent use.
type Error struct {
	Op         string // e.g. "create pull request"
	StatusCode int
	Message    string // GitHub's message, redacted and truncated
	rateLimit  bool
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("github: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is reports whether target is the gitops sentinel for the status.
func (e *Error) Is(target error) bool { return target == e.sentinel() }

// Retryable reports whether a later call may succeed: true for 408, 429,
// 5xx, rate limits and unexpected statuses.
func (e *Error) Retryable() bool { return e.sentinel() == gitops.ErrUnavailable }

func (e *Error) sentinel() error {
	switch {
	case e.rateLimit, e.StatusCode == http.StatusRequestTimeout, e.StatusCode == http.StatusTooManyRequests,
		e.StatusCode >= 500, e.StatusCode < 400:
		return gitops.ErrUnavailable
	case e.StatusCode == http.StatusUnauthorized, e.StatusCode == http.StatusForbidden:
		return gitops.ErrUnauthorized
	case e.StatusCode == http.StatusNotFound, e.StatusCode == http.StatusGone:
		return gitops.ErrNotFound
	}
	return gitops.ErrInvalid
}

// wrap maps what go-github, ghinstallation and httpx return onto gitops's
// error model, with every credential the client handed out redacted and
// server text truncated.
func wrap(op string, set *redact.Set, err error) error {
	var (
		er   *gh.ErrorResponse
		rl   *gh.RateLimitError
		arl  *gh.AbuseRateLimitError
		he   *ghinstallation.HTTPError
		big  *httpx.TooLargeError
		cred *httpx.CredentialsError
	)
	switch {
	case errors.As(err, &rl):
		return &Error{Op: op, StatusCode: statusOf(rl.Response), Message: message(set, rl.Message), rateLimit: true}
	case errors.As(err, &arl):
		return &Error{Op: op, StatusCode: statusOf(arl.Response), Message: message(set, arl.Message), rateLimit: true}
	case errors.As(err, &er) && er.Response != nil:
		return &Error{Op: op, StatusCode: er.Response.StatusCode, Message: message(set, er.Message)}
	case errors.As(err, &he) && he.Response != nil:
		return &Error{Op: op + ": create installation token", StatusCode: he.Response.StatusCode}
	case errors.As(err, &big):
		return fmt.Errorf("github: %s: %w", op, &gitops.LimitError{Limit: "response size", Max: big.Max})
	case errors.Is(err, httpx.ErrRedirect), errors.Is(err, httpx.ErrOffOrigin):
		return fmt.Errorf("github: %s: %w: %w", op, gitops.ErrUnsafeContent, set.Error(err))
	case errors.As(err, &cred):
		return fmt.Errorf("github: %s: %w: %w", op, gitops.ErrUnauthorized, set.Error(err))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("github: %s: %w", op, set.Error(err))
	}
	// Network errors that outlasted the retries, cut or malformed answers.
	return fmt.Errorf("github: %s: %w: %w", op, gitops.ErrUnavailable, set.Error(err))
}

func statusOf(r *http.Response) int {
	if r == nil {
		return http.StatusForbidden
	}
	return r.StatusCode
}

// message is a server's text fit for an error: redacted, one line, short.
func message(set *redact.Set, s string) string {
	s = strings.Join(strings.Fields(set.String(s)), " ")
	if len(s) > maxMessage {
		s = strings.ToValidUTF8(s[:maxMessage], "") + "…"
	}
	return s
}
