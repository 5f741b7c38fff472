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
//     (strictly: SHA-1 ids of 40 lowercase hex digits);
//   - [Matches] is the pairing predicate and [Pair] pairs lists of images
//     and commits, newest commit first;
//   - [KargoID] computes the name Kargo gives the same Freight, and
//     [FreightManifest], [WarehouseYAML] and [CriteriaExpression] produce
//     Kargo resources for the pattern;
//   - a [Gate] such as [LegacyGitflowGate] decides whether a pair may be
//     issued.
//
// Discovery does real I/O:
//
//   - a [GitSource] lists the newest commits of a branch over smart HTTP,
//     fetching commits without trees or blobs (filter tree:0 with deepen)
//     where the server allows it, and falling back to blob:none, shallow and
//     full fetches otherwise ([FetchStats] reports the strategy and the
//     bytes);
//   - an [ImageSource] pages through a registry repository's tags and
//     resolves digests by HEAD, one request per tag it is asked about;
//   - a [Warehouse] pairs them over the window, resolves digests only for
//     paired tags, applies [WithRevisionCheck], [WithIssued] and
//     [WithGates], and returns a [Discovery]: the Freight, named with
//     [KargoID], and every unpaired artifact with its [Reason].
//
// For example (error handling elided):
//
//	git, err := freight.NewGitSource("https://github.com/org/monorepo.git", "main",
//		freight.WithLimit(200), freight.WithGitHubTokenFromEnv())
//	app, err := freight.NewImageSource("ghcr.io/org/app", freight.WithGitHubTokenFromEnv())
//	wh, err := freight.NewWarehouse("app", git, []freight.ImageLister{app})
//	d, err := wh.Discover(ctx)
//	for _, f := range d.Freight { ... } // newest commit first
//
// # Security
//
// Tags and ids are parsed strictly; anything else is a decoy, never a
// candidate. Credentials (user info in a git URL, [WithBasicAuth],
// [WithBearerToken], [WithCredentials], [WithGitHubToken], the Docker
// config) are sent only to the source they were given for
// ([WithGitHubToken] only to github.com and ghcr.io) and never appear in
// errors or logs, even when a server echoes them back: URLs are stored and
// logged without user info and with query values elided, and every secret
// a source hands out is masked. On the registry side they reach only the
// registry's origin (scheme, host and port) and its token service when
// that shares the origin, is a known public one or is trusted with
// [WithTrustedAuthOrigins]; a redirect or a WWW-Authenticate realm
// elsewhere (another port, or "localhost" for 127.0.0.1) gets requests
// without them, and no request but a read goes there. On the git side they
// reach only the repository's origin, asked per request when they come from
// [WithCredentials]. Registry pagination links are followed only to the
// same scheme and host; pages, tags and every answer are bounded
// ([WithMaxPages], [WithMaxTags], [WithMaxResponseSize]) before memory is
// spent, and redirects are bounded and never leave https. Git objects land
// in a temporary directory (under [WithTempDir]) that is removed before
// [GitSource.History] returns; what a git server sends is bounded while it streams
// ([WithMaxTransfer], [WithMaxObjects], [WithMaxObjectSize],
// [WithMaxInflated]: a forged object count or a zlib or delta bomb is one
// [*LimitError], never the process's memory). [LegacyGitflowGate] reads
// only one bounded file per commit from the fs.FS it is given, at a path
// built from validated single path elements.
//
// # Concurrency
//
// All functions, [GitSource], [ImageSource] and [Warehouse] are safe for
// concurrent use. The value types ([Commit], [Image], [Freight],
// [Discovery]) are plain data.
//
// # Errors
//
// Invalid input is reported with errors wrapping the sentinels in errors.go
// ([ErrInvalidCommitID], [ErrInvalid], [ErrRefused], ...), typed where
// callers need fields ([CommitIDError], [MovedTagError], [RemoteError],
// [LimitError]). An option given to a constructor it does not affect is
// refused with [ErrInvalid].
// Use errors.Is and errors.As. Network failures come as a [*RemoteError]
// wrapping [ErrNotFound], [ErrBranchNotFound], [ErrUnauthorized],
// [ErrRejected], [ErrLimitExceeded] or [ErrUnsafeContent] (retrying cannot
// help) or [ErrUnavailable] (transient
// failures outlasted [WithRetries]; a later call may succeed), or the
// context's error.
package freight
