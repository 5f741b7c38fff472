package sparse_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/sparse"
)

func TestMain(m *testing.M) {
	if cache := os.Getenv("SPARSE_CACHE_CHILD"); cache != "" {
		os.Exit(cacheChild(cache))
	}
	code := m.Run()
	if historyTmpl.root != "" {
		_ = os.RemoveAll(historyTmpl.root)
	}
	os.Exit(code)
}

// cacheChild is one of the processes of TestCacheSharedAcrossProcesses:
// it fetches SPARSE_COMMIT from SPARSE_URL through the shared cache.
func cacheChild(cache string) int {
	co, err := sparse.Fetch(context.Background(), sparse.Request{
		URL: os.Getenv("SPARSE_URL"), Commit: os.Getenv("SPARSE_COMMIT"), Paths: []string{"k8s/kustomize"},
	}, sparse.WithCache(cache))
	if err == nil {
		_, err = fs.Stat(co.FS, "k8s/kustomize/base/kustomization.yaml")
	}
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("fetched", co.Commit)
	return 0
}

// repo is a served bare repository built for one test.
type repo struct {
	srv  *gittest.Server
	name string
	dir  string
	url  string
}

// newRepo serves a new empty repository with the given upload-pack
// settings.
func newRepo(t *testing.T, cfg gittest.Config) *repo {
	t.Helper()
	srv := gittest.New(t)
	const name = "monorepo.git"
	dir, err := srv.InitBare(name)
	require.NoError(t, err)
	require.NoError(t, srv.Configure(name, cfg))
	return &repo{srv: srv, name: name, dir: dir, url: srv.RepoURL(name)}
}

// commit commits files (regular, or with modes) on main and returns the id.
func (r *repo) commit(t *testing.T, msg string, files []gittest.File, deletes ...string) string {
	t.Helper()
	id, err := gittest.CommitTree(r.dir, "main", msg, files, deletes...)
	require.NoError(t, err)
	return id
}

// deployFiles is a small monorepo: a deploy package with the k8s layout,
// a sibling directory sharing its prefix, and unrelated bulk content.
func deployFiles(version string) []gittest.File {
	return []gittest.File{
		{Path: "README.md", Data: "monorepo\n"},
		{Path: "k8s/README.md", Data: "k8s\n"},
		{Path: "k8s/kustomize/base/kustomization.yaml", Data: "resources:\n- deployment.yaml\n"},
		{Path: "k8s/kustomize/base/deployment.yaml", Data: "kind: Deployment\nversion: " + version + "\n"},
		{Path: "k8s/kustomize/components/autoscaling/kustomization.yaml", Data: "kind: Component\n"},
		{Path: "k8s/kustomize/overlays/prod/kustomization.yaml", Data: "resources:\n- ../../base\n"},
		{Path: "k8s/kustomize/bin/render.sh", Data: "#!/bin/sh\necho render\n", Mode: "100755"},
		{Path: "k8s/kustomize/base/current.yaml", Data: "deployment.yaml", Mode: "120000"},
		{Path: "k8s/kustomize-old/base/kustomization.yaml", Data: "old\n"},
		{Path: "k8s/bin/deploy", Data: "#!/bin/sh\n", Mode: "100755"},
		{Path: "apps/dashboard/main.go", Data: "package main\n"},
		{Path: "apps/dashboard/assets/big.bin", Data: string(make([]byte, 200_000))},
	}
}

// emptyDir reports whether dir holds nothing (or does not exist).
func emptyDir(t *testing.T, dir string) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return true
	}
	require.NoError(t, err)
	return len(entries) == 0
}

// entry is one file of a snapshot: its kind and content (or link target).
type entry struct {
	Kind string // "file", "exec" or "link"
	Data string
}

// snapshotDir records the files below each of paths in the directory root.
func snapshotDir(t *testing.T, root string, paths []string) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	for _, p := range paths {
		err := filepath.WalkDir(filepath.Join(root, filepath.FromSlash(p)), func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(root, name)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if d.Type()&fs.ModeSymlink != 0 {
				target, err := os.Readlink(name)
				out[rel] = entry{"link", target}
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(name)
			kind := "file"
			if info.Mode()&0o100 != 0 {
				kind = "exec"
			}
			out[rel] = entry{kind, string(data)}
			return err
		})
		require.NoError(t, err)
	}
	return out
}

// snapshotFS records every file of fsys, reading links as links.
func snapshotFS(t *testing.T, fsys fs.FS) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := fs.ReadLink(fsys, name)
			out[name] = entry{"link", target}
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		kind := "file"
		if info.Mode()&0o100 != 0 {
			kind = "exec"
		}
		out[name] = entry{kind, string(data)}
		return err
	})
	require.NoError(t, err)
	return out
}

// oracle is a full local clone of a repository in which the git CLI makes
// cone-mode sparse checkouts.
type oracle struct{ dir string }

func newOracle(t *testing.T, bareDir string) *oracle {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oracle")
	gittest.MustGit(t, "", "clone", "--quiet", "--no-checkout", bareDir, dir)
	return &oracle{dir: dir}
}

// checkout is `git sparse-checkout set --cone paths` + `git checkout
// commit`, snapshotted below paths.
func (o *oracle) checkout(t *testing.T, commit string, paths []string) map[string]entry {
	t.Helper()
	gittest.MustGit(t, o.dir, append([]string{"sparse-checkout", "set", "--cone"}, paths...)...)
	gittest.MustGit(t, o.dir, "checkout", "--quiet", "--detach", commit)
	return snapshotDir(t, o.dir, paths)
}
