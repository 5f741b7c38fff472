//go:build integration

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
)

// The whole e2e benchmark on the small world: railyard and both Kargo ways
// with the git and kustomize CLIs. Every way must leave the same objects on
// every stage branch; the full clone must cost the most bytes.
func TestE2EAllWaysSmall(t *testing.T) {
	cli := os.Getenv("RAILYARD_KUSTOMIZE")
	if cli == "" {
		t.Fatal("RAILYARD_KUSTOMIZE must name the kustomize CLI for the integration tests")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	results, err := e2eBench(ctx, e2eOptions{Preset: demo.Small, Seed: demo.DefaultSeed,
		Ways: []string{e2eRailyard, e2eKargo195, e2eKargo111}, Kustomize: cli, TempDir: t.TempDir(), Progress: io.Discard})
	require.NoError(t, err)
	require.Len(t, results, 3)
	ry, full, blobless := results[0], results[1], results[2]
	for _, r := range results[1:] {
		assert.True(t, e2eSameOutputs(ry, r), "%s rendered other objects than railyard", r.Way)
		assert.Equal(t, []string{"clone monorepo", "checkout", "clone gitops", "copy+edit", "kustomize build", "commit+push", "propose+merge"},
			r.Phases.names, r.Way)
	}
	assert.Greater(t, full.MonorepoBytes, blobless.MonorepoBytes, "a full clone receives more than a blobless one")
	assert.Greater(t, blobless.MonorepoBytes, ry.MonorepoBytes, "railyard receives only the cone (and the window's commits)")

	var out bytes.Buffer
	e2eReport(&out, results)
	assert.Contains(t, out.String(), "wall time railyard/kargo-1.9.5")
	assert.Contains(t, out.String(), "wall time railyard/kargo-1.11-blobless")
}
