package freight

import (
	"fmt"
	"strings"
)

// TagPrefix is what CI puts before the full commit id in an image tag.
const TagPrefix = "git-"

// objectFormat is the hash function of a git repository. It decides how many
// hex digits a full object id has. Its methods are safe for concurrent use.
type objectFormat int

const (
	// formatSHA1 is the object format of nearly every git repository: 40 hex digits.
	formatSHA1 objectFormat = iota
	// formatSHA256 is git's newer object format: 64 hex digits. A caller must
	// declare it; tags with 64 hex digits are decoys in a SHA-1 repository.
	formatSHA256
)

// String returns "sha1" or "sha256", the names git uses for the formats.
func (f objectFormat) String() string {
	switch f {
	case formatSHA1:
		return "sha1"
	case formatSHA256:
		return "sha256"
	default:
		return fmt.Sprintf("objectFormat(%d)", int(f))
	}
}

// HexLen returns the number of hex digits of a full object id in the format,
// or 0 for an unknown format.
func (f objectFormat) HexLen() int {
	switch f {
	case formatSHA1:
		return 40
	case formatSHA256:
		return 64
	default:
		return 0
	}
}

// IsID reports whether id is a full object id of the format: exactly
// objectFormat.HexLen lowercase hex digits and nothing else.
func (f objectFormat) IsID(id string) bool {
	n := f.HexLen()
	return n != 0 && len(id) == n && isLowerHex(id)
}

// TagForCommit returns the image tag CI gives the build of commit id:
// "git-" followed by id. It returns an error wrapping [ErrInvalidCommitID]
// unless id is a full lowercase object id of the format; short, upper-case or
// decorated ids never produce a tag.
func (f objectFormat) TagForCommit(id string) (string, error) {
	if !f.IsID(id) {
		return "", &CommitIDError{ID: id, format: f}
	}
	return TagPrefix + id, nil
}

// CommitFromTag is the strict inverse of objectFormat.TagForCommit: it
// returns the commit id of a tag "git-<full id>" and true, or "" and false
// for anything else (short, upper-case, padded, suffixed such as "-amd64",
// aliases such as "staging").
func (f objectFormat) CommitFromTag(tag string) (string, bool) {
	id, ok := strings.CutPrefix(tag, TagPrefix)
	if !ok || !f.IsID(id) {
		return "", false
	}
	return id, true
}

// TagForCommit returns "git-"+id for a full lowercase SHA-1 object id (40 hex
// digits), and otherwise an error wrapping [ErrInvalidCommitID]. railyard
// v0.1 supports SHA-1 repositories only.
func TagForCommit(id string) (string, error) { return formatSHA1.TagForCommit(id) }

// CommitFromTag is the strict inverse of [TagForCommit]: the SHA-1 commit id
// of a tag "git-<40 lowercase hex>" and true, or "" and false for any other
// tag.
func CommitFromTag(tag string) (string, bool) { return formatSHA1.CommitFromTag(tag) }

// isFullID reports whether id is a full object id of either format.
func isFullID(id string) bool { return formatSHA1.IsID(id) || formatSHA256.IsID(id) }

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
