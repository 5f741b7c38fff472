package sparse_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/sparse"
)

// history is a repository whose deploy package changes in the third of
// four commits: commits[0] and commits[1] share it, commits[2] and
// commits[3] (the tip) share another version of it.
type history struct {
	*repo
	commits []string
}

func newHistory(t *testing.T) *history {
	t.Helper()
	tmpl := historyTmpl.get(t)
	srv := gittest.New(t)
	const name = "monorepo.git"
	require.NoError(t, os.CopyFS(srv.RepoDir(name), os.DirFS(tmpl.dir)))
	require.NoError(t, srv.Configure(name, gittest.FullConfig()))
	return &history{repo: &repo{srv: srv, name: name, dir: srv.RepoDir(name), url: srv.RepoURL(name)}, commits: tmpl.commits}
}

// repoTemplate is a bare repository built once per test binary and copied
// for each test, which then owns its copy.
type repoTemplate struct {
	once      sync.Once
	root, dir string
	commits   []string
	err       error
}

// historyTmpl is the template of every history.
var historyTmpl repoTemplate

func (tmpl *repoTemplate) get(t *testing.T) *repoTemplate {
	t.Helper()
	tmpl.once.Do(func() {
		if tmpl.root, tmpl.err = os.MkdirTemp("", "sparse-history-"); tmpl.err != nil {
			return
		}
		dir := filepath.Join(tmpl.root, "monorepo.git")
		if _, tmpl.err = gittest.Git("", "init", "--quiet", "--bare", "--initial-branch=main", dir); tmpl.err != nil {
			return
		}
		for _, c := range []struct {
			msg     string
			files   []gittest.File
			deletes []string
		}{
			{"initial", deployFiles("1"), nil},
			{"app only", []gittest.File{{Path: "apps/dashboard/main.go", Data: "package main // 2\n"}}, nil},
			{"deploy changed", []gittest.File{
				{Path: "k8s/kustomize/base/deployment.yaml", Data: "kind: Deployment\nversion: 3\n"},
				{Path: "k8s/kustomize/base/jobs/migrate.yaml", Data: "kind: Job\n"},
				{Path: "k8s/kustomize/bin/render.sh", Data: "#!/bin/sh\necho 3\n"}, // loses its executable bit
			}, []string{"k8s/kustomize/overlays/prod/kustomization.yaml"}},
			{"app at tip", []gittest.File{{Path: "apps/dashboard/main.go", Data: "package main // 4\n"}}, nil},
		} {
			id, err := gittest.CommitTree(dir, "main", c.msg, c.files, c.deletes...)
			if err != nil {
				tmpl.err = err
				return
			}
			tmpl.commits = append(tmpl.commits, id)
		}
		tmpl.dir = dir
	})
	require.NoError(t, tmpl.err)
	return tmpl
}

// configure applies c and, if treeFilters is false, forbids tree:<depth>
// filters on the server (uploadpackfilter.tree.allow=false).
func (r *repo) configure(t *testing.T, c gittest.Config, treeFilters bool) {
	t.Helper()
	require.NoError(t, r.srv.Configure(r.name, c))
	if !treeFilters {
		gittest.MustGit(t, r.dir, "config", "uploadpackfilter.tree.allow", "false")
	}
}

var pathSets = [][]string{
	{"k8s/kustomize"},
	{"k8s/kustomize/base", "k8s/kustomize/components"},
	{"k8s"},
	{"apps/dashboard", "k8s/kustomize/components"},
	{"k8s/kustomize/base/jobs", "k8s/kustomize/base"}, // nested: merged
}

