package gitopstest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitopstest"
)

func TestPullRequestsBehavesLikeAForge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var prs gitopstest.PullRequests
	_, err := prs.FindOpen(ctx, "h", "b")
	require.ErrorIs(t, err, gitops.ErrNotFound)

	pr, err := prs.Create(ctx, gitops.NewPullRequest{Title: "t", Body: "b1", Head: "h", Base: "b"})
	require.NoError(t, err)
	assert.Equal(t, 1, pr.Number)
	assert.Equal(t, "https://forge.test/pull/1", pr.URL)
	_, err = prs.Create(ctx, gitops.NewPullRequest{Head: "h", Base: "b"})
	require.Error(t, err, "one open pull request per head and base")

	found, err := prs.FindOpen(ctx, "h", "b")
	require.NoError(t, err)
	assert.Equal(t, pr.Number, found.Number)
	updated, err := prs.UpdateBody(ctx, 1, "b2")
	require.NoError(t, err)
	assert.Equal(t, "b2", updated.Body)

	require.NoError(t, prs.Merge(1, "abc"))
	got, err := prs.Get(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, gitops.PRMerged, got.State)
	assert.Equal(t, "abc", got.MergeCommit)
	require.Error(t, prs.Merge(1, "again"), "only open pull requests merge")
	_, err = prs.FindOpen(ctx, "h", "b")
	require.ErrorIs(t, err, gitops.ErrNotFound, "a merged pull request is not open")

	second, err := prs.Create(ctx, gitops.NewPullRequest{Head: "h", Base: "b"})
	require.NoError(t, err)
	require.NoError(t, prs.Close(second.Number))
	_, _, err = gitops.CheckMerge(ctx, &prs, second)
	require.ErrorIs(t, err, gitops.ErrClosed)
	_, err = prs.Get(ctx, 9)
	require.ErrorIs(t, err, gitops.ErrNotFound)
	assert.Len(t, prs.All(), 2)
	assert.Equal(t, 3, prs.Calls("Create"), "the refused create counts too")
}

func TestPullRequestsInjectedFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := 0
	prs := &gitopstest.PullRequests{Fail: func(op string, _ int) error {
		if op == "Get" {
			n++
			if n < 3 {
				return fmt.Errorf("forge: %w", gitops.ErrUnavailable)
			}
		}
		return nil
	}}
	pr, err := prs.Create(ctx, gitops.NewPullRequest{Head: "h", Base: "b"})
	require.NoError(t, err)
	_, _, err = gitops.CheckMerge(ctx, prs, pr)
	require.Error(t, err)
	assert.True(t, gitops.IsRetryable(err))
	_, _, err = gitops.CheckMerge(ctx, prs, pr)
	require.Error(t, err)
	commit, merged, err := gitops.CheckMerge(ctx, prs, pr)
	require.NoError(t, err)
	assert.False(t, merged)
	assert.Empty(t, commit)
	assert.Equal(t, 3, prs.Calls("Get"))
	assert.False(t, errors.Is(err, gitops.ErrUnavailable))
}
