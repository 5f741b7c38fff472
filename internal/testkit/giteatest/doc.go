// Package giteatest runs a real Gitea server for railyard's integration
// tests: the gitea binary built by .ci/tools (env RAILYARD_GITEA), with a
// throw-away work directory, an sqlite database, an admin user and an access
// token that may do everything (create repositories, push, open and merge
// pull requests).
//
// # Usage
//
//	srv := giteatest.New(t)                    // fails the test when RAILYARD_GITEA is unset
//	clone, err := srv.CreateRepo(ctx, "gitops", true)
//	push := srv.AuthURL(clone)                 // for `git push` in tests
//	err = srv.API(ctx, "POST", "/api/v1/repos/"+srv.User+"/gitops/pulls", req, &pr)
//
// [Start] and [Server.Close] do the same without a testing.TB. [Server.API]
// calls any REST endpoint with the admin token; callers that use the Gitea
// SDK take [Server.URL] and [Server.Token] instead.
//
// Pushes update Gitea's branch list before `git push` returns. Pull request
// mergeability is checked in the background: a merge right after opening
// may be refused with 405 until the check is done, as on a real Gitea.
//
// # Security
//
// Gitea listens on 127.0.0.1 only, on a free port, offline, without SSH,
// registration, mail, indexers or cron jobs. The admin password and token
// are generated per server and appear only in [Server] and in URLs made by
// [Server.AuthURL]; they are never put in errors.
//
// # Concurrency
//
// A [Server] is safe for concurrent use. Each call to [Start] runs its own
// Gitea process, so tests may run servers in parallel.
//
// # Errors
//
// [Start] returns [ErrNoBinary] when no gitea binary is given and a
// [*CommandError] (with the tail of Gitea's output) when a gitea command
// fails; a server that does not answer before ctx is done gives ctx's
// error. [Server.CreateRepo] returns an [*APIError] for non-2xx answers.
//
// The package is internal test infrastructure: the railyard packages never
// import it outside their tests.
package giteatest
