package gitops_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/gittest"
)

// A Repo remembers the trees of the tips it pushed: the next commit on top
// of its own fetches nothing, and one on top of another writer's fetches
// again.
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
	assert.Equal(t, int64(1), stats[gittest.EndpointReceivePack].Requests)

	rem.seed(t, "stage/test", map[string]string{"README.md": "y"})
	rem.srv.ResetStats()
	_, err = repo.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(3)})
	require.NoError(t, err)
	assert.Equal(t, int64(1), rem.srv.Stats(rem.name)[gittest.EndpointUploadPack].Requests, "another writer's tip is fetched")
	assert.Equal(t, "y", rem.tree(t, "stage/test")["README.md"])
	rem.assertNoRewrites(t, "stage/test")
}
