package gitops_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// onFirstPush runs fn inside the server just before it serves the first
// receive-pack POST, i.e. after the client read the tip and built its
// commit: the moment another writer can slip in.
func onFirstPush(rem *remote, fn func()) {
	var done atomic.Bool
	rem.srv.SetFault(func(r gittest.Request) *gittest.Fault {
		if r.Endpoint == gittest.EndpointReceivePack && done.CompareAndSwap(false, true) {
			fn()
		}
		return nil
	})
}

func TestCommitRaceReappliesOnNewTip(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/test", map[string]string{"README.md": "v1"})
	ctx := testContext(t)
	var other string
	onFirstPush(rem, func() {
		var err error
		other, err = gittest.CommitFiles(rem.dir, "stage/test", "another writer", map[string]string{"README.md": "v2"})
		assert.NoError(t, err)
	})

	res, err := newRepo(t, rem.url).Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, 2, res.Attempts, "the lease failed once, then the change was re-applied")
	assert.Equal(t, other, rem.git(t, "rev-parse", res.Commit+"^"), "the other writer's commit is kept under ours")
	tree := rem.tree(t, "stage/test")
	assert.Equal(t, "v2", tree["README.md"])
	assert.Contains(t, tree, deployDir+"/deployment-web.yaml")
	rem.assertNoRewrites(t, "stage/test")
}

func TestCommitRaceWithSameChangeIsNoOp(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/test", map[string]string{"README.md": "v1"})
	ctx := testContext(t)
	change := gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(7), Provenance: testProvenance}
	var theirs gitops.Result
	onFirstPush(rem, func() {
		var err error
		// A later clock: their commit differs from the one being pushed.
		later := func() time.Time { return fixedClock().Add(time.Hour) }
		theirs, err = newRepo(t, rem.url, gitops.WithClock(later)).Commit(ctx, change)
		assert.NoError(t, err)
	})

	res, err := newRepo(t, rem.url).Commit(ctx, change)
	require.NoError(t, err)
	assert.False(t, res.Changed, "the new tip already holds the change")
	assert.Equal(t, 2, res.Attempts)
	assert.Equal(t, theirs.Commit, res.Commit)
	assert.Equal(t, 2, rem.assertNoRewrites(t, "stage/test"))
}

func TestCommitTransientFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault func(gittest.Request) *gittest.Fault
	}{
		{"503 with Retry-After on the ref listing", func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointInfoRefs && r.N == 1 {
				return &gittest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "1"}
			}
			return nil
		}},
		{"fetch cut mid-pack", func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointUploadPack && r.N == 1 {
				return &gittest.Fault{CutAfter: 40}
			}
			return nil
		}},
		{"push answer lost after the push landed", func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointReceivePack && r.N == 1 {
				return &gittest.Fault{CutAfter: 1}
			}
			return nil
		}},
		{"502 on the push", func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointReceivePack && r.N == 1 {
				return &gittest.Fault{Status: http.StatusBadGateway}
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rem := newRemote(t)
			seed := rem.seed(t, "stage/test", map[string]string{"README.md": "v1"})
			rem.srv.SetFault(tc.fault)
			ctx := testContext(t)

			res, err := newRepo(t, rem.url).Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
			require.NoError(t, err)
			assert.True(t, res.Changed)
			assert.Equal(t, 2, res.Attempts)
			assert.Equal(t, rem.git(t, "rev-parse", "refs/heads/stage/test"), res.Commit)
			assert.Equal(t, seed, rem.git(t, "rev-parse", res.Commit+"^"), "exactly one commit on the seed")
			assert.Equal(t, 2, rem.assertNoRewrites(t, "stage/test"))
		})
	}
}

func TestCommitPermanentFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		want   error
	}{
		{http.StatusUnauthorized, gitops.ErrUnauthorized},
		{http.StatusForbidden, gitops.ErrUnauthorized},
		{http.StatusNotFound, gitops.ErrRepositoryNotFound},
		{http.StatusBadRequest, nil},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			rem := newRemote(t)
			var requests atomic.Int64
			rem.srv.SetFault(func(gittest.Request) *gittest.Fault {
				requests.Add(1)
				return &gittest.Fault{Status: tc.status}
			})
			const secret = "s3cr3t-t0ken-value"
			logs := &logBuffer{}
			url := strings.Replace(rem.url, "http://", "http://deployer:"+secret+"@", 1)
			repo := newRepo(t, url, gitops.WithLogger(logs.Logger()))
			_, err := repo.Commit(testContext(t), gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(1)})
			require.Error(t, err)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			}
			assert.Equal(t, int64(1), requests.Load(), "no retry after %d", tc.status)
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, logs.String(), secret)
			assert.NotContains(t, repo.URL(), secret)
		})
	}
}

func TestCommitHonoursContext(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.srv.SetFault(func(gittest.Request) *gittest.Fault { return &gittest.Fault{Delay: time.Minute} })
	ctx := testContext(t, 300*time.Millisecond)
	start := time.Now()
	_, err := newRepo(t, rem.url).Commit(ctx, gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(1)})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ctx.Err()), "got %v", err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestCommitGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/test", map[string]string{"README.md": "v0"})
	var n atomic.Int64
	// Another writer moves the branch before every push.
	rem.srv.SetFault(func(r gittest.Request) *gittest.Fault {
		if r.Endpoint == gittest.EndpointReceivePack {
			_, err := gittest.CommitFiles(rem.dir, "stage/test", "other", map[string]string{"README.md": "v" + string(rune('a'+n.Add(1)))})
			assert.NoError(t, err)
		}
		return nil
	})
	_, err := newRepo(t, rem.url, gitops.WithRetries(2, time.Millisecond, 20*time.Millisecond)).Commit(testContext(t), gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
	var ce *gitops.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, gitops.ErrConflict)
	assert.Equal(t, 3, ce.Attempts)
	assert.Equal(t, 4, rem.assertNoRewrites(t, "stage/test"), "only the other writer's three commits landed")
}
