package gitops

import (
	"fmt"

	"github.com/railyard-gitops/railyard/internal/errs"
)

// Sentinel errors. Test for them with [errors.Is] and ask [IsRetryable]
// whether a retry can help. The first six are the ones every railyard
// package shares; the others are specific and also match one of the six
// where one fits.
var (
	// ErrInvalid reports a bad argument, Change or option (see also
	// [ErrInvalidBranch], [ErrInvalidPath], [ErrInvalidChange], which match
	// it). A retry cannot help.
	ErrInvalid error = errs.New("invalid input", false)

	// ErrNotFound reports a repository, branch or pull request that does
	// not exist. [PullRequests] implementations return it when no pull
	// request matches. A retry cannot help until someone creates it.
	ErrNotFound error = errs.New("not found", false)

	// ErrUnauthorized reports that a server (git or forge) refused the
	// credentials, or that there were none and it wanted some. A retry
	// cannot help.
	ErrUnauthorized error = errs.New("unauthorized", false)

	// ErrUnsafeContent reports a tree or pack from the server that gitops
	// refuses to build on: entries git would refuse to check out, object
	// types where others belong. A retry cannot help.
	ErrUnsafeContent error = errs.New("unsafe repository content", false)

	// ErrLimitExceeded reports a server answer beyond a limit (see
	// [LimitError]). A retry with the same limits cannot help.
	ErrLimitExceeded error = errs.New("limit exceeded", false)

	// ErrUnavailable reports a failed exchange with a server that outlasted
	// the retries: a connection error, a 429 or 5xx status, a cut or
	// malformed answer. A later retry may help.
	ErrUnavailable error = errs.New("server unavailable", true)

	// ErrInvalidBranch reports a branch name that git would refuse or that
	// could be mistaken for an option or a revision expression. The error is
	// a *[BranchError]; it matches [ErrInvalid]. A retry cannot help.
	ErrInvalidBranch error = &kind{"invalid branch name", ErrInvalid}

	// ErrInvalidPath reports a Change.Dir or file name that is not a clean,
	// relative, slash-separated path inside the repository, or two files
	// whose paths collide. The error is a *[PathError]; it matches
	// [ErrInvalid]. A retry cannot help.
	ErrInvalidPath error = &kind{"invalid path", ErrInvalid}

	// ErrInvalidChange reports a Change that cannot be committed for a reason
	// other than a bad branch or path: an empty branch, provenance fields with
	// line breaks, a message template that fails. It matches [ErrInvalid]. A
	// retry cannot help.
	ErrInvalidChange error = &kind{"invalid change", ErrInvalid}

	// ErrBaseNotFound reports that neither Change.Branch nor Change.Base
	// exists on the remote. It matches [ErrNotFound]. A retry helps only once
	// someone creates Base.
	ErrBaseNotFound error = &kind{"base branch not found", ErrNotFound}

	// ErrRepositoryNotFound reports that the git server has no repository
	// at the URL (some servers say so for private repositories without
	// credentials). It matches [ErrNotFound]. A retry cannot help.
	ErrRepositoryNotFound error = &kind{"repository not found", ErrNotFound}

	// ErrConflict reports that every attempt to push lost the race against
	// other writers of the branch. The error is a *[ConflictError]. It
	// matches [ErrUnavailable]: a later retry may succeed.
	ErrConflict error = &kind{"branch kept moving", ErrUnavailable}

	// ErrPathConflict reports that Change.Dir cannot be placed in the tree
	// because one of its parents is a file on the branch. A retry cannot help
	// until the branch changes.
	ErrPathConflict error = errs.New("path is a file on the branch", false)

	// ErrClosed reports a pull request that was closed without being merged.
	// The error is a *[ClosedError]. A retry cannot help.
	ErrClosed error = errs.New("pull request closed without merge", false)
)

// IsRetryable reports whether retrying the call that returned err may
// succeed: true for errors matching [ErrUnavailable] ([ErrConflict] among them) and
// for an expired context deadline; false for the other sentinels, a
// cancelled context, nil and errors gitops does not know.
func IsRetryable(err error) bool { return errs.IsRetryable(err) }

// kind is a specific sentinel that also matches a general one.
type kind struct {
	msg     string
	general error
}

func (k *kind) Error() string        { return k.msg }
func (k *kind) Is(target error) bool { return target == k.general }
func (k *kind) Retryable() bool      { return errs.IsRetryable(k.general) }

// LimitError reports a server answer beyond a limit. It matches
// [ErrLimitExceeded].
type LimitError struct {
	Limit string // what was limited, e.g. "transfer", "objects", "object size"
	Max   int64  // the limit
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("gitops: %s over the limit of %d", e.Limit, e.Max)
}

// Is reports whether target is [ErrLimitExceeded].
func (e *LimitError) Is(target error) bool { return target == ErrLimitExceeded }

// Retryable reports false: the same limits refuse the same answer.
func (e *LimitError) Retryable() bool { return false }

// BranchError describes a refused branch name.
type BranchError struct {
	Name   string // the name as given
	Reason string // why it was refused
}

func (e *BranchError) Error() string {
	return fmt.Sprintf("gitops: invalid branch name %q: %s", e.Name, e.Reason)
}

// Is reports whether target is [ErrInvalidBranch] or [ErrInvalid].
func (e *BranchError) Is(target error) bool {
	return target == ErrInvalidBranch || target == ErrInvalid
}

// Retryable reports false.
func (e *BranchError) Retryable() bool { return false }

// PathError describes a refused path.
type PathError struct {
	Path   string // the path as given
	Reason string // why it was refused
}

func (e *PathError) Error() string {
	return fmt.Sprintf("gitops: invalid path %q: %s", e.Path, e.Reason)
}

// Is reports whether target is [ErrInvalidPath] or [ErrInvalid].
func (e *PathError) Is(target error) bool { return target == ErrInvalidPath || target == ErrInvalid }

// Retryable reports false.
func (e *PathError) Retryable() bool { return false }

// ConflictError reports that a push kept losing races.
type ConflictError struct {
	Branch   string
	Attempts int
	Err      error // the last rejection
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("gitops: push to %q lost the race %d times: %v", e.Branch, e.Attempts, e.Err)
}

// Is reports whether target is [ErrConflict] or [ErrUnavailable].
func (e *ConflictError) Is(target error) bool {
	return target == ErrConflict || target == ErrUnavailable
}

// Retryable reports true: a later attempt may find the branch still.
func (e *ConflictError) Retryable() bool { return true }

// Unwrap returns the last rejection.
func (e *ConflictError) Unwrap() error { return e.Err }

// ClosedError reports a pull request closed without merge.
type ClosedError struct {
	Number int
	URL    string
}

func (e *ClosedError) Error() string {
	return fmt.Sprintf("gitops: pull request #%d closed without merge", e.Number)
}

// Is reports whether target is [ErrClosed].
func (e *ClosedError) Is(target error) bool { return target == ErrClosed }

// Retryable reports false.
func (e *ClosedError) Retryable() bool { return false }
