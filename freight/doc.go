// Package freight discovers promotion candidates ("Freight") by pairing the
// images of a registry with the commits of a watched branch on the exact
// identity git-<full-commit-sha>.
//
// CI builds an image from a commit and pushes it with the immutable tag
// "git-" followed by the full commit id. A Freight exists only where such a
// tag and a commit of the branch pair up exactly; per-architecture tags
// ("git-<sha>-amd64"), short or upper-case ids and aliases ("staging") are
// never candidates. Unlike Kargo's freightCreationCriteria, which compares
// only the newest image with the newest commit, pairing runs over the whole
// discovered window, so a lagging build does not block earlier commits and a
// late image still pairs.
//
// # Usage
//
// The pure layer needs no I/O:
//
//   - [TagForCommit] and [CommitFromTag] convert between commit ids and tags
//     (strictly; [ObjectFormat] for SHA-256 repositories);
//   - [Matches] is the pairing predicate and [Pair] pairs lists of images
//     and commits, newest commit first;
//   - [KargoID] computes the name Kargo gives the same Freight, and
//     [FreightManifest], [WarehouseYAML] and [CriteriaExpression] produce
//     Kargo resources for the pattern;
//   - a [Gate] such as [LegacyGitflowGate] decides whether a pair may be
//     issued.
//
// # Security
//
// Tags and ids are parsed strictly; anything else is a decoy, never a
// candidate. [LegacyGitflowGate] reads only one bounded file per commit from
// the fs.FS it is given, at a path built from validated single path
// elements.
//
// # Concurrency
//
// All functions are safe for concurrent use. The value types ([Commit],
// [Image], [Freight]) are plain data.
//
// # Errors
//
// Invalid input is reported with errors wrapping the sentinels in errors.go
// ([ErrInvalidCommitID], [ErrInvalidOption], [ErrRefused], ...), typed where
// callers need fields ([CommitIDError], [MovedTagError], [RemoteError]).
// Use errors.Is and errors.As.
package freight
