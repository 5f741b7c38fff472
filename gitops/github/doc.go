// Package github implements [gitops.PullRequests] for GitHub and GitHub
// Enterprise Server, with go-github.
//
// # Usage
//
//	prs, err := github.New("org", "gitops", github.WithToken(token))
//	// or GitHub App auth, and GitHub Enterprise:
//	prs, err := github.New("org", "gitops",
//		github.WithApp(appID, installationID, privateKeyPEM),
//		github.WithBaseURL("https://ghe.example.com/api/v3/"))
//	pr, err := repo.Propose(ctx, change, "stage/production", prs)
//
// # Security
//
// Tokens, App private keys and installation tokens are sent only in the
// Authorization header and never appear in errors or logs. Installation
// tokens are cached in memory until a minute before they expire.
//
// # Concurrency
//
// A [PullRequests] is safe for concurrent use.
//
// # Errors
//
// Lookups that find nothing match [gitops.ErrNotFound]; other failures
// are [*Error] values with the HTTP status. Reads (and body updates, which
// are idempotent) are retried on network errors, 429, 502, 503 and 504;
// opening a pull request is not.
//
// # Testing
//
// GitHub cannot be reached from railyard's CI, so this package is tested
// against an httptest server that implements only the REST endpoints it
// uses: listing, getting, creating and editing pull requests, and creating
// App installation tokens.
package github
