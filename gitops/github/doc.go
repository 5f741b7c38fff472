// Package github implements [gitops.PullRequests] for GitHub and GitHub
// Enterprise Server, with go-github.
//
// # Usage
//
//	prs, err := github.New("org", "gitops", github.WithBearerToken(token))
//	// or GitHub App auth, and GitHub Enterprise:
//	prs, err := github.New("org", "gitops",
//		github.WithApp(appID, installationID, privateKeyPEM),
//		github.WithBaseURL("https://ghe.example.com/api/v3/"))
//	pr, err := repo.Propose(ctx, change, "stage/production", prs)
//
// Options: [WithBaseURL], [WithBearerToken], [WithCredentials] (a token
// provider asked per request), [WithApp], [WithHTTPClient],
// [WithRetries], [WithLogger], [WithMaxPages], [WithMaxResponseSize]. A nil
// Option is ignored; conflicting ones are refused with
// [gitops.ErrInvalid].
//
// # Security
//
// Credentials (tokens, the App's JWT and installation tokens) are added by
// the transport to requests for the API's origin (scheme, host and port)
// only: a redirect to another port or host name arrives without them, and
// writes are never redirected to another origin. Redirects are bounded and
// never leave https. Every credential handed out is redacted from errors
// and logs, including when a server echoes it back; server messages in
// errors are truncated. Installation tokens come from ghinstallation
// (the JWT is signed there), are cached in memory and renewed a minute
// before they expire, so a long-lived PullRequests keeps working. Answers
// are capped in size before they are decoded ([WithMaxResponseSize]) and
// listings in pages ([WithMaxPages]); FindOpen never adopts a pull request
// from a fork whose branch has the head's name.
//
// # Concurrency
//
// A [PullRequests] is safe for concurrent use.
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
// GitHub cannot be reached from railyard's CI, so this package is tested
// against httptest servers that implement only the REST endpoints it uses
// (listing, getting, creating and editing pull requests, and creating App
// installation tokens), and against the lying servers of
// internal/testkit/hostilehttp.
package github
