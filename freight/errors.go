package freight

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidCommitID means a commit id is not a full lowercase object id.
	// Retrying cannot help.
	ErrInvalidCommitID = errors.New("freight: invalid commit id")

	// ErrInvalidOption means an option or constructor argument was rejected.
	// Retrying cannot help.
	ErrInvalidOption = errors.New("freight: invalid option")

	// ErrRefused is what a [Gate] wraps when it refuses a Freight. A refused
	// Freight is reported as unpaired with [ReasonGateRefused]; it is not an
	// error of discovery.
	ErrRefused = errors.New("freight: refused by gate")

	// ErrMovedTag means an "immutable" git-<sha> tag now points at another
	// digest than the one recorded in previously issued Freight. See
	// [MovedTagError].
	ErrMovedTag = errors.New("freight: immutable tag moved")

	// ErrBranchNotFound means the watched branch does not exist on the git
	// server. Retrying helps only once someone creates it.
	ErrBranchNotFound = errors.New("freight: branch not found")

	// ErrNotFound means a registry repository or tag does not exist.
	ErrNotFound = errors.New("freight: not found")

	// ErrUnauthorized means a server refused the credentials (HTTP 401 or
	// 403). Retrying with the same credentials cannot help.
	ErrUnauthorized = errors.New("freight: unauthorized")

	// ErrRejected means a server refused a request with a status that
	// retrying cannot change (a 4xx other than 401, 403, 404 and 429).
	ErrRejected = errors.New("freight: request rejected")

	// ErrUnavailable means a server kept failing with transient errors
	// (connection resets, truncated responses, 429, 5xx) until the retries
	// were exhausted. A later retry may help.
	ErrUnavailable = errors.New("freight: server unavailable")
)

// CommitIDError reports an id that is not a full lowercase object id of
// Format. It wraps [ErrInvalidCommitID]. Like the other error types it is
// immutable once returned and safe for concurrent use.
type CommitIDError struct {
	ID     string
	Format ObjectFormat
}

func (e *CommitIDError) Error() string {
	return fmt.Sprintf("freight: invalid commit id %q: want %d lowercase hex digits (%s)",
		e.ID, e.Format.HexLen(), e.Format)
}

func (e *CommitIDError) Unwrap() error { return ErrInvalidCommitID }

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
	return fmt.Sprintf("freight: %s %s: %v", e.Op, e.URL, e.Err)
}

func (e *RemoteError) Unwrap() error { return e.Err }
