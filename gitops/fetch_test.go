package gitops_test

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// Commit reads only the tip's commit and trees where the server can filter
// blobs, and falls back to a depth-1 fetch with blobs where it cannot.
func TestCommitFetchesNoBlobsWhenFiltered(t *testing.T) {
	t.Parallel()
	big := make([]byte, 256<<10)
	_, err := rand.Read(big)
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		filter  bool
		atMost  int64
		atLeast int64
	}{
		{name: "filter", filter: true, atMost: 64 << 10},
		{name: "no filter", filter: false, atLeast: 256 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rem := newRemote(t)
			cfg := gittest.FullConfig()
			cfg.AllowFilter = tc.filter
			require.NoError(t, rem.srv.Configure(rem.name, cfg))
			// Two commits of history, each with a 256 KiB incompressible blob
			// outside Dir.
			rem.seed(t, "stage/test", map[string]string{"blobs/old.bin": string(big)})
			rem.seed(t, "stage/test", map[string]string{"blobs/big.bin": string(big[1:])})
			ctx := testContext(t)
			rem.srv.ResetStats()

			res, err := newRepo(t, rem.url).Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
			require.NoError(t, err)
			require.True(t, res.Changed)
			got := rem.srv.Stats(rem.name)[gittest.EndpointUploadPack]
			assert.Equal(t, int64(1), got.Requests)
			if tc.atMost > 0 {
				assert.LessOrEqual(t, got.ResponseBytes, tc.atMost, "blobs were fetched")
			}
			if tc.atLeast > 0 {
				assert.GreaterOrEqual(t, got.ResponseBytes, tc.atLeast, "the fallback fetches the tip's blobs")
				assert.Less(t, got.ResponseBytes, int64(2*len(big)), "the fallback fetched more than the tip")
			}
			assert.Equal(t, rem.git(t, "rev-parse", "refs/heads/stage/test~1:blobs/big.bin"), rem.git(t, "rev-parse", "refs/heads/stage/test:blobs/big.bin"), "blobs outside Dir are kept")
			rem.assertNoRewrites(t, "stage/test")
		})
	}
}
