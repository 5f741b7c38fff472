package sparse

import (
	"fmt"

	"github.com/railyard-gitops/railyard/internal/errs"
)

// Sentinel errors. Test for them with [errors.Is] and ask [IsRetryable]
// whether a retry can help. The first six are the ones every railyard
// package shares; the others are specific and each also matches one of
// the six. The typed errors below carry the fields a caller may need and
// are reached with [errors.As].
var (
	// ErrInvalid reports a bad argument, request or option (see also
	// [ErrInvalidRequest], [ErrInvalidPath], [ErrDestination] and
	// [ErrUnsupportedServer], which match it). Retrying cannot help.
	ErrInvalid error = errs.New("invalid input", false)

	// ErrNotFound reports a repository, commit, reference or path that
	// does not exist (see [ErrCommitNotFound], [ErrRefNotFound] and
	// [ErrPathNotFound], which match it). Retrying cannot help until
	// someone creates it.
	ErrNotFound error = errs.New("not found", false)

	// ErrUnauthorized reports credentials that are missing or refused
	// (HTTP 401 or 403, SSH authentication), or an SSH server whose host
	// key is not the known one. Retrying cannot help.
	ErrUnauthorized error = errs.New("unauthorized", false)

	// ErrUnsafeContent reports content the package refuses to
	// materialize: a tree entry git would refuse to check out (such as
	// "..", ".git", "git~1", ".git." or one containing a slash), an
	// object of the wrong type, a symbolic link whose target leaves the
	// written tree (see [PathError]). Retrying cannot help.
	ErrUnsafeContent error = errs.New("unsafe repository content", false)

	// ErrLimitExceeded reports that a limit was crossed (see [LimitError]).
	// Nothing was returned or written. Retrying with the same limits
	// cannot help.
	ErrLimitExceeded error = errs.New("limit exceeded", false)

	// ErrUnavailable reports a network or protocol failure talking to the
	// server (connection refused or cut, HTTP 429 or 5xx, an answer cut
	// short) that persisted through the retries. A later retry may help.
	ErrUnavailable error = errs.New("server unavailable", true)

	// ErrInvalidRequest reports a malformed [Request] or option: a URL
	// that is not http(s) or ssh, a commit that is not a full lower-case
	// object id, an option value out of range, a cache or temporary
	// directory that cannot be used. It matches [ErrInvalid].
	ErrInvalidRequest error = &kind{"invalid request", ErrInvalid}

	// ErrInvalidPath reports a cone path that is not a clean, relative,
	// slash-separated directory path (see [PathError]). It matches
	// [ErrInvalid].
	ErrInvalidPath error = &kind{"invalid cone path", ErrInvalid}

	// ErrPathNotFound reports a cone path that does not exist at the
	// requested commit, or that names a file rather than a directory (see
	// [PathError]). It matches [ErrNotFound].
	ErrPathNotFound error = &kind{"path not found at commit", ErrNotFound}

	// ErrCommitNotFound reports a commit the server does not have or will
	// not serve: unknown, unreachable from its refs, or not on the hinted
	// branch. It matches [ErrNotFound]; retrying helps only once the commit
	// is pushed.
	ErrCommitNotFound error = &kind{"commit not found on server", ErrNotFound}

	// ErrRefNotFound reports that [Resolve] found no branch or tag of that
	// name on the server. It matches [ErrNotFound].
	ErrRefNotFound error = &kind{"ref not found on server", ErrNotFound}

	// ErrUnsupportedServer reports a server that allows no strategy for
	// this request, typically one that refuses wants of exact commit ids
	// when no [Request.Branch] hint is given, or one that does not speak
	// git's smart protocol. It matches [ErrInvalid]: give a Branch, or
	// enable uploadpack.allowReachableSHA1InWant on the server.
	ErrUnsupportedServer error = &kind{"server supports no sparse strategy for this request", ErrInvalid}

	// ErrCorrupt reports a pack or object from the server that does not
	// verify: a pack that does not parse, an object whose content does not
	// hash to its id. A corrupt cache is rebuilt automatically; from the
	// network, a retry may help. It matches [ErrUnavailable].
	ErrCorrupt error = &kind{"corrupt object", ErrUnavailable}

	// ErrTransfer is [ErrUnavailable], under the name it had before the
	// shared error model.
	//
	// Deprecated: use [ErrUnavailable].
	ErrTransfer = ErrUnavailable

	// ErrDestination reports that [Checkout.WriteTo] refused its target
	// (it exists and is not an empty directory, it is a symbolic link, its
	// parent does not exist) or could not write it (permissions, space).
	// It matches [ErrInvalid]; retrying helps only after the cause is
	// removed.
	ErrDestination error = &kind{"unusable destination", ErrInvalid}
)

// IsRetryable reports whether retrying the call that returned err may
// succeed: true for errors matching [ErrUnavailable] (and so [ErrCorrupt])
// and for an expired context deadline; false for the other sentinels, a
// cancelled context, nil and errors sparse does not know.
func IsRetryable(err error) bool { return errs.IsRetryable(err) }

// kind is a specific sentinel that also matches a general one.
type kind struct {
	msg     string
	general error
}

func (k *kind) Error() string        { return k.msg }
func (k *kind) Is(target error) bool { return target == k.general }
func (k *kind) Retryable() bool      { return errs.IsRetryable(k.general) }

// PathError describes a problem with one path: a cone path of the
// [Request] or an entry of a fetched tree. It wraps [ErrInvalidPath],
// [ErrPathNotFound] or [ErrUnsafeContent].
type PathError struct {
	Path   string // the offending path (truncated), quoted with %q when printed
	Reason string // short human-readable reason
	Err    error  // one of the sentinels above
}

func (e *PathError) Error() string {
	return fmt.Sprintf("%v: %q: %s", e.Err, e.Path, e.Reason)
}

func (e *PathError) Unwrap() error { return e.Err }

// LimitError describes an exceeded limit. It wraps [ErrLimitExceeded].
type LimitError struct {
	// Limit is what was limited: "blob size", "files", "total size",
	// "path depth", "path length" (the options' limits), or what a server
	// sent: "transfer", "objects", "object size", "inflated", "delta
	// depth", "shallow lines".
	Limit string
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
