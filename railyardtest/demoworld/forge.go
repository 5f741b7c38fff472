package demoworld

import (
	"context"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/demoforge"
)

// Forge holds the GitOps repository's pull requests, in process: it
// implements gitops.PullRequests, and Merge and Close act as a reviewer
// pressing the buttons. It is not a model of any real forge's API (the real
// providers are gitops/github and gitops/gitea). It is safe for concurrent
// use.
type Forge struct{ f *demoforge.Forge }

var _ gitops.PullRequests = (*Forge)(nil)

// FindOpen returns the open pull request from head into base, or an error
// matching gitops.ErrNotFound.
func (f *Forge) FindOpen(ctx context.Context, head, base string) (*gitops.PullRequest, error) {
	return f.f.FindOpen(ctx, head, base)
}

// Create opens a pull request; its head branch must exist.
func (f *Forge) Create(ctx context.Context, n gitops.NewPullRequest) (*gitops.PullRequest, error) {
	return f.f.Create(ctx, n)
}

// UpdateBody replaces the body of pull request number.
func (f *Forge) UpdateBody(ctx context.Context, number int, body string) (*gitops.PullRequest, error) {
	return f.f.UpdateBody(ctx, number, body)
}

// Get returns pull request number, or an error matching gitops.ErrNotFound.
func (f *Forge) Get(ctx context.Context, number int) (*gitops.PullRequest, error) {
	return f.f.Get(ctx, number)
}

// Merge merges pull request number with a real merge commit of its head
// into its base, and returns the merge commit.
func (f *Forge) Merge(ctx context.Context, number int) (string, error) {
	return f.f.Merge(ctx, number)
}

// Close closes pull request number without merging it.
func (f *Forge) Close(ctx context.Context, number int) error { return f.f.Close(ctx, number) }
