package gitops_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// Tree entries must be in git's order (a directory sorts as if its name
// ended in '/'), or git fsck rejects the tree; names chosen to trip a
// naive sort.
func TestCommitWritesTreesInGitOrder(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	files := map[string][]byte{}
	for _, name := range []string{"a", "a-b", "a.b", "a0", "b/c", "b.c", "b-c", "b/d/e", "b0", "Z", "_"} {
		if name == "a" {
			name = "a/x" // "a" as a directory next to "a-b", "a.b", "a0"
		}
		files[name] = []byte(name)
	}
	res, err := newRepo(t, rem.url).Commit(testContext(t), gitops.Change{Branch: "stage/test", Dir: "x", Files: files})
	require.NoError(t, err)
	rem.git(t, "fsck", "--strict")
	got := strings.Fields(rem.git(t, "ls-tree", "-r", "--name-only", res.Commit))
	want := make([]string, 0, len(files))
	for name := range files {
		want = append(want, "x/"+name)
	}
	assert.ElementsMatch(t, want, got)

	// Replacing a deep Dir next to those names keeps every sibling.
	res, err = newRepo(t, rem.url).Commit(testContext(t), gitops.Change{Branch: "stage/test", Dir: "x/b/d", Files: render(1)})
	require.NoError(t, err)
	rem.git(t, "fsck", "--strict")
	got = strings.Fields(rem.git(t, "ls-tree", "-r", "--name-only", res.Commit))
	assert.Contains(t, got, "x/b/c")
	assert.Contains(t, got, "x/b/d/deployment-web.yaml")
	assert.NotContains(t, got, "x/b/d/e")
}

// A Dir whose parent is a file on the branch cannot be placed.
func TestCommitDirUnderFile(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/test", map[string]string{"apps": "a file"})
	_, err := newRepo(t, rem.url).Commit(testContext(t), gitops.Change{Branch: "stage/test", Dir: "apps/web", Files: render(1)})
	assert.ErrorIs(t, err, gitops.ErrPathConflict)
}

// Symlinks, executables and gitlinks outside Dir are kept as they are (by
// hash: their blobs are never fetched); a symlink or gitlink where Dir's
// parent should be is refused, one at Dir itself is replaced by the render.
func TestCommitKeepsSpecialEntries(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	gitlink := strings.Repeat("1", 40)
	_, err := gittest.CommitTree(rem.dir, "stage/test", "seed", []gittest.File{
		{Path: "bin/run", Data: "#!/bin/sh\n", Mode: "100755"},
		{Path: "etc-link", Data: "/etc", Mode: "120000"},
		{Path: "vendor/lib", Data: gitlink, Mode: "160000"},
		{Path: "apps/web/deploy", Data: "../../etc", Mode: "120000"},
		{Path: "linked", Data: "/etc", Mode: "120000"},
	})
	require.NoError(t, err)
	ctx := testContext(t)
	before := rem.git(t, "ls-tree", "-r", "refs/heads/stage/test", "bin", "etc-link", "vendor")

	res, err := newRepo(t, rem.url).Commit(ctx, gitops.Change{Branch: "stage/test", Dir: "apps/web/deploy", Files: render(1)})
	require.NoError(t, err)
	assert.Equal(t, before, rem.git(t, "ls-tree", "-r", res.Commit, "bin", "etc-link", "vendor"), "modes and ids kept")
	assert.Contains(t, rem.git(t, "ls-tree", "-r", res.Commit, "apps/web/deploy"), "100644 blob", "the symlink at Dir became the rendered tree")
	rem.git(t, "fsck", "--strict")

	for _, dir := range []string{"linked/x", "vendor/lib/x", "etc-link/deploy"} {
		_, err = newRepo(t, rem.url).Commit(ctx, gitops.Change{Branch: "stage/test", Dir: dir, Files: render(1)})
		assert.ErrorIs(t, err, gitops.ErrPathConflict, dir)
	}
}
