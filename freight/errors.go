package freight

import (
	"fmt"
	"strings"

	"github.com/railyard-gitops/railyard/internal/errs"
)

// Sentinel errors. Test for them with [errors.Is] and ask [IsRetryable]
// whether a retry can help. The first six are the ones every railyard
// package shares; the others are specific and also match one of the six
// where one fits.
var (
	// ErrInvalid reports a bad argument or option, rejected before any I/O
	// (a malformed URL, branch, repository or commit id, an option that
	// does not apply). A retry cannot help.
	ErrInvalid error = errs.New("freight: invalid input", false)

	// ErrNotFound means a git repository or branch, or a registry
	// repository or tag, does not exist. A retry helps only once someone
	// creates it.
	ErrNotFound error = errs.New("freight: not found", false)

	// ErrUnauthorized means a server refused the credentials (HTTP 401 or
	// 403, git authentication). A retry with the same credentials cannot
	// help.
	ErrUnauthorized error = errs.New("freight: unauthorized", false)

	// ErrUnsafeContent means a server answered with content freight
	// refuses to process (objects of the wrong type, malformed histories).
	// A retry cannot help.
	ErrUnsafeContent error = errs.New("freight: unsafe content", false)

	// ErrLimitExceeded means an answer crossed a limit (see [LimitError]).
	// A retry with the same limits cannot help.
	ErrLimitExceeded error = errs.New("freight: limit exceeded", false)

	// ErrUnavailable means a server kept failing with transient errors
	// (connection resets, truncated responses, 429, 5xx) until the retries
	// were exhausted. A later retry may help.
	ErrUnavailable error = errs.New("freight: server unavailable", true)

	// ErrInvalidCommitID means a commit id is not a full lowercase object
	// id. It matches [ErrInvalid]. A retry cannot help.
	ErrInvalidCommitID error = &kind{"freight: invalid commit id", ErrInvalid}

	// ErrBranchNotFound means the watched branch does not exist on the git
	// server. It matches [ErrNotFound]. A retry helps only once someone
	// creates it.
	ErrBranchNotFound error = &kind{"freight: branch not found", ErrNotFound}

	// ErrRejected means a server refused a request with a status that
	// retrying cannot change (a 4xx other than 401, 403, 404, 408 and 429).
	// A retry cannot help.
	ErrRejected error = errs.New("freight: request rejected", false)

	// ErrRefused is what a [Gate] wraps when it refuses a Freight. A refused
	// Freight is reported as unpaired with [ReasonGateRefused]; it is not an
	// error of discovery.
	ErrRefused error = errs.New("freight: refused by gate", false)

	// ErrMovedTag means an "immutable" git-<sha> tag now points at another
	// digest than the one recorded in previously issued Freight. See
	// [MovedTagError]. A retry cannot help.
	ErrMovedTag error = errs.New("freight: immutable tag moved", false)
)

// IsRetryable reports whether retrying the call that returned err may
// succeed: true for errors matching [ErrUnavailable] and for an expired
// context deadline; false for the other sentinels, a cancelled context, nil
// and errors freight does not know.
func IsRetryable(err error) bool { return errs.IsRetryable(err) }

// kind is a specific sentinel that also matches a general one.
type kind struct {
	msg     string
	general error
}

func (k *kind) Error() string        { return k.msg }
func (k *kind) Is(target error) bool { return target == k.general }
func (k *kind) Retryable() bool      { return errs.IsRetryable(k.general) }

// LimitError reports an answer beyond a limit. It matches
// [ErrLimitExceeded].
type LimitError struct {
	Limit string // what was limited, e.g. "transfer", "objects", "response size"
	Max   int64  // the limit
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("freight: %s over the limit of %d", e.Limit, e.Max)
}

// Is reports whether target is [ErrLimitExceeded].
func (e *LimitError) Is(target error) bool { return target == ErrLimitExceeded }

// Retryable reports false: the same limits refuse the same answer.
func (e *LimitError) Retryable() bool { return false }

// CommitIDError reports an id that is not a full lowercase SHA-1 object
// id (40 lowercase hex digits). It wraps [ErrInvalidCommitID]. Like the other error types it is
// immutable once returned and safe for concurrent use.
type CommitIDError struct {
	ID     string
	format objectFormat
}

func (e *CommitIDError) Error() string {
	return fmt.Sprintf("freight: invalid commit id %q: want %d lowercase hex digits (%s)",
		e.ID, e.format.HexLen(), e.format)
}

func (e *CommitIDError) Unwrap() error { return ErrInvalidCommitID }

// Retryable reports false.
func (e *CommitIDError) Retryable() bool { return false }

// MovedTagError reports a git-<sha> tag whose digest changed after Freight
// was issued for it. The new digest never becomes Freight. It wraps
// [ErrMovedTag].
type MovedTagError struct {
	Image    Image  // as discovered now, with the current digest
	Previous string // digest recorded in the issued Freight
	Freight  string // ID of the issued Freight
}

func (e *MovedTagError) Error() string {
	return fmt.Sprintf("freight: immutable tag %s:%s moved from %s to %s (issued in freight %s)",
		e.Image.RepoURL, e.Image.Tag, e.Previous, e.Image.Digest, e.Freight)
}

func (e *MovedTagError) Unwrap() error { return ErrMovedTag }

// RemoteError reports a failed network operation. URL never carries
// credentials. It wraps one of [ErrNotFound], [ErrBranchNotFound],
// [ErrUnauthorized], [ErrRejected], [ErrUnavailable] when it is one of those, and the cause.
type RemoteError struct {
	Op  string // e.g. "list tags", "resolve digest", "fetch history"
	URL string // redacted
	Err error
}

func (e *RemoteError) Error() string {
	cause := fmt.Sprint(e.Err)
	if len(cause) > maxCause { // a server's text is unbounded
		cause = strings.ToValidUTF8(cause[:maxCause], "") + "…"
	}
	return fmt.Sprintf("freight: %s %s: %s", e.Op, e.URL, cause)
}

// maxCause bounds the cause a RemoteError quotes.
const maxCause = 1024

func (e *RemoteError) Unwrap() error { return e.Err }
