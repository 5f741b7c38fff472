// Package gitea implements [gitops.PullRequests] for Gitea (and Forgejo),
// with the Gitea SDK.
//
// # Usage
//
//	prs, err := gitea.New("https://gitea.example.com/", "org", "gitops", gitea.WithToken(token))
//	pr, err := repo.Propose(ctx, change, "stage/production", prs)
//	commit, err := gitops.WaitForMerge(ctx, prs, pr)
//
// # Security
//
// The token is sent only in the Authorization header and never appears in
// errors or logs.
//
// # Concurrency
//
// A [PullRequests] is safe for concurrent use: each call uses its own SDK
// client bound to the call's context.
//
// # Errors
//
// Lookups that find nothing match [gitops.ErrNotFound]; other refusals are
// [*Error] values with the HTTP status. Reads (and body updates, which are
// idempotent) are retried on network errors, 429, 502, 503 and 504;
// opening a pull request is not.
//
// # Testing
//
// The integration tests (build tag "integration") run against a real Gitea
// v1.26.0 started from the binary named by RAILYARD_GITEA; they fail when
// it is unset.
package gitea