// Fetch yields the files and modes the git CLI checks out in cone mode,
// for old and new commits, changed and unchanged deploy packages, and
// WriteTo writes exactly that to disk.
func TestFetchMatchesGit(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	o := newOracle(t, h.dir)
	type tc struct {
		commit int
		paths  []string
		want   map[string]entry
	}
	var cases []tc
	for _, c := range []int{0, 1, 2, 3} {
		for _, paths := range pathSets {
			if c < 2 && paths[0] == "k8s/kustomize/base/jobs" {
				continue // jobs/ only exists from the third commit on
			}
			cases = append(cases, tc{c, paths, o.checkout(t, h.commits[c], paths)})
		}
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("commit%d/%v", c.commit, c.paths), func(t *testing.T) {
			t.Parallel()
			require.NotEmpty(t, c.want)
			co, err := sparse.Fetch(context.Background(), sparse.Request{URL: h.url, Commit: h.commits[c.commit], Paths: c.paths})
			require.NoError(t, err)
			assert.Equal(t, sparse.StrategyPathWalk, co.Stats.Strategy)
			assert.Equal(t, h.commits[c.commit], co.Commit)
			assert.Equal(t, gittest.MustGit(t, h.dir, "rev-parse", h.commits[c.commit]+"^{tree}"), co.Tree)
			assert.Equal(t, c.want, snapshotFS(t, co.FS))

			dir := t.TempDir() + "/out"
			require.NoError(t, co.WriteTo(dir))
			assert.Equal(t, c.want, snapshotDir(t, dir, c.paths))
		})
	}
}

// Each strategy is chosen from the server's settings, and each fallback
// is visible in Stats.Strategy; the content is the same whichever is used.
func TestStrategies(t *testing.T) {
	t.Parallel()
	none := gittest.Config{}
	filterOnly := gittest.Config{AllowFilter: true}
	reachable := gittest.Config{AllowReachableSHA1InWant: true}
	tip := gittest.Config{AllowTipSHA1InWant: true}
	for _, tc := range []struct {
		name        string
		cfg         gittest.Config
		treeFilters bool
		commit      int
		branch      string
		want        string
	}{
		{"full", gittest.FullConfig(), true, 1, "", sparse.StrategyPathWalk},
		{"reachable wants and filters", gittest.Config{AllowFilter: true, AllowReachableSHA1InWant: true}, true, 1, "", sparse.StrategyPathWalk},
		{"tree filters refused", gittest.FullConfig(), false, 1, "", sparse.StrategyBlobless},
		{"no filter", reachable, true, 1, "", sparse.StrategyShallow},
		{"tip wants only, tip commit", tip, true, 3, "", sparse.StrategyShallow},
		{"nothing allowed, tip commit", none, true, 3, "", sparse.StrategyShallow},
		{"nothing allowed, old commit, branch", none, true, 1, "main", sparse.StrategyBranch},
		{"filter only, old commit, branch", filterOnly, true, 0, "main", sparse.StrategyBranch},
		// git upload-pack over stateless HTTP checks that a wanted commit
		// is reachable whatever allowTipSHA1InWant says, so the capability
		// is enough to try, and the attempt succeeds.
		{"tip wants only, old commit", tip, true, 1, "", sparse.StrategyShallow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHistory(t)
			paths := []string{"k8s/kustomize"}
			want := newOracle(t, h.dir).checkout(t, h.commits[tc.commit], paths)
			h.configure(t, tc.cfg, tc.treeFilters)
			co, err := sparse.Fetch(context.Background(), sparse.Request{
				URL: h.url, Commit: h.commits[tc.commit], Branch: tc.branch, Paths: paths,
			})
			require.NoError(t, err)
			assert.Equal(t, tc.want, co.Stats.Strategy)
			assert.Equal(t, want, snapshotFS(t, co.FS))
			total := h.srv.Total(h.name)
			assert.Equal(t, total.ResponseBytes, co.Stats.BytesReceived, "bytes counted like the server")
			assert.Equal(t, int(total.Requests), co.Stats.RoundTrips, "round trips counted like the server")
		})
	}
}

