package gitops_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// A Repo remembers the trees of the tips it pushed: the next commit on top
// of its own reads nothing and pushes straight away with a lease on it; when
// another writer moved the branch, the lease fails and the new tip is read.
func TestCommitReusesItsLastTip(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/test", map[string]string{"README.md": "x"})
	ctx := testContext(t)
	repo := newRepo(t, rem.url)
	_, err := repo.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
	require.NoError(t, err)

	rem.srv.ResetStats()
	res, err := repo.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(2)})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, []gitops.FileChange{{Path: "deployment-web.yaml", Action: "modified"}}, res.Files)
	stats := rem.srv.Stats(rem.name)
	assert.Zero(t, stats[gittest.EndpointUploadPack].Requests, "nothing fetched")
	assert.Zero(t, stats[gittest.EndpointInfoRefs].Requests, "no refs read")
	assert.Equal(t, int64(1), stats[gittest.EndpointReceivePack].Requests)

	rem.seed(t, "stage/test", map[string]string{"README.md": "y"})
	rem.srv.ResetStats()
	res, err = repo.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(3)})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Attempts, "a failed lease on a remembered tip is not a lost race")
	stats = rem.srv.Stats(rem.name)
	assert.Equal(t, int64(1), stats[gittest.EndpointUploadPack].Requests, "another writer's tip is fetched")
	assert.Equal(t, int64(2), stats[gittest.EndpointReceivePack].Requests, "the refused push, then the one that landed")
	assert.Equal(t, "y", rem.tree(t, "stage/test")["README.md"])
	rem.assertNoRewrites(t, "stage/test")
}
