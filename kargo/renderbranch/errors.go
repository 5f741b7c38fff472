package renderbranch

import (
	"strconv"

	"github.com/railyard-gitops/railyard"
)

// Sentinel errors. Both match with [errors.Is]; neither is retryable.
var (
	// ErrInvalidConfig reports a Config refused before any I/O, or a
	// deployment whose policy or render cannot be delivered (an empty
	// render, a review deployment without a forge). Running again with the
	// same configuration cannot help.
	ErrInvalidConfig error = &sentinel{msg: "renderbranch: invalid config"}
	// ErrClosed reports that the pull request of a review deployment was
	// closed without being merged. It also matches gitops.ErrClosed.
	ErrClosed error = &sentinel{msg: "renderbranch: pull request closed without merge"}
)

// sentinel is an error that knows whether retrying can help, the
// convention railyard's packages share: the first error in a chain with a
// Retryable method decides.
type sentinel struct {
	msg       string
	retryable bool
}

func (s *sentinel) Error() string   { return s.msg }
func (s *sentinel) Retryable() bool { return s.retryable }

// marked makes an error retryable (or not) for IsRetryable while errors.Is
// and errors.As still see it.
type marked struct {
	err       error
	retryable bool
}

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() error   { return m.err }
func (m *marked) Retryable() bool { return m.retryable }

// closedError is ErrClosed for one pull request; it also matches the
// gitops error it came from.
type closedError struct {
	number int
	err    error // the gitops error, matching gitops.ErrClosed
}

func (e *closedError) Error() string {
	return "renderbranch: pull request #" + strconv.Itoa(e.number) + " was closed without merge"
}
func (e *closedError) Is(target error) bool { return target == ErrClosed }
func (e *closedError) Unwrap() error        { return e.err }
func (e *closedError) Retryable() bool      { return false }

// IsRetryable reports whether running the step again with the same
// configuration may succeed after err, as [railyard.IsRetryable] answers
// it: the first error in err's chain that knows decides (railyard's
// errors do, as do this package's); without one, context.DeadlineExceeded
// is retryable and everything else is not.
func IsRetryable(err error) bool { return railyard.IsRetryable(err) }
