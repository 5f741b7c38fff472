package gitops_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
)

var fastPolls = gitops.WithPollInterval(time.Millisecond, 5*time.Millisecond)

func TestWaitForMerge(t *testing.T) {
	t.Parallel()
	// Each subtest makes its own context: parallel subtests may start long
	// after the parent returned, behind other parallel tests.
	t.Run("merged", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		prs := &memPRs{onGet: func(n int, pr *gitops.PullRequest) error {
			if n == 3 {
				pr.State, pr.MergeCommit = gitops.PRMerged, "abc123"
			}
			return nil
		}}
		pr, _ := prs.Create(ctx, gitops.NewPullRequest{Head: "h", Base: "b"})
		got, err := gitops.WaitForMerge(ctx, prs, pr, fastPolls)
		require.NoError(t, err)
		assert.Equal(t, "abc123", got)
		assert.Equal(t, 3, prs.gets)
	})
	t.Run("closed", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		prs := &memPRs{onGet: func(n int, pr *gitops.PullRequest) error {
			pr.State = gitops.PRClosed
			return nil
		}}
		pr, _ := prs.Create(ctx, gitops.NewPullRequest{Head: "h", Base: "b"})
		_, err := gitops.WaitForMerge(ctx, prs, pr, fastPolls)
		var ce *gitops.ClosedError
		require.ErrorAs(t, err, &ce)
		assert.ErrorIs(t, err, gitops.ErrClosed)
		assert.Equal(t, pr.Number, ce.Number)
	})
	t.Run("ctx done", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		prs := &memPRs{}
		pr, _ := prs.Create(ctx, gitops.NewPullRequest{Head: "h", Base: "b"})
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := gitops.WaitForMerge(short, prs, pr, fastPolls)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Greater(t, prs.gets, 1, "it polled until ctx ended")
	})
	t.Run("poll error", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		boom := errors.New("forge down")
		prs := &memPRs{onGet: func(int, *gitops.PullRequest) error { return boom }}
		pr, _ := prs.Create(ctx, gitops.NewPullRequest{Head: "h", Base: "b"})
		_, err := gitops.WaitForMerge(ctx, prs, pr, fastPolls)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("bad options", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		_, err := gitops.WaitForMerge(ctx, &memPRs{}, &gitops.PullRequest{}, gitops.WithPollInterval(time.Second, time.Millisecond))
		assert.Error(t, err)
		_, err = gitops.WaitForMerge(ctx, nil, nil)
		assert.ErrorIs(t, err, gitops.ErrInvalid)
	})
}

// CheckMerge looks once and never waits: a controller calls it on each
// reconcile.
func TestCheckMerge(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	state := gitops.PROpen
	prs := &memPRs{onGet: func(_ int, pr *gitops.PullRequest) error {
		pr.State = state
		if state == gitops.PRMerged {
			pr.MergeCommit = "abc123"
		}
		return nil
	}}
	pr, _ := prs.Create(ctx, gitops.NewPullRequest{Head: "h", Base: "b"})

	commit, merged, err := gitops.CheckMerge(ctx, prs, pr)
	require.NoError(t, err)
	assert.False(t, merged)
	assert.Empty(t, commit)

	state = gitops.PRMerged
	commit, merged, err = gitops.CheckMerge(ctx, prs, pr)
	require.NoError(t, err)
	assert.True(t, merged)
	assert.Equal(t, "abc123", commit)
	assert.Equal(t, 2, prs.gets, "one lookup per call")

	state = gitops.PRClosed
	_, _, err = gitops.CheckMerge(ctx, prs, pr)
	assert.ErrorIs(t, err, gitops.ErrClosed)
	assert.False(t, gitops.IsRetryable(err))

	boom := fmt.Errorf("forge: %w", gitops.ErrUnavailable)
	failing := &memPRs{onGet: func(int, *gitops.PullRequest) error { return boom }}
	pr, _ = failing.Create(ctx, gitops.NewPullRequest{Head: "h", Base: "b"})
	_, _, err = gitops.CheckMerge(ctx, failing, pr)
	assert.ErrorIs(t, err, boom)
	assert.True(t, gitops.IsRetryable(err), "a transient forge failure is worth another reconcile")

	_, _, err = gitops.CheckMerge(ctx, nil, pr)
	assert.ErrorIs(t, err, gitops.ErrInvalid)
}
