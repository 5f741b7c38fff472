// Package gitops commits rendered manifests to stage branches of a GitOps
// repository and drives the review flow for stages that need approval.
//
// # Usage
//
// A [Repo] names a remote repository; it keeps no clone. [Repo.Commit]
// writes one [Change] — the files of a rendered folder — to a branch:
//
//	repo, err := gitops.NewRepo("https://git.example.com/org/gitops.git",
//		gitops.WithBasicAuth("x-access-token", token), gitops.WithAuthor("Kargo", "kargo@example.com"))
//	res, err := repo.Commit(ctx, gitops.Change{
//		Branch:     "stage/test",
//		Base:       "main",
//		Dir:        "apps/web/deployments/test/deploy",
//		Files:      files, // e.g. one file per rendered object
//		Provenance: &gitops.Provenance{SourceCommit: sha, FreightID: id},
//	})
//
// Commit fetches only the tip's commit and trees (no blobs where the server
// supports partial-clone filters), replaces Change.Dir wholly with
// Change.Files in memory, keeps every other path, and skips the commit when
// nothing changed (Result.Changed is false). Otherwise it commits on the tip
// and pushes with a lease on it. Identical inputs give identical trees: the
// provenance is written as commit trailers and as a file named
// [DefaultProvenanceFile] inside Dir, without timestamps and without an
// extension that Argo CD's directory source would apply.
//
// Stages that need review use [Repo.Propose] instead: it pushes the change
// to a deterministic head branch ([Repo.HeadBranch]) started from the
// target's tip and opens a pull request through a [PullRequests] provider
// (gitops/github, gitops/gitea), reusing and updating the open one for the
// same head; it returns [ErrUpToDate] when the target already holds the
// render. [WaitForMerge] then polls until the pull request is merged and
// returns the merge commit:
//
//	pr, err := repo.Propose(ctx, change, "stage/production", prs)
//	if errors.Is(err, gitops.ErrUpToDate) { ... nothing to review ... }
//	commit, err := gitops.WaitForMerge(ctx, prs, pr)
//
// # Security
//
// Credentials (in the URL, [WithBasicAuth], [WithBearerToken],
// [WithCredentials], [WithSSHKey]) go only to the repository's origin and
// never appear in errors or logs, nor does a credential a server echoes
// back; URLs are reported without user information. What the server sends
// is bounded while it streams ([WithMaxTransfer], [WithMaxObjects],
// [WithMaxObjectSize], [WithMaxInflated]) and kept on disk, not in memory;
// trees read from the server whose entries git would refuse to check out
// (".git", "git~1", ".git." and the other names protectNTFS and protectHFS
// refuse, duplicates) are [ErrUnsafeContent]: nothing is built on them.
// Branch names are checked by [ValidateBranch] and paths must be clean and
// relative, without ".." or ".git" components; provenance fields may not
// contain line breaks, so they cannot inject trailers. In pull request
// bodies every file name, provenance value and summary sits inside a code
// fence longer than any backtick run it contains, so none of it renders as
// Markdown or HTML. Only https, http and
// ssh URLs are accepted. Commits can be signed with [WithSigner], with
// OpenPGP ([NewPGPSigner]) or SSH ([NewSSHSigner]) keys.
//
// # Concurrency
//
// A [Repo] is safe for concurrent use. Commits to the same branch through
// one Repo are serialized. Writers in other Repos or processes are kept
// apart by the push lease: receive-pack moves the branch only if it still
// holds the tip the commit was built on. A push that loses the race is
// re-applied on the new tip, with backoff, up to [WithRetries] more times; a
// stage branch is never force-pushed and no other writer's commit is lost.
//
// # Errors
//
// Every error matches one of the sentinels railyard's packages share —
// [ErrInvalid], [ErrNotFound], [ErrUnauthorized], [ErrUnsafeContent],
// [ErrLimitExceeded], [ErrUnavailable] — or a specific one of gitops, and
// [IsRetryable] says whether a retry can help. Invalid input is reported
// before any I/O as *[BranchError] or *[PathError] (matching
// [ErrInvalidBranch], [ErrInvalidPath] and [ErrInvalid]) or
// [ErrInvalidChange]. Transient failures of the git server (connection
// errors, cut answers, 5xx, 429) are retried within the attempt budget and
// then match [ErrUnavailable]; refused credentials ([ErrUnauthorized]) and a
// missing repository ([ErrRepositoryNotFound]) are not retried. A branch
// that kept moving gives a *[ConflictError] ([ErrConflict], retryable). [WaitForMerge] reports a pull request
// closed without merge as a *[ClosedError] ([ErrClosed]); provider lookups
// that find nothing match [ErrNotFound].
package gitops
