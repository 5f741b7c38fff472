// Package errs is the error model railyard's packages share: sentinel
// errors that know whether retrying can help, and the one IsRetryable rule.
//
// Each public package declares its own sentinels with [New] (typed as
// error, so no internal type appears in its API) and exports an
// IsRetryable that calls [IsRetryable].
package errs

import (
	"context"
	"errors"
)

// Sentinel is an error value that says whether retrying can help. It is
// immutable and safe for concurrent use.
type Sentinel struct {
	msg       string
	retryable bool
}

// New returns a sentinel with message msg; retryable says whether retrying
// the failed call may succeed.
func New(msg string, retryable bool) *Sentinel { return &Sentinel{msg: msg, retryable: retryable} }

// Error returns the message.
func (s *Sentinel) Error() string { return s.msg }

// Retryable reports whether retrying may help.
func (s *Sentinel) Retryable() bool { return s.retryable }

// Retryabler is implemented by errors that know whether retrying can help.
type Retryabler interface{ Retryable() bool }

// IsRetryable reports whether retrying the call that returned err may
// succeed. The first error in err's chain (depth first, as errors.As walks
// it) that has a Retryable method decides. Without one,
// context.DeadlineExceeded is retryable and everything else (nil,
// context.Canceled, unknown errors) is not.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var r Retryabler
	if errors.As(err, &r) {
		return r.Retryable()
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// Retryable wraps err so that [IsRetryable] answers retryable for it, while
// errors.Is and errors.As still see err. It returns nil for a nil err.
func Retryable(err error, retryable bool) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, retryable: retryable}
}

type marked struct {
	err       error
	retryable bool
}

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() error   { return m.err }
func (m *marked) Retryable() bool { return m.retryable }
