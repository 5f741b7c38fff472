// Package forgehttp holds the HTTP plumbing shared by railyard's pull
// request providers (gitops/github, gitops/gitea): a RoundTripper that
// retries safe requests on transient failures.
//
// # Concurrency
//
// The RoundTripper returned by [Retrying] is safe for concurrent use when
// its base is.
package forgehttp
