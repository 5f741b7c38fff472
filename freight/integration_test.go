//go:build integration

package freight

import (
	"context"
	"fmt"
	"testing"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntegrationDistributionRegistry runs discovery against the real
// distribution registry (v3, $RAILYARD_REGISTRY), which clamps pages to
// 1,000 tags and sends a Link header even after an exactly full last page.
// A missing binary fails the test: CI must provide it.
func TestIntegrationDistributionRegistry(t *testing.T) {
	t.Parallel()
	bin, err := registrytest.BinaryFromEnv()
	require.NoError(t, err, "integration tests need the distribution registry v3 binary")
	ctx := context.Background()
	reg, err := registrytest.StartExternal(ctx, bin)
	require.NoError(t, err)
	t.Cleanup(reg.Close)

	w := newWorld(t, 5)
	c := w.commits
	digests := map[string]string{}
	for i, id := range c[1:4] {
		d, err := reg.PushIndex(ctx, "org/app", "git-"+id, registrytest.IndexOptions{Revision: id, Seed: int64(i)})
		require.NoError(t, err)
		digests[id] = d
	}
	decoy, err := reg.PushImage(ctx, "org/app", "staging", 9)
	require.NoError(t, err)
	var decoys []string
	for i := range 1996 { // 2,000 tags in all: two exactly full pages
		decoys = append(decoys, fmt.Sprintf("git-%s-build%04d", c[1][:12], i))
	}
	require.NoError(t, reg.TagMany(ctx, "org/app", decoy, decoys))

	img, err := NewImageSource(reg.Repo("org/app"), WithPageSize(5000))
	require.NoError(t, err)
	tags, err := img.Tags(ctx)
	require.NoError(t, err)
	assert.Len(t, tags, 2000)

	git, err := NewGitSource(w.git.RepoURL("monorepo.git"), "main", WithLimit(5))
	require.NoError(t, err)
	wh, err := NewWarehouse("codeai", git, []ImageLister{img}, WithRevisionCheck())
	require.NoError(t, err)
	d, err := wh.Discover(ctx)
	require.NoError(t, err)
	assert.Equal(t, c[1:4], freightIDs(d.Freight))
	for _, f := range d.Freight {
		assert.Equal(t, digests[f.Commit.ID], f.Images[0].Digest)
	}
	assert.Equal(t, 2000, d.Stats.Tags)
	assert.LessOrEqual(t, d.Stats.TagPages, 3)
	reasons := byReason(d.Unpaired)
	assert.Len(t, reasons[ReasonDecoy], 1997)
	assert.ElementsMatch(t, []string{c[0], c[4]}, reasons[ReasonNoImage])
}
