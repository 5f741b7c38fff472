// Package railyardtest helps users test code built on railyard with real
// parts, the way go-containerregistry ships pkg/registry: [NewGitServer]
// serves bare repositories on loopback through the git CLI's own `git
// http-backend`, so sparse, freight and gitops talk smart HTTP to real git
// in a test. For pull requests, see
// github.com/railyard-gitops/railyard/gitops/gitopstest.
//
// In a test:
//
//	git := railyardtest.NewGitServer(t)
//	url := git.CreateRepo(t, "org/gitops.git")
//	git.Commit(t, "org/gitops.git", "main", "policy", map[string]string{"apps/web/deployments/test/deployment.yaml": "..."})
//	repo, err := gitops.NewRepo(url)
//	...
//	files := git.Files(t, "org/gitops.git", "stage/test") // what the code under test pushed
//
// The package needs the git CLI (with git-http-backend) on PATH; without
// it the test fails (it never skips).
package railyardtest
