package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// The README's first command: the whole flow on the demo world, twice. The
// first run promotes all four stages (production through a merged pull
// request); the second finds nothing to change and opens no pull request.
func TestPromoteDemoTwice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	state := t.TempDir()

	var out1, progress bytes.Buffer
	require.NoError(t, run(ctx, &out1, &progress, []string{"-state", state}), progress.String())
	first := out1.String()
	for _, stage := range []string{"staging", "test", "levelbuilder"} {
		assert.Regexp(t, `(?m)^`+stage+` +stage/`+stage+` +freight [0-9a-f]{12} +commit [0-9a-f]{12} +changed=true +files=\d+$`, first)
	}
	assert.Regexp(t, `(?m)^production +stage/production +freight [0-9a-f]{12} +pull request #1 `, first)
	assert.Regexp(t, `(?m)^production +stage/production +merged as [0-9a-f]{12}$`, first)
	assert.Contains(t, progress.String(), "fetching k8s/kustomize", "progress goes to stderr")

	gitopsDir := filepath.Join(state, "served", "gitops.git")
	for _, b := range []string{"stage/staging", "stage/test", "stage/levelbuilder", "stage/production"} {
		_, err := gittest.Git(gitopsDir, "rev-parse", "--verify", b)
		require.NoError(t, err, b)
	}
	parents := strings.Fields(gittest.MustGit(t, gitopsDir, "log", "-1", "--format=%P", "stage/production"))
	assert.Len(t, parents, 2, "production's tip is the merge commit of the review pull request")
	files := gittest.MustGit(t, gitopsDir, "ls-tree", "-r", "--name-only", "stage/production")
	assert.Contains(t, files, "apps/codeai/deployments/production/deploy/")
	assert.Contains(t, files, "horizontalpodautoscaler", "production renders the autoscaling component")
	staging := gittest.MustGit(t, gitopsDir, "ls-tree", "-r", "--name-only", "stage/staging")
	assert.NotContains(t, staging, "horizontalpodautoscaler")
	assert.NotContains(t, staging, "overlays")
	tips := gittest.MustGit(t, gitopsDir, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/stage/")

	var out2 bytes.Buffer
	progress.Reset()
	require.NoError(t, run(ctx, &out2, &progress, []string{"-state", state}), progress.String())
	second := out2.String()
	assert.Equal(t, 3, strings.Count(second, "changed=false"), second)
	assert.NotContains(t, second, "changed=true")
	assert.Contains(t, second, "up to date, no pull request")
	assert.NotContains(t, second, "pull request #")
	assert.Equal(t, tips, gittest.MustGit(t, gitopsDir, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/stage/"),
		"the second run moves no stage branch")
}

func TestBadArguments(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{
		{"extra"},
		{"-gitops", "https://example.invalid/g.git"},
		{"-monorepo", "https://example.invalid/m.git"},
		{"-monorepo", "https://example.invalid/m.git", "-gitops", "https://example.invalid/g.git", "-image", "ghcr.io/o/a", "-forge-repo", "nope"},
		{"-monorepo", "https://example.invalid/m.git", "-gitops", "https://example.invalid/g.git", "-image", "ghcr.io/o/a", "-forge-repo", "o/r", "-forge", "bitbucket"},
		{"-no-such-flag"},
	} {
		var out, errb bytes.Buffer
		assert.Error(t, run(ctx, &out, &errb, args), args)
		assert.Empty(t, out.String(), args)
	}
}
