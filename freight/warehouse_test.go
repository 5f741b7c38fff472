package freight

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// world is a monorepo branch and a registry filled the way CI fills it,
// with the awkward cases: a lagging build, a late image, decoys, an image of
// a commit on another branch.
type world struct {
	git     *gittest.Server
	reg     *registrytest.Registry
	commits []string // main, newest first
	other   string   // a commit on another branch
	pushed  []Image  // candidate images in push order, digests set
}

func newWorld(t *testing.T, n int) *world {
	t.Helper()
	w := &world{git: gittest.New(t), reg: registrytest.New(t)}
	dir, err := w.git.InitBare("monorepo.git")
	require.NoError(t, err)
	w.commits = history(t, dir, "main", n)
	gittest.MustGit(t, dir, "branch", "feature", w.commits[n-1])
	w.other = history(t, dir, "feature", 1)[0]
	return w
}

// push builds the index of commit id into repo as git-<id>, with per-arch
// companions, and records it.
func (w *world) push(t *testing.T, repo, id string, seed int64) string {
	t.Helper()
	ctx := context.Background()
	digest, err := w.reg.PushIndex(ctx, repo, "git-"+id, registrytest.IndexOptions{Revision: id, Seed: seed})
	require.NoError(t, err)
	for _, arch := range []string{"amd64", "arm64"} {
		_, err := w.reg.PushImage(ctx, repo, "git-"+id+"-"+arch, seed)
		require.NoError(t, err)
	}
	w.pushed = append(w.pushed, Image{RepoURL: w.reg.Repo(repo), Tag: "git-" + id, Digest: digest})
	return digest
}

func (w *world) decoys(t *testing.T, repo string) {
	t.Helper()
	ctx := context.Background()
	digest, err := w.reg.PushImage(ctx, repo, "staging", 99)
	require.NoError(t, err)
	id := w.commits[1]
	require.NoError(t, w.reg.TagMany(ctx, repo, digest, []string{
		"latest", "git-" + id[:7], "git-" + strings.ToUpper(id), "git-" + id + "-dirty", "v1.2.3",
	}))
}

func (w *world) warehouse(t *testing.T, repos []string, opts ...Option) *Warehouse {
	t.Helper()
	src, err := NewGitSource(w.git.RepoURL("monorepo.git"), "main", WithLimit(len(w.commits)))
	require.NoError(t, err)
	var images []ImageLister
	for _, r := range repos {
		s, err := NewImageSource(w.reg.Repo(r), WithPageSize(10))
		require.NoError(t, err)
		images = append(images, s)
	}
	wh, err := NewWarehouse("codeai", src, images, opts...)
	require.NoError(t, err)
	return wh
}

func freightIDs(fs []Freight) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Commit.ID)
	}
	return out
}

func byReason(us []Unpaired) map[Reason][]string {
	out := map[Reason][]string{}
	for _, u := range us {
		what := u.Image.Tag
		if what == "" {
			what = u.Commit.ID
		}
		out[u.Reason] = append(out[u.Reason], what)
	}
	return out
}

// TestWarehouseVersusKargoNewestVsNewest runs the lagging-build and the
// late-image cases against real servers: railyard pairs every commit that
// has its image, where Kargo's criteria (newest build vs newest commit)
// create nothing.
func TestWarehouseVersusKargoNewestVsNewest(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 8)
	c := w.commits
	// CI built c[5], c[4], c[2], c[1] in order; c[0]'s build lags; c[3]'s
	// image lands last, late.
	for i, n := range []int{5, 4, 2, 1, 3} {
		w.push(t, "app", c[n], int64(i))
	}
	w.push(t, "app", w.other, 42) // a feature-branch build
	w.decoys(t, "app")
	w.reg.ResetStats()

	d, err := w.warehouse(t, []string{"app"}).Discover(context.Background())
	require.NoError(t, err)
	require.NoError(t, d.Err())
	assert.Equal(t, []string{c[1], c[2], c[3], c[4], c[5]}, freightIDs(d.Freight), "newest commit first")

	commits := make([]Commit, len(c))
	for i, id := range c {
		commits[i] = Commit{ID: id}
	}
	builds := w.pushed[:len(w.pushed)-1] // Kargo's allow regex also admits the feature build; keep it out to be fair
	assert.Empty(t, kargoNewestVsNewest(builds, commits), "the newest build is c[3], the newest commit c[0]: Kargo pairs nothing")
	w.push(t, "app", c[0], 7)
	assert.Equal(t, []string{c[0]}, freightIDs(kargoNewestVsNewest(w.pushed, commits)), "once c[0] is built Kargo pairs only it")
	d, err = w.warehouse(t, []string{"app"}).Discover(context.Background())
	require.NoError(t, err)
	assert.Equal(t, c[:6], freightIDs(d.Freight))
}

