package railyard

import "github.com/railyard-gitops/railyard/internal/errs"

// IsRetryable reports whether retrying the call that returned err may
// succeed, for an error from any railyard package (each also exports the
// same function). The first error in err's chain that knows answers: the
// packages' ErrUnavailable (and their errors that match it, such as
// gitops.ErrConflict) is retryable; ErrInvalid, ErrNotFound,
// ErrUnauthorized, ErrUnsafeContent and ErrLimitExceeded are not. Without
// such an error, context.DeadlineExceeded is retryable and anything else
// (nil and context.Canceled included) is not.
func IsRetryable(err error) bool { return errs.IsRetryable(err) }
