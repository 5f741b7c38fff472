package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
)

// maxMessage bounds the part of a server's message an error quotes.
const maxMessage = 256

// Error is a refusal from the Gitea API, after the retries for transient
// statuses were spent. It matches the [gitops] sentinel for its status:
// [gitops.ErrUnauthorized] (401, 403), [gitops.ErrNotFound] (404, 410),
// [gitops.ErrUnavailable] (408, 429, 5xx and statuses no call expects;
// retryable) and [gitops.ErrInvalid] (other 4xx, such as 409 or 422). It
// is immutable and safe for concurrent use.
type Error struct {
	Op         string // e.g. "create pull request"
	StatusCode int
	Message    string // Gitea's message, redacted and truncated
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("gitea: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is reports whether target is the gitops sentinel for the status.
func (e *Error) Is(target error) bool { return target == e.sentinel() }

// Retryable reports whether a later call may succeed: true for 408, 429,
// 5xx and unexpected statuses.
func (e *Error) Retryable() bool { return e.sentinel() == gitops.ErrUnavailable }

func (e *Error) sentinel() error {
	switch {
	case e.StatusCode == http.StatusRequestTimeout, e.StatusCode == http.StatusTooManyRequests,
		e.StatusCode >= 500, e.StatusCode < 400:
		return gitops.ErrUnavailable
	case e.StatusCode == http.StatusUnauthorized, e.StatusCode == http.StatusForbidden:
		return gitops.ErrUnauthorized
	case e.StatusCode == http.StatusNotFound, e.StatusCode == http.StatusGone:
		return gitops.ErrNotFound
	}
	return gitops.ErrInvalid
}

// wrap maps what the SDK and httpx return onto gitops's error model, with
// every credential the client handed out redacted and server text
// truncated. status is the answer's status, 0 when there was none.
func wrap(op string, set *redact.Set, status int, err error) error {
	var (
		big  *httpx.TooLargeError
		cred *httpx.CredentialsError
	)
	switch {
	case errors.As(err, &big):
		return fmt.Errorf("gitea: %s: %w", op, &gitops.LimitError{Limit: "response size", Max: big.Max})
	case status >= 300 || (status > 0 && status < 200):
		return &Error{Op: op, StatusCode: status, Message: message(set, err.Error())}
	case errors.Is(err, httpx.ErrRedirect), errors.Is(err, httpx.ErrOffOrigin):
		return fmt.Errorf("gitea: %s: %w: %w", op, gitops.ErrUnsafeContent, set.Error(err))
	case errors.As(err, &cred):
		return fmt.Errorf("gitea: %s: %w: %w", op, gitops.ErrUnauthorized, set.Error(err))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("gitea: %s: %w", op, set.Error(err))
	}
	// Network errors that outlasted the retries, cut or malformed answers.
	return fmt.Errorf("gitea: %s: %w: %w", op, gitops.ErrUnavailable, set.Error(err))
}

// message is a server's text fit for an error: redacted, one line, short.
func message(set *redact.Set, s string) string {
	s = strings.Join(strings.Fields(set.String(s)), " ")
	if len(s) > maxMessage {
		s = strings.ToValidUTF8(s[:maxMessage], "") + "…"
	}
	return s
}
