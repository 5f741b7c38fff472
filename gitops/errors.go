package gitops

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test for them with [errors.Is]; the typed errors below
// match the sentinel of their kind.
var (
	// ErrInvalidBranch reports a branch name that git would refuse or that
	// could be mistaken for an option or a revision expression. The error is
	// a *[BranchError]. A retry cannot help.
	ErrInvalidBranch = errors.New("invalid branch name")

	// ErrInvalidPath reports a Change.Dir or file name that is not a clean,
	// relative, slash-separated path inside the repository, or two files
	// whose paths collide. The error is a *[PathError]. A retry cannot help.
	ErrInvalidPath = errors.New("invalid path")

	// ErrInvalidChange reports a Change that cannot be committed for a reason
	// other than a bad branch or path: an empty branch, provenance fields with
	// line breaks, a message template that fails. A retry cannot help.
	ErrInvalidChange = errors.New("invalid change")

	// ErrBaseNotFound reports that neither Change.Branch nor Change.Base
	// exists on the remote. A retry helps only once someone creates Base.
	ErrBaseNotFound = errors.New("base branch not found")

	// ErrConflict reports that every attempt to push lost the race against
	// other writers of the branch. The error is a *[ConflictError]. A later
	// retry may succeed.
	ErrConflict = errors.New("branch kept moving")

	// ErrAuth reports that the git server refused the credentials, or that
	// there were none and it wanted some. A retry cannot help.
	ErrAuth = errors.New("git server refused access")

	// ErrRepositoryNotFound reports that the git server has no repository
	// at the URL (some servers say so for private repositories without
	// credentials). A retry cannot help.
	ErrRepositoryNotFound = errors.New("repository not found")

	// ErrTransport reports a failed exchange with the git server: a
	// connection error, an error status, a cut or malformed answer. Commit
	// retries these within its attempts; once they run out, a later retry
	// may help unless the error also matches [ErrAuth] or
	// [ErrRepositoryNotFound].
	ErrTransport = errors.New("git transport failed")

	// ErrPathConflict reports that Change.Dir cannot be placed in the tree
	// because one of its parents is a file on the branch. A retry cannot help
	// until the branch changes.
	ErrPathConflict = errors.New("path is a file on the branch")

	// ErrUpToDate is returned by [Repo.Propose] when the target branch already
	// holds the rendered tree: nothing is pushed and no pull request is opened
	// or updated.
	ErrUpToDate = errors.New("target already holds the change")

	// ErrNotFound is returned by [PullRequests] implementations when no pull
	// request matches.
	ErrNotFound = errors.New("pull request not found")

	// ErrClosed reports a pull request that was closed without being merged.
	// The error is a *[ClosedError]. A retry cannot help.
	ErrClosed = errors.New("pull request closed without merge")
)

// BranchError describes a refused branch name.
type BranchError struct {
	Name   string // the name as given
	Reason string // why it was refused
}

func (e *BranchError) Error() string {
	return fmt.Sprintf("gitops: invalid branch name %q: %s", e.Name, e.Reason)
}

// Is reports whether target is [ErrInvalidBranch].
func (e *BranchError) Is(target error) bool { return target == ErrInvalidBranch }

// PathError describes a refused path.
type PathError struct {
	Path   string // the path as given
	Reason string // why it was refused
}

func (e *PathError) Error() string {
	return fmt.Sprintf("gitops: invalid path %q: %s", e.Path, e.Reason)
}

// Is reports whether target is [ErrInvalidPath].
func (e *PathError) Is(target error) bool { return target == ErrInvalidPath }

// ConflictError reports that a push kept losing races.
type ConflictError struct {
	Branch   string
	Attempts int
	Err      error // the last rejection
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("gitops: push to %q lost the race %d times: %v", e.Branch, e.Attempts, e.Err)
}

// Is reports whether target is [ErrConflict].
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

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
