package gitops_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
)

var fastPolls = gitops.WithPollInterval(time.Millisecond, 5*time.Millisecond)

func TestWaitForMerge(t *testing.T) {
	t.Parallel()
	t.Run("merged", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t) // started when the subtest runs, not when it waits for a slot
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
		ctx := testContext(t) // started when the subtest runs, not when it waits for a slot
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
		ctx := testContext(t) // started when the subtest runs, not when it waits for a slot
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
		ctx := testContext(t) // started when the subtest runs, not when it waits for a slot
		boom := errors.New("forge down")
		prs := &memPRs{onGet: func(int, *gitops.PullRequest) error { return boom }}
		pr, _ := prs.Create(ctx, gitops.NewPullRequest{Head: "h", Base: "b"})
		_, err := gitops.WaitForMerge(ctx, prs, pr, fastPolls)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("bad options", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t) // started when the subtest runs, not when it waits for a slot
		_, err := gitops.WaitForMerge(ctx, &memPRs{}, &gitops.PullRequest{}, gitops.WithPollInterval(time.Second, time.Millisecond))
		assert.Error(t, err)
		_, err = gitops.WaitForMerge(ctx, nil, nil)
		assert.ErrorIs(t, err, gitops.ErrInvalidChange)
	})
}
