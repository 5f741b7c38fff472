package freight

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveDemo builds and serves the small demo world for one test.
func serveDemo(t *testing.T) (*demo.World, *demo.Served) {
	t.Helper()
	w, err := demo.Build(t.TempDir(), demo.Small, demo.DefaultSeed)
	require.NoError(t, err)
	s, err := demo.Serve(context.Background(), w)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return w, s
}

func demoWarehouse(t *testing.T, w *demo.World, s *demo.Served, opts ...Option) *Warehouse {
	t.Helper()
	git, err := NewGitSource(s.MonorepoURL, w.Branch, WithLimit(len(w.Commits)))
	require.NoError(t, err)
	img, err := NewImageSource(s.ImageRepo, WithPageSize(25))
	require.NoError(t, err)
	wh, err := NewWarehouse(w.App, git, []ImageLister{img}, opts...)
	require.NoError(t, err)
	return wh
}

// On the demo world, discovery pairs exactly the world's real candidates —
// including the late image — and explains every other tag and commit, while
// Kargo's newest-vs-newest criteria pair nothing.
func TestDemoWorldDiscovery(t *testing.T) {
	t.Parallel()
	w, s := serveDemo(t)
	d, err := demoWarehouse(t, w, s).Discover(context.Background())
	require.NoError(t, err)
	require.NoError(t, d.Err())

	var want []string
	for _, tag := range w.Candidates() {
		want = append(want, tag.Commit)
	}
	assert.Equal(t, want, freightIDs(d.Freight), "every real candidate, newest commit first")
	for _, f := range d.Freight {
		assert.Equal(t, s.Digests[f.Images[0].Tag], f.Images[0].Digest)
		assert.Equal(t, KargoID(w.App, f), f.ID)
	}
	assert.Contains(t, freightIDs(d.Freight), w.Late().Commit, "the late image pairs")

	reasons := map[string]Reason{}
	for _, u := range d.Unpaired {
		key := u.Image.Tag
		if key == "" {
			key = u.Commit.ID
		}
		reasons[key] = u.Reason
	}
	assert.Equal(t, ReasonNoImage, reasons[w.Lagging().ID], "the lagging commit")
	for _, tag := range w.Tags {
		switch tag.Decoy {
		case "":
		case demo.DecoyOffBranch:
			assert.Equal(t, ReasonNotOnBranch, reasons[tag.Name], tag.Name)
		default:
			assert.Equal(t, ReasonDecoy, reasons[tag.Name], tag.Name)
		}
	}
	for _, c := range w.Commits {
		if !c.HasImage {
			assert.Equal(t, ReasonNoImage, reasons[c.ID], c.ID)
		}
	}
	assert.Equal(t, len(w.Tags), d.Stats.Tags)
	assert.Len(t, d.Unpaired, len(w.Tags)-len(want)+len(w.Commits)-len(want))

	// Registry cost: pages + one HEAD per paired tag.
	stats := s.Registry.Stats()
	assert.EqualValues(t, d.Stats.TagPages, stats["tags/list"])
	assert.EqualValues(t, len(d.Freight), stats["manifest HEAD"])

	// Kargo: NewestBuild picks the most recently built tag its allow regex
	// admits; the criteria compare it with the newest commit only.
	var builds []Image
	for _, tag := range w.Tags { // push order
		if _, ok := CommitFromTag(tag.Name); ok {
			builds = append(builds, Image{RepoURL: s.ImageRepo, Tag: tag.Name})
		}
	}
	commits := make([]Commit, 0, len(w.Commits))
	for _, c := range w.Commits {
		commits = append(commits, Commit{ID: c.ID})
	}
	assert.Empty(t, kargoNewestVsNewest(builds, commits), "newest commit lags and the newest build is the late one")
}

// The include-paths filter keeps exactly the commits the world says changed
// the deploy package.
func TestDemoWorldIncludePaths(t *testing.T) {
	t.Parallel()
	w, s := serveDemo(t)
	git, err := NewGitSource(s.MonorepoURL, w.Branch, WithLimit(len(w.Commits)), WithIncludePaths(demo.DeployPath))
	require.NoError(t, err)
	h, err := git.History(context.Background())
	require.NoError(t, err)
	assert.Equal(t, StrategyTreeDepth, h.Stats.Strategy)
	var want []string
	for _, c := range w.Commits {
		if c.DeployChanged {
			want = append(want, c.ID)
		}
	}
	assert.Equal(t, want, ids(h.Commits))
}

// The legacy gate over the demo GitOps repository admits, for production,
// only the commits the world recorded.
func TestDemoWorldLegacyGate(t *testing.T) {
	t.Parallel()
	w, s := serveDemo(t)
	files := fstest.MapFS{}
	list := gittest.MustGit(t, s.GitOpsDir, "ls-tree", "-r", "--name-only", w.Branch, "warehouses")
	for _, p := range strings.Fields(list) {
		files[p] = &fstest.MapFile{Data: []byte(gittest.MustGit(t, s.GitOpsDir, "show", w.Branch+":"+p) + "\n")}
	}
	gate := LegacyGitflowGate{FS: files, Warehouse: w.App, Env: "production"}
	d, err := demoWarehouse(t, w, s, WithGates(gate)).Discover(context.Background())
	require.NoError(t, err)
	var want []string
	for _, c := range w.Commits { // newest first, like Legacy
		if slices.Contains(w.Legacy["production"], c.ID) && c.HasImage {
			want = append(want, c.ID)
		}
	}
	require.NotEmpty(t, want)
	assert.Equal(t, want, freightIDs(d.Freight))
}
