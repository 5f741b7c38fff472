// Package gitopstest provides test doubles for code built on gitops, the
// way go-containerregistry ships an in-memory registry: an in-memory
// [PullRequests] that behaves like a forge (one open pull request per head
// and base, numbers from 1, merged and closed states) and lets a test merge
// or close pull requests and inject failures.
//
// It holds no git repository: Merge records the merge commit it is given.
// To test against real git, pair gitops.Repo with a server from
// github.com/railyard-gitops/railyard/railyardtest.
package gitopstest
