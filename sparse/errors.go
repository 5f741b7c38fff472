package sparse

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers branch with [errors.Is]; the typed errors below carry the
// fields a caller may need and are reached with [errors.As].
var (
	// ErrInvalidRequest reports a malformed [Request] or option: a URL that
	// is not http(s) or ssh, a commit that is not a full lower-case object
	// id, or an option value out of range. Retrying cannot help.
	ErrInvalidRequest = errors.New("invalid request")

	// ErrInvalidPath reports a cone path that is not a clean, relative,
	// slash-separated directory path (see [PathError]). Retrying cannot
	// help.
	ErrInvalidPath = errors.New("invalid cone path")

	// ErrPathNotFound reports a cone path that does not exist at the
	// requested commit, or that names a file rather than a directory (see
	// [PathError]). Retrying cannot help.
	ErrPathNotFound = errors.New("path not found at commit")

	// ErrCommitNotFound reports a commit the server does not have or will
	// not serve: unknown, unreachable from its refs, or not on the hinted
	// branch. Retrying cannot help unless the commit is pushed later.
	ErrCommitNotFound = errors.New("commit not found on server")

	// ErrRefNotFound reports that [Resolve] found no branch or tag of that
	// name on the server. Retrying cannot help unless the ref is pushed.
	ErrRefNotFound = errors.New("ref not found on server")

	// ErrUnsupportedServer reports a server that allows no strategy for
	// this request, typically one that refuses wants of exact commit ids
	// when no [Request.Branch] hint is given. Retrying cannot help; give a
	// Branch or enable uploadpack.allowReachableSHA1InWant on the server.
	ErrUnsupportedServer = errors.New("server supports no sparse strategy for this request")

	// ErrLimitExceeded reports that a limit set by [WithMaxBlobSize],
	// [WithMaxFiles], [WithMaxTotalSize] or [WithMaxTransfer] was exceeded
	// (see [LimitError]). Nothing was returned or written. Retrying with the
	// same limits cannot help.
	ErrLimitExceeded = errors.New("limit exceeded")

	// ErrUnsafeContent reports a tree the package refuses to materialize:
	// an entry name such as "..", ".git" or one containing a slash, or a
	// symbolic link whose target leaves the written tree (see [PathError]).
	// Retrying cannot help.
	ErrUnsafeContent = errors.New("unsafe repository content")

	// ErrCorrupt reports an object whose content does not hash to its id,
	// or a pack that cannot be parsed. A corrupt cache is rebuilt
	// automatically; from the network, a retry may help.
	ErrCorrupt = errors.New("corrupt object")

	// ErrTransfer reports a network or protocol failure talking to the
	// server (connection refused or cut, authentication required, server
	// error status) that persisted through the retries. A later retry may
	// help.
	ErrTransfer = errors.New("transfer failed")

	// ErrDestination reports that [Checkout.WriteTo] refused its target:
	// it exists and is not an empty directory, it is a symbolic link, or
	// its parent does not exist. Nothing was written.
	ErrDestination = errors.New("unusable destination")
)

// PathError describes a problem with one path: a cone path of the
// [Request] or an entry of a fetched tree. It wraps [ErrInvalidPath],
// [ErrPathNotFound] or [ErrUnsafeContent].
type PathError struct {
	Path   string // the offending path, quoted with %q when printed
	Reason string // short human-readable reason
	Err    error  // one of the sentinels above
}

func (e *PathError) Error() string {
	return fmt.Sprintf("%v: %q: %s", e.Err, e.Path, e.Reason)
}

func (e *PathError) Unwrap() error { return e.Err }

// LimitError describes an exceeded limit. It wraps [ErrLimitExceeded].
type LimitError struct {
	Limit string // "blob size", "files", "total size" or "transfer"
	Max   int64  // the configured limit
	Path  string // the file that crossed the limit, if any
}

func (e *LimitError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("%v: %s over %d at %q", ErrLimitExceeded, e.Limit, e.Max, e.Path)
	}
	return fmt.Sprintf("%v: %s over %d", ErrLimitExceeded, e.Limit, e.Max)
}

func (e *LimitError) Unwrap() error { return ErrLimitExceeded }