// The path walk costs four round trips for a two-level path and never
// downloads content outside the cone.
func TestPathWalkCost(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	var last sparse.Progress
	calls := 0
	co, err := sparse.Fetch(context.Background(), sparse.Request{URL: h.url, Commit: h.commits[1], Paths: []string{"k8s/kustomize"}},
		sparse.WithProgress(func(p sparse.Progress) { last = p; calls++ }))
	require.NoError(t, err)
	assert.Equal(t, 3, calls, "one report per upload-pack response")
	assert.Equal(t, sparse.Progress{BytesReceived: co.Stats.BytesReceived, Objects: co.Stats.Objects, RoundTrips: co.Stats.RoundTrips}, last)
	assert.Equal(t, 4, co.Stats.RoundTrips, "advertisement, commit+root, k8s, cone")
	assert.Less(t, co.Stats.BytesReceived, int64(4000), "the 200 kB asset outside the cone is never sent")
	// commit, root tree, k8s tree, then the cone's 7 trees and 6 blobs.
	assert.Equal(t, 16, co.Stats.Objects)
}

// On the demo monorepo (k8s/kustomize with base, components, overlays, the
// k8s/kustomize-old decoy and bulk content), Fetch matches the git CLI at
// the tip and at older commits with and without deploy changes.
func TestDemoWorldMatchesGit(t *testing.T) {
	t.Parallel()
	w, err := demo.Build(t.TempDir(), demo.Small, demo.DefaultSeed)
	require.NoError(t, err)
	s, err := demo.Serve(context.Background(), w)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	o := newOracle(t, w.MonorepoDir)

	picks := []demo.Commit{w.Commits[0]}
	var changed, unchanged bool
	for _, c := range w.Commits[1:] {
		if c.DeployChanged && !changed || !c.DeployChanged && !unchanged {
			picks = append(picks, c)
			changed, unchanged = changed || c.DeployChanged, unchanged || !c.DeployChanged
		}
	}
	require.Len(t, picks, 3, "tip, a deploy change and an app-only change")
	for _, c := range picks {
		for _, paths := range [][]string{
			{demo.DeployPath},
			{demo.DeployPath + "/base", demo.DeployPath + "/components"},
			{"k8s"},
		} {
			want := o.checkout(t, c.ID, paths)
			require.NotEmpty(t, want)
			co, err := sparse.Fetch(context.Background(), sparse.Request{URL: s.MonorepoURL, Commit: c.ID, Paths: paths})
			require.NoError(t, err)
			assert.Equal(t, want, snapshotFS(t, co.FS), "%s %v", c.Subject, paths)
			assert.Equal(t, sparse.StrategyPathWalk, co.Stats.Strategy)
		}
	}
}

// Regression: without a cache, path-walk reads a blob missing after the
// cone request as "left out by the blob:limit filter". When a cone tree is
// identical to a tree already fetched alone on the way to another cone
// path, it was not requested again, so its small files were missing and
// the fetch failed with a false blob-size ErrLimitExceeded.
func TestFetchConeTreeSharedWithPathWalk(t *testing.T) {
	t.Parallel()
	r := newRepo(t, gittest.FullConfig())
	commit := r.commit(t, "duplicated directory", []gittest.File{
		{Path: "a/f.yaml", Data: "same\n"},
		{Path: "a/b/g.yaml", Data: "inner\n"},
		{Path: "c/f.yaml", Data: "same\n"},
		{Path: "c/b/g.yaml", Data: "inner\n"},
	})
	co, err := sparse.Fetch(context.Background(), sparse.Request{URL: r.url, Commit: commit, Paths: []string{"a/b", "c"}})
	require.NoError(t, err)
	assert.Equal(t, sparse.StrategyPathWalk, co.Stats.Strategy)
	for name, want := range map[string]string{"a/b/g.yaml": "inner\n", "c/f.yaml": "same\n", "c/b/g.yaml": "inner\n"} {
		got, err := fs.ReadFile(co.FS, name)
		require.NoError(t, err, name)
		assert.Equal(t, want, string(got), name)
	}
}
