package main

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
)

// The e2e benchmark's railyard side on the small world, end to end: all
// four stage branches rendered, production through a merged pull request
// (e2eOutputs checks the merge), counters read. The Kargo ways need the
// kustomize CLI and run in the integration test.
func TestE2ERailyardSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	results, err := e2eBench(ctx, e2eOptions{Preset: demo.Small, Seed: demo.DefaultSeed, Ways: []string{e2eRailyard}, Progress: io.Discard})
	require.NoError(t, err)
	require.Len(t, results, 1)
	ry := results[0]
	assert.Len(t, ry.Outputs, 4, "one rendered branch per stage")
	for branch, blobs := range ry.Outputs {
		assert.NotEmpty(t, blobs, branch)
	}
	assert.Positive(t, ry.MonorepoBytes)
	assert.Positive(t, ry.GitOpsBytes)
	assert.Positive(t, ry.PushBytes)
	assert.Positive(t, ry.RegistryRequests, "discovery is part of railyard's run")
	assert.Equal(t, []string{"discover", "fetch policy", "sparse fetch", "render", "commit+push", "propose+merge"}, ry.Phases.names)

	var out bytes.Buffer
	e2eReport(&out, results)
	assert.Contains(t, out.String(), "bytes received (git)")
}

func TestE2EBadOptions(t *testing.T) {
	ctx := context.Background()
	_, err := e2eBench(ctx, e2eOptions{Preset: demo.Small, Ways: []string{e2eKargo195}, Progress: io.Discard})
	assert.ErrorContains(t, err, "must start with railyard")
	_, err = e2eBench(ctx, e2eOptions{Preset: demo.Small, Ways: []string{e2eRailyard, "svn"}, Progress: io.Discard})
	assert.ErrorContains(t, err, "unknown way")
	_, err = e2eBench(ctx, e2eOptions{Preset: demo.Small, Ways: []string{e2eRailyard, e2eKargo111},
		Kustomize: "/nonexistent/kustomize", Progress: io.Discard})
	assert.ErrorContains(t, err, "needs the kustomize CLI")
	assert.Error(t, runE2E(ctx, []string{"-no-such-flag"}))
}
