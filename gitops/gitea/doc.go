// Package gitea implements [gitops.PullRequests] for Gitea (and Forgejo),
// with the Gitea SDK.
//
// # Usage
//
//	prs, err := gitea.New("https://gitea.example.com/", "org", "gitops", gitea.WithBearerToken(token))
//	pr, err := repo.Propose(ctx, change, "stage/production", prs)
//	commit, err := gitops.WaitForMerge(ctx, prs, pr)
//
// Options: [WithBearerToken], [WithCredentials] (a provider asked per
// request), [WithHTTPClient], [WithRetries], [WithLogger],
// [WithMaxPages], [WithMaxResponseSize]. A nil Option is ignored;
// conflicting ones are refused with [gitops.ErrInvalid].
//
// # Security
//
// Credentials are not given to the SDK: the transport adds them to
// requests for the server's origin (scheme, host and port) only, so a
// redirect to another port or host name arrives without them, and writes
// are never redirected to another origin. Redirects are bounded and never
// leave https. Every credential is redacted from errors and logs, including
// when a server echoes it back; server messages in errors are truncated.
// Answers are capped in size before they are decoded
// ([WithMaxResponseSize]) and listings in pages ([WithMaxPages]); FindOpen
// never adopts a pull request from a fork whose branch has the head's name.
//
// # Concurrency
//
// A [PullRequests] is safe for concurrent use: each call uses its own SDK
// client bound to the call's context.
//
// # Errors
//
// Errors match gitops's sentinels: [gitops.ErrNotFound],
// [gitops.ErrUnauthorized], [gitops.ErrInvalid], [gitops.ErrLimitExceeded],
// [gitops.ErrUnsafeContent] and [gitops.ErrUnavailable], the only one
// [gitops.IsRetryable] answers true for (with an expired context). Status
// refusals are [*Error] values. Reads and body updates (idempotent) are
// retried on network errors, 408, 429, 500, 502, 503 and 504; opening a
// pull request is not.
//
// # Testing
//
// The integration tests (build tag "integration") run against a real Gitea
// v1.26.0 started from the binary named by RAILYARD_GITEA; they fail when
// it is unset. The other tests use the lying servers of
// internal/testkit/hostilehttp and, for the examples, a stand-in limited
// to the endpoints used.
package gitea
