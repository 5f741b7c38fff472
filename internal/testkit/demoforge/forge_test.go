package demoforge_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/demoforge"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

func TestReviewFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := gittest.New(t)
	dir, err := s.InitBare("gitops.git")
	require.NoError(t, err)
	base, err := gittest.CommitFiles(dir, "stage/production", "base", map[string]string{"a.txt": "a\n"})
	require.NoError(t, err)
	_, err = gittest.Git(dir, "branch", "review", "stage/production")
	require.NoError(t, err)
	head, err := gittest.CommitFiles(dir, "review", "render", map[string]string{"b.txt": "b\n"})
	require.NoError(t, err)

	f := demoforge.New(dir, s.RepoURL("gitops.git"))
	_, err = f.FindOpen(ctx, "review", "stage/production")
	require.ErrorIs(t, err, gitops.ErrNotFound)
	_, err = f.Create(ctx, gitops.NewPullRequest{Title: "t", Head: "missing", Base: "stage/production"})
	require.Error(t, err)

	pr, err := f.Create(ctx, gitops.NewPullRequest{Title: "Promote", Body: "one", Head: "review", Base: "stage/production"})
	require.NoError(t, err)
	assert.Equal(t, 1, pr.Number)
	assert.True(t, strings.HasSuffix(pr.URL, "/pull/1"))
	_, err = f.Create(ctx, gitops.NewPullRequest{Title: "dup", Head: "review", Base: "stage/production"})
	require.Error(t, err, "one open pull request per head and base")

	found, err := f.FindOpen(ctx, "review", "stage/production")
	require.NoError(t, err)
	assert.Equal(t, pr.Number, found.Number)
	updated, err := f.UpdateBody(ctx, pr.Number, "two")
	require.NoError(t, err)
	assert.Equal(t, "two", updated.Body)

	merge, err := f.Merge(ctx, pr.Number)
	require.NoError(t, err)
	parents := gittest.MustGit(t, dir, "log", "-1", "--format=%P", merge)
	assert.Equal(t, base+" "+head, parents, "a real merge commit of head into base")
	assert.Equal(t, merge, gittest.MustGit(t, dir, "rev-parse", "stage/production"))
	assert.Equal(t, "a.txt\nb.txt", gittest.MustGit(t, dir, "ls-tree", "--name-only", merge))

	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := gitops.WaitForMerge(wctx, f, pr)
	require.NoError(t, err)
	assert.Equal(t, merge, got)
	_, err = f.Merge(ctx, pr.Number)
	require.Error(t, err, "a merged pull request cannot merge again")

	// Closed without merge: WaitForMerge reports it as such.
	_, err = gittest.Git(dir, "branch", "other", "stage/production")
	require.NoError(t, err)
	pr2, err := f.Create(ctx, gitops.NewPullRequest{Title: "Other", Head: "other", Base: "stage/production"})
	require.NoError(t, err)
	require.NoError(t, f.Close(ctx, pr2.Number))
	_, err = gitops.WaitForMerge(wctx, f, pr2)
	require.ErrorIs(t, err, gitops.ErrClosed)
	_, err = f.Get(ctx, 99)
	require.ErrorIs(t, err, gitops.ErrNotFound)
}
