package gitops_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
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
