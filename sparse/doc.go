// Package sparse fetches only a cone of directories (for example
// k8s/kustomize) of a large git repository at an exact commit, in pure Go,
// downloading data in proportion to the cone rather than to the repository.
//
// # Usage
//
// Pin the commit first (or take it from the promoted Freight), then fetch:
//
//	id, err := sparse.Resolve(ctx, url, "main")
//	co, err := sparse.Fetch(ctx, sparse.Request{
//		URL:    url,
//		Commit: id,
//		Branch: "main", // optional: only used by the last fallback
//		Paths:  []string{"k8s/kustomize/base", "k8s/kustomize/components"},
//	}, sparse.WithBasicAuth("x-access-token", token))
//	data, err := fs.ReadFile(co.FS, "k8s/kustomize/base/kustomization.yaml")
//	err = co.WriteTo("/work/deploy") // optional: materialize on disk
//
// [Checkout.FS] holds the requested directories and everything below them,
// byte for byte and with the same modes as `git sparse-checkout set --cone`
// followed by `git checkout <commit>` writes under those directories. Unlike
// git's cone mode, files directly inside parent directories (README.md at
// the root, say) are not included: the checkout is exactly the cone.
//
// # Strategies
//
// Fetch reads the server's capabilities from the reference advertisement
// and tries, best first, the strategies they allow. When the server
// refuses a request (a filter it does not allow, an object id it will not
// serve) it falls back to the next one; [Stats.Strategy] says which one
// produced the result.
//
//  1. [StrategyPathWalk] (needs "filter" and allow-reachable-sha1-in-want):
//     the commit with only its root tree (filter tree:1, depth 1), then one
//     request per directory level for just the trees along the paths
//     (tree:0), then the cone's trees and blobs in one request (filter
//     blob:limit, so blobs over [WithMaxBlobSize] are never downloaded; with
//     [WithCache], blob:none and then only the blobs the cache lacks). For
//     "k8s/kustomize" that is four round trips and a few kilobytes beyond
//     the cone itself, whatever the size of the repository.
//  2. [StrategyBlobless] (same capabilities, for servers that refuse tree
//     filters): the commit and all its trees without blobs (blob:none, depth
//     1), then the cone's blobs in one request. Cost grows with the number of
//     directories in the repository, not with its blobs.
//  3. [StrategyShallow] (needs the exact commit to be wantable: advertised,
//     or allow-tip/allow-reachable): the commit with its whole tree, depth 1.
//     (git's upload-pack serves any reachable commit over stateless HTTP once
//     allow-tip-sha1-in-want is on, so that capability is enough to try.)
//  4. [StrategyBranch] (needs [Request.Branch]): for servers that refuse
//     wants of unadvertised commits, the branch is fetched with doubling
//     depth (commits only, where filters are allowed) until the commit shows
//     up, then once more with trees and blobs down to that depth.
//
// Received packs are streamed to an on-disk object store (a temporary
// directory under [WithTempDir], or the cache) rather than held in memory; only the cone's
// files are read into memory, within the limits set by [WithMaxFiles],
// [WithMaxBlobSize] and [WithMaxTotalSize].
//
// # Limits
//
// What a server sends is bounded while it streams, before memory is
// spent: [WithMaxTransfer] (bytes received, retries included),
// [WithMaxObjects] (the objects a pack declares: checked before anything is
// sized from the count), [WithMaxObjectSize] (any object's inflated size, a
// delta's declared result included: checked before inflating or applying
// it), [WithMaxInflated] (the inflated total) and delta chains. Packs are
// stored as whole objects, so memory grows with the largest object allowed,
// not with the pack. Cone paths are held to 64 components and 4096 bytes,
// and count with the files' content toward [WithMaxTotalSize]. Under the
// defaults, a fetch whose answers total at most 1 MiB stays under 128 MiB of
// peak memory, whatever they hold.
//
// # Security
//
// Every object read is hashed and compared with its id, and the commit is
// looked up by the requested id, so a server cannot substitute content. A
// commit the server does not have is an error, never an empty result. Cone
// paths must be clean relative directory paths (no "..", no ".git", no
// globs, no absolute paths). Tree entries git would refuse to check out
// are refused: "..", names containing separators, and every name git takes
// for ".git" on some file system (core.protectNTFS and core.protectHFS:
// ".git.", "git~1", ".git::$INDEX_ALLOCATION", ".g\u200cit"), with the same
// validator gitops uses. Objects of the wrong type, deltas against objects
// outside the pack (thin packs are never asked for) and duplicate entry
// names are refused too. Symbolic links are kept as links: [Checkout.FS]
// follows them only inside itself, and [Checkout.WriteTo] refuses links
// that leave the written tree and never writes through a link. Gitlinks
// (submodules) are reported in [Checkout.Submodules], never followed.
// Credentials given as options or embedded in the URL are sent only to the
// repository's origin (scheme, host and port) as HTTP authentication, or as
// SSH keys, and never appear in errors or logs; URLs in messages are
// redacted, and text a server sends back (ERR lines, 401 bodies) is
// truncated and masked of every credential.
//
// # Concurrency
//
// Fetch and Resolve may be called concurrently. Several fetches, also from
// different processes, may share one [WithCache] directory: each holds an
// exclusive file lock on it while it runs. A [Checkout] is immutable and
// safe for concurrent use.
//
// # Errors
//
// Errors match the six sentinels every railyard package shares —
// [ErrInvalid], [ErrNotFound], [ErrUnauthorized], [ErrUnsafeContent],
// [ErrLimitExceeded], [ErrUnavailable] — through more specific ones where
// they say more: [ErrInvalidRequest], [ErrInvalidPath], [ErrDestination],
// [ErrUnsupportedServer] (all [ErrInvalid]); [ErrPathNotFound],
// [ErrCommitNotFound], [ErrRefNotFound] (all [ErrNotFound]); [ErrCorrupt]
// ([ErrUnavailable]). [PathError] and [LimitError] carry details for
// [errors.As]; [IsRetryable] says whether a retry can help. Transient
// network failures (cut connections, HTTP 408, 429, 5xx) are retried with
// backoff (see [WithRetries]) before they surface as [ErrUnavailable].
package sparse
