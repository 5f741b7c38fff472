package gitops_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

var testProvenance = &gitops.Provenance{
	SourceRepo:   "https://github.com/org/monorepo",
	SourceCommit: strings.Repeat("a", 40),
	Images:       []string{"ghcr.io/org/app:git-" + strings.Repeat("a", 40) + "@sha256:" + strings.Repeat("b", 64)},
	FreightID:    strings.Repeat("c", 40),
	PolicyCommit: strings.Repeat("d", 40),
}

func TestCommitReplacesOnlyDir(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	before := rem.seed(t, "stage/test", map[string]string{
		"README.md":                           "policy lives on main\n",
		"apps/web/deployments/test/other.txt": "kept\n",
		deployDir + "/old.yaml":               "old\n",
		deployDir + "/nested/gone.yaml":       "gone\n",
		"apps/api/deploy/api.yaml":            "untouched\n",
	})
	ctx := testContext(t)
	repo := newRepo(t, rem.url)

	res, err := repo.Commit(ctx, gitops.Change{
		Branch:     "stage/test",
		Dir:        deployDir,
		Files:      map[string][]byte{"old.yaml": []byte("new\n"), "sub/added.yaml": []byte("added\n")},
		Message:    "Promote web to test",
		Provenance: testProvenance,
	})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, 1, res.Attempts)
	assert.Equal(t, "stage/test", res.Branch)
	assert.Equal(t, rem.git(t, "rev-parse", "refs/heads/stage/test"), res.Commit)
	assert.Equal(t, before, rem.git(t, "rev-parse", res.Commit+"^"), "the commit sits on the old tip")
	assert.Equal(t, []gitops.FileChange{
		{Path: "PROVENANCE", Action: "added"},
		{Path: "nested/gone.yaml", Action: "removed"},
		{Path: "old.yaml", Action: "modified"},
		{Path: "sub/added.yaml", Action: "added"},
	}, res.Files)

	assert.Equal(t, map[string]string{
		"README.md":                           "policy lives on main",
		"apps/web/deployments/test/other.txt": "kept",
		"apps/api/deploy/api.yaml":            "untouched",
		deployDir + "/old.yaml":               "new",
		deployDir + "/sub/added.yaml":         "added",
		deployDir + "/PROVENANCE":             strings.TrimSpace(testProvenance.Trailers()),
	}, rem.tree(t, "stage/test"))

	msg := rem.git(t, "log", "-1", "--format=%B", "refs/heads/stage/test")
	assert.True(t, strings.HasPrefix(msg, "Promote web to test\n\n"), msg)
	trailers := rem.git(t, "log", "-1", "--format=%(trailers:only,unfold)", "refs/heads/stage/test")
	assert.Equal(t, strings.TrimSpace(testProvenance.Trailers()), trailers, "git parses the provenance as trailers")
	assert.Equal(t, "railyard <railyard@localhost>", rem.git(t, "log", "-1", "--format=%an <%ae>", "refs/heads/stage/test"))
	assert.Equal(t, 2, rem.assertNoRewrites(t, "stage/test"))
}

func TestCommitNoChangeDoesNotPush(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "main", map[string]string{"README.md": "x"})
	ctx := testContext(t)
	repo := newRepo(t, rem.url)
	change := gitops.Change{Branch: "stage/test", Base: "main", Dir: deployDir, Files: render(1), Provenance: testProvenance}

	first, err := repo.Commit(ctx, change)
	require.NoError(t, err)
	require.True(t, first.Changed)

	rem.srv.ResetStats()
	second, err := repo.Commit(ctx, change)
	require.NoError(t, err)
	assert.False(t, second.Changed)
	assert.Equal(t, first.Commit, second.Commit)
	assert.Equal(t, 1, second.Attempts)
	assert.Empty(t, second.Files)
	stats := rem.srv.Stats(rem.name)
	assert.Zero(t, stats[gittest.EndpointReceivePack].Requests, "a no-op must not push")
	assert.Equal(t, first.Commit, rem.git(t, "rev-parse", "refs/heads/stage/test"))
}

func TestCommitCreatesBranch(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	mainTip := rem.seed(t, "main", map[string]string{"apps/web/deployments/test/deployment.yaml": "branch: stage/test\n"})
	ctx := testContext(t)
	repo := newRepo(t, rem.url)

	t.Run("orphan", func(t *testing.T) {
		res, err := repo.Commit(ctx, gitops.Change{Branch: "stage/orphan", Dir: deployDir, Files: render(1)})
		require.NoError(t, err)
		assert.True(t, res.Changed)
		assert.Equal(t, res.Commit, rem.git(t, "rev-list", "--max-parents=0", "refs/heads/stage/orphan"), "an orphan has no parent")
		assert.Equal(t, []string{deployDir + "/deployment-web.yaml", deployDir + "/service-web.yaml"},
			strings.Fields(rem.git(t, "ls-tree", "-r", "--name-only", res.Commit)), "no provenance file without provenance")
	})
	t.Run("from base", func(t *testing.T) {
		res, err := repo.Commit(ctx, gitops.Change{Branch: "stage/test", Base: "main", Dir: deployDir, Files: render(1)})
		require.NoError(t, err)
		assert.True(t, res.Changed)
		assert.Equal(t, mainTip, rem.git(t, "rev-parse", res.Commit+"^"))
		assert.Contains(t, rem.tree(t, "stage/test"), "apps/web/deployments/test/deployment.yaml")
	})
	t.Run("missing base", func(t *testing.T) {
		_, err := repo.Commit(ctx, gitops.Change{Dir: gitops.Root, Branch: "stage/other", Base: "nope", Files: render(1)})
		require.ErrorIs(t, err, gitops.ErrBaseNotFound)
	})
	t.Run("delete removes dir", func(t *testing.T) {
		res, err := repo.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Delete: true, Provenance: testProvenance})
		require.NoError(t, err)
		assert.True(t, res.Changed)
		assert.Equal(t, []string{"apps/web/deployments/test/deployment.yaml"},
			strings.Fields(rem.git(t, "ls-tree", "-r", "--name-only", res.Commit)))
	})
}

func TestCommitEmptyRepository(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	ctx := testContext(t)
	res, err := newRepo(t, rem.url).Commit(ctx, gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(3)})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, []string{"deployment-web.yaml", "service-web.yaml"},
		strings.Fields(rem.git(t, "ls-tree", "--name-only", res.Commit)), "Dir \"\" is the whole tree")
}

// Identical inputs give identical trees: nothing time- or run-dependent is
// written into the tree, only into the commit.
func TestCommitTreesAreDeterministic(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	ctx := testContext(t)
	change := gitops.Change{Dir: deployDir, Files: render(4), Provenance: testProvenance}
	var trees []string
	for i, branch := range []string{"stage/a", "stage/b"} {
		later := func() time.Time { return fixedClock().Add(time.Duration(i) * time.Hour) }
		c := change
		c.Branch = branch
		res, err := newRepo(t, rem.url, gitops.WithClock(later)).Commit(ctx, c)
		require.NoError(t, err)
		trees = append(trees, rem.git(t, "rev-parse", res.Commit+"^{tree}"))
	}
	assert.Equal(t, trees[0], trees[1])
}