func TestWarehouseDiscover(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 6)
	c := w.commits
	digests := map[string]string{}
	for i, n := range []int{4, 3, 2, 1} {
		digests[c[n]] = w.push(t, "app", c[n], int64(i))
	}
	w.push(t, "app", w.other, 42)
	w.decoys(t, "app")
	w.reg.ResetStats()

	d, err := w.warehouse(t, []string{"app"}).Discover(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{c[1], c[2], c[3], c[4]}, freightIDs(d.Freight))
	for _, f := range d.Freight {
		assert.Equal(t, "codeai", f.Origin)
		assert.Equal(t, KargoID("codeai", f), f.ID)
		require.Len(t, f.Images, 1)
		assert.Equal(t, digests[f.Commit.ID], f.Images[0].Digest, "index digest")
		assert.Equal(t, w.git.RepoURL("monorepo.git"), f.Commit.RepoURL)
		assert.Equal(t, "main", f.Commit.Branch)
	}
	reasons := byReason(d.Unpaired)
	assert.ElementsMatch(t, []string{c[0], c[5]}, reasons[ReasonNoImage])
	assert.Equal(t, []string{"git-" + w.other}, reasons[ReasonNotOnBranch])
	assert.Len(t, reasons[ReasonDecoy], 5*2+6, "per-arch tags of five builds, six aliases and malformed tags")
	assert.Empty(t, reasons[ReasonIncomplete])

	// Registry requests: tag pages + one HEAD per paired tag (+ the ping),
	// never one per tag.
	stats := w.reg.Stats()
	assert.EqualValues(t, d.Stats.TagPages, stats[registrytest.KindTags])
	assert.EqualValues(t, len(d.Freight), stats[registrytest.KindManifestHead])
	assert.Zero(t, stats[registrytest.KindManifestGet])
	assert.Equal(t, 21, d.Stats.Tags)
	assert.Equal(t, 3, d.Stats.TagPages)
	assert.EqualValues(t, 1, stats[registrytest.KindOther], "the /v2/ ping")
	// The client also counts the https probe go-containerregistry races
	// against http for a loopback registry.
	assert.LessOrEqual(t, d.Stats.RegistryRequests, d.Stats.TagPages+len(d.Freight)+2)
	// Regression: the counter lived in a transport only the git side used,
	// so RegistryRequests was 0 once the registry moved to internal/httpx.
	assert.GreaterOrEqual(t, d.Stats.RegistryRequests, d.Stats.TagPages+len(d.Freight)+1, "pages, HEADs and the ping")
	assert.Equal(t, StrategyCommitsOnly, d.Stats.Git.Strategy)
}

func TestWarehouseSeveralRepositories(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 4)
	c := w.commits
	for i, n := range []int{3, 2, 1} {
		w.push(t, "app", c[n], int64(i))
	}
	for i, n := range []int{3, 1} {
		w.push(t, "static", c[n], int64(10+i))
	}
	d, err := w.warehouse(t, []string{"static", "app"}).Discover(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{c[1], c[3]}, freightIDs(d.Freight))
	for _, f := range d.Freight {
		assert.Equal(t, []string{w.reg.Repo("app"), w.reg.Repo("static")}, reposOf(f.Images), "one image per repository, sorted")
		for _, img := range f.Images {
			assert.NotEmpty(t, img.Digest)
		}
	}
	reasons := byReason(d.Unpaired)
	assert.Equal(t, []string{"git-" + c[2]}, reasons[ReasonIncomplete])
	assert.ElementsMatch(t, []string{c[0], c[2]}, reasons[ReasonNoImage])
	for _, u := range d.Unpaired {
		if u.Reason == ReasonNoImage && u.Commit.ID == c[2] {
			assert.Contains(t, u.Detail, w.reg.Repo("static"))
			assert.NotContains(t, u.Detail, w.reg.Repo("app"))
		}
	}
}

func TestWarehouseChecks(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 5)
	c := w.commits
	ctx := context.Background()
	for i, n := range []int{4, 3, 2} {
		w.push(t, "app", c[n], int64(i))
	}
	// c[1]'s image claims to come from c[4].
	_, err := w.reg.PushIndex(ctx, "app", "git-"+c[1], registrytest.IndexOptions{Revision: c[4], Seed: 5})
	require.NoError(t, err)

	t.Run("revision check", func(t *testing.T) {
		t.Parallel()
		d, err := w.warehouse(t, []string{"app"}, WithRevisionCheck()).Discover(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{c[2], c[3], c[4]}, freightIDs(d.Freight))
		assert.Equal(t, []string{"git-" + c[1]}, byReason(d.Unpaired)[ReasonRevisionMismatch])
	})
	t.Run("legacy gate", func(t *testing.T) {
		t.Parallel()
		gate := LegacyGitflowGate{Warehouse: "codeai", Env: "production", FS: fstest.MapFS{
			"warehouses/codeai/legacy-gitflow/production/merged/git-" + c[3] + ".yaml": {
				Data: []byte("revision: " + c[3] + "\ntag: git-" + c[3] + "\nmergedAt: 2026-11-20T10:00:00Z\n")},
		}}
		d, err := w.warehouse(t, []string{"app"}, WithGates(gate)).Discover(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{c[3]}, freightIDs(d.Freight))
		assert.ElementsMatch(t, []string{c[1], c[2], c[4]}, byReason(d.Unpaired)[ReasonGateRefused])
	})
	t.Run("gate failure fails discovery", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("gitops repository unreadable")
		_, err := w.warehouse(t, []string{"app"}, WithGates(GateFunc(func(context.Context, Freight) error { return boom }))).Discover(ctx)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("moved immutable tag", func(t *testing.T) {
		t.Parallel()
		first, err := w.warehouse(t, []string{"app"}).Discover(ctx)
		require.NoError(t, err)
		issued := first.Freight
		// Pretend c[2]'s tag pointed elsewhere when its Freight was issued.
		for i := range issued {
			if issued[i].Commit.ID == c[2] {
				issued[i].Images = []Image{{RepoURL: issued[i].Images[0].RepoURL, Tag: issued[i].Images[0].Tag, Digest: "sha256:" + strings.Repeat("0", 64)}}
			}
		}
		d, err := w.warehouse(t, []string{"app"}, WithIssued(issued...)).Discover(ctx)
		require.NoError(t, err)
		assert.NotContains(t, freightIDs(d.Freight), c[2], "a moved tag never becomes new Freight")
		assert.Len(t, d.Freight, 3)
		var moved *MovedTagError
		require.ErrorAs(t, d.Err(), &moved)
		assert.ErrorIs(t, d.Err(), ErrMovedTag)
		assert.Equal(t, "git-"+c[2], moved.Image.Tag)
		assert.Equal(t, "sha256:"+strings.Repeat("0", 64), moved.Previous)
		assert.Equal(t, []string{"git-" + c[2]}, byReason(d.Unpaired)[ReasonMovedTag])
	})
}

func TestWarehouseErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2)
	w.push(t, "app", w.commits[0], 1)
	ctx := context.Background()

	git, err := NewGitSource(w.git.RepoURL("monorepo.git"), "main")
	require.NoError(t, err)
	img, err := NewImageSource(w.reg.Repo("app"), fastRetries)
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		wh     string
		git    *GitSource
		images []ImageLister
	}{
		{"bad name", "Code_AI", git, []ImageLister{img}},
		{"empty name", "", git, []ImageLister{img}},
		{"no git", "w", nil, []ImageLister{img}},
		{"no images", "w", git, nil},
		{"nil image", "w", git, []ImageLister{nil}},
		{"duplicate image", "w", git, []ImageLister{img, img}},
	} {
		_, err := NewWarehouse(tc.wh, tc.git, tc.images)
		assert.ErrorIs(t, err, ErrInvalid, tc.name)
	}

	w.reg.SetFault(func(r registrytest.Request) *registrytest.Fault {
		if r.Kind == registrytest.KindManifestHead {
			return &registrytest.Fault{Status: http.StatusServiceUnavailable}
		}
		return nil
	})
	wh, err := NewWarehouse("w", git, []ImageLister{img})
	require.NoError(t, err)
	_, err = wh.Discover(ctx)
	require.ErrorIs(t, err, ErrUnavailable)
	var re *RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, w.reg.Repo("app"), re.URL)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = wh.Discover(cctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// fakeCommits and fakeImages are the small interfaces a caller plugs in
// instead of the real git and registry sources (another registry's auth
// flow, a cache, a test).
type fakeCommits []Commit

func (f fakeCommits) History(context.Context) (*History, error) {
	return &History{Commits: f, Tip: f[0].ID}, nil
}

type fakeImages struct {
	repo string
	tags []string
}

func (f fakeImages) Repository() string                     { return f.repo }
func (f fakeImages) Tags(context.Context) ([]string, error) { return f.tags, nil }
func (f fakeImages) Resolve(_ context.Context, tag string) (Image, error) {
	return Image{RepoURL: f.repo, Tag: tag, Digest: "sha256:" + strings.Repeat("a", 64)}, nil
}

func TestWarehouseAcceptsOtherSources(t *testing.T) {
	t.Parallel()
	commits := fakeCommits{{RepoURL: "https://git.example/app.git", ID: id(2)}, {RepoURL: "https://git.example/app.git", ID: id(1)}}
	images := fakeImages{repo: "ecr.example/app", tags: []string{"git-" + id(1), "latest"}}
	w, err := NewWarehouse("app", commits, []ImageLister{images})
	require.NoError(t, err)
	d, err := w.Discover(context.Background())
	require.NoError(t, err)
	require.Len(t, d.Freight, 1)
	assert.Equal(t, id(1), d.Freight[0].Commit.ID)
	assert.Equal(t, "sha256:"+strings.Repeat("a", 64), d.Freight[0].Images[0].Digest)
	assert.Zero(t, d.Stats.TagPages, "pages are counted only by ImageSource")

	// The revision check needs a source that reads revisions.
	_, err = NewWarehouse("app", commits, []ImageLister{images}, WithRevisionCheck())
	require.ErrorIs(t, err, ErrInvalid)
	// Nil sources, typed or not, are refused.
	var nilGit *GitSource
	_, err = NewWarehouse("app", nilGit, []ImageLister{images})
	require.ErrorIs(t, err, ErrInvalid)
	var nilImages *ImageSource
	_, err = NewWarehouse("app", commits, []ImageLister{nilImages})
	require.ErrorIs(t, err, ErrInvalid)
}
