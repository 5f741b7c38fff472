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
// directory, or the cache) rather than held in memory; only the cone's
// files are read into memory, within the limits set by [WithMaxFiles],
// [WithMaxBlobSize] and [WithMaxTotalSize]. [WithMaxTransfer] bounds what
// the fallbacks may download.
//
// # Security
//
// Every object read is hashed and compared with its id, and the commit is
// looked up by the requested id, so a server cannot substitute content. A
// commit the server does not have is an error, never an empty result. Cone
// paths must be clean relative directory paths (no "..", no ".git", no
// globs, no absolute paths); tree entries named "..", ".git" or containing
// separators are refused. Symbolic links are kept as links: [Checkout.FS]
// follows them only inside itself, and [Checkout.WriteTo] refuses links that
// leave the written tree and never writes through a link. Gitlinks
// (submodules) are reported in [Checkout.Submodules], never followed.
// Credentials given as options or embedded in the URL are sent only as HTTP
// authentication or SSH keys and never appear in errors or logs; URLs in
// messages are redacted.
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
// Errors wrap the sentinels in errors.go, tested with [errors.Is]:
// [ErrInvalidRequest], [ErrInvalidPath], [ErrPathNotFound],
// [ErrCommitNotFound], [ErrRefNotFound], [ErrUnsupportedServer],
// [ErrLimitExceeded], [ErrUnsafeContent], [ErrCorrupt], [ErrTransfer] and
// [ErrDestination]; [PathError] and [LimitError] carry details for
// [errors.As]. Transient network failures (cut connections, HTTP 429, 502,
// 503, 504) are retried with backoff before they surface as [ErrTransfer].
package sparse
