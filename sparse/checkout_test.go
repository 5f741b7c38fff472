package sparse_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/sparse"
)

func fetchFiles(t *testing.T, files []gittest.File, opts ...sparse.Option) *sparse.Checkout {
	t.Helper()
	r := newRepo(t, gittest.FullConfig())
	commit := r.commit(t, "files", files)
	co, err := sparse.Fetch(context.Background(), sparse.Request{URL: r.url, Commit: commit, Paths: []string{"k8s/kustomize"}}, opts...)
	require.NoError(t, err)
	return co
}

func TestWriteToDestinations(t *testing.T) {
	t.Parallel()
	co := fetchFiles(t, deployFiles("1"))
	want := snapshotFS(t, co.FS)

	t.Run("new directory", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "out")
		require.NoError(t, co.WriteTo(dir))
		assert.Equal(t, want, snapshotDir(t, dir, []string{"k8s"}))
		leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".out.sparse-*"))
		assert.Empty(t, leftovers, "no temporary directory remains")
	})
	t.Run("empty directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		require.NoError(t, co.WriteTo(dir))
		assert.Equal(t, want, snapshotDir(t, dir, []string{"k8s"}))
	})
	for name, setup := range map[string]func(t *testing.T, parent string) string{
		"non-empty directory": func(t *testing.T, parent string) string {
			dir := filepath.Join(parent, "out")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o644))
			return dir
		},
		"symlink to a directory": func(t *testing.T, parent string) string {
			target := filepath.Join(parent, "elsewhere")
			require.NoError(t, os.Mkdir(target, 0o755))
			require.NoError(t, os.Symlink(target, filepath.Join(parent, "out")))
			return filepath.Join(parent, "out")
		},
		"a file": func(t *testing.T, parent string) string {
			dir := filepath.Join(parent, "out")
			require.NoError(t, os.WriteFile(dir, []byte("x"), 0o644))
			return dir
		},
		"missing parent": func(t *testing.T, parent string) string {
			return filepath.Join(parent, "no", "out")
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			dir := setup(t, parent)
			before := snapshotTree(t, parent)
			err := co.WriteTo(dir)
			assert.ErrorIs(t, err, sparse.ErrDestination)
			assert.Equal(t, before, snapshotTree(t, parent), "nothing written")
		})
	}
}

// A link leaving the checkout is kept as a link in FS but refused by
// WriteTo before anything is written.
func TestWriteToRefusesEscapingLinks(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"../../../../etc/passwd", "/etc/passwd", "../../.."} {
		co := fetchFiles(t, []gittest.File{
			{Path: "k8s/kustomize/a.yaml", Data: "a\n"},
			{Path: "k8s/kustomize/evil", Data: target, Mode: "120000"},
		})
		got, err := fs.ReadLink(co.FS, "k8s/kustomize/evil")
		require.NoError(t, err)
		assert.Equal(t, target, got)
		parent := t.TempDir()
		err = co.WriteTo(filepath.Join(parent, "out"))
		assert.ErrorIs(t, err, sparse.ErrUnsafeContent, target)
		assert.True(t, emptyDir(t, parent), "nothing written")
	}
}

// Gitlinks are reported, not followed, and not in FS.
func TestSubmodulesReported(t *testing.T) {
	t.Parallel()
	const sub = "0123456789abcdef0123456789abcdef01234567"
	co := fetchFiles(t, []gittest.File{
		{Path: "k8s/kustomize/a.yaml", Data: "a\n"},
		{Path: "k8s/kustomize/vendor/lib", Data: sub, Mode: "160000"},
	})
	assert.Equal(t, []sparse.Submodule{{Path: "k8s/kustomize/vendor/lib", Commit: sub}}, co.Submodules)
	assert.Equal(t, map[string]entry{"k8s/kustomize/a.yaml": {"file", "a\n"}}, snapshotFS(t, co.FS))
}

// snapshotTree lists every path below root with its type, to show that
// nothing changed.
func snapshotTree(t *testing.T, root string) map[string]os.FileMode {
	t.Helper()
	out := map[string]os.FileMode{}
	require.NoError(t, filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil {
			out[p] = info.Mode().Type()
		}
		return err
	}))
	return out
}

// Regression: WriteTo checked each link target lexically, so a link whose
// target passes through another link ("a/.." with a -> "../..") was
// accepted, although on disk the kernel resolves a first and the ".."
// then climbs out of the written tree.
func TestWriteToRefusesLinkChainsLeavingTheTree(t *testing.T) {
	t.Parallel()
	files := append(deployFiles("1"),
		gittest.File{Path: "k8s/kustomize/a", Data: "../..", Mode: "120000"},
		gittest.File{Path: "k8s/kustomize/b", Data: "a/..", Mode: "120000"},
	)
	co := fetchFiles(t, files)
	dir := filepath.Join(t.TempDir(), "out")
	err := co.WriteTo(dir)
	if err == nil {
		resolved, rerr := filepath.EvalSymlinks(filepath.Join(dir, "k8s", "kustomize", "b"))
		require.NoError(t, rerr)
		t.Logf("k8s/kustomize/b resolves to %s, outside %s", resolved, dir)
	}
	require.ErrorIs(t, err, sparse.ErrUnsafeContent)
	assert.True(t, emptyDir(t, dir), "nothing written")
}

// Regression: FS resolved a link target lexically ("a/.." as "."), but git
// checks out the link as is and the kernel resolves a first, so FS showed
// other content than the same checkout written to disk (or made by git).
func TestFSResolvesLinkChainsLikeTheKernel(t *testing.T) {
	t.Parallel()
	co := fetchFiles(t, []gittest.File{
		{Path: "k8s/kustomize/file", Data: "top\n"},
		{Path: "k8s/kustomize/x/file", Data: "x\n"},
		{Path: "k8s/kustomize/x/y/file", Data: "y\n"},
		{Path: "k8s/kustomize/a", Data: "x/y", Mode: "120000"},
		{Path: "k8s/kustomize/c", Data: "a/..", Mode: "120000"},
	})
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, co.WriteTo(dir))
	onDisk, err := os.ReadFile(filepath.Join(dir, "k8s", "kustomize", "c", "file"))
	require.NoError(t, err)
	require.Equal(t, "x\n", string(onDisk))
	inFS, err := fs.ReadFile(co.FS, "k8s/kustomize/c/file")
	require.NoError(t, err)
	assert.Equal(t, string(onDisk), string(inFS))
}

// Regression: Stat through a symbolic link named the target ("Stat of
// current.yaml is deployment.yaml"), where os.Stat on the written checkout
// names the link, as fs.FileInfo requires (the base name of the path).
func TestFSStatThroughLinkKeepsName(t *testing.T) {
	t.Parallel()
	co := fetchFiles(t, deployFiles("1"))
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, co.WriteTo(dir))
	for _, name := range []string{"k8s/kustomize/base/current.yaml", "k8s/kustomize/base/deployment.yaml"} {
		want, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		require.NoError(t, err)
		got, err := fs.Stat(co.FS, name)
		require.NoError(t, err)
		assert.Equal(t, want.Name(), got.Name(), name)
		assert.Equal(t, want.Size(), got.Size(), name)
		assert.Equal(t, want.Mode().Type(), got.Mode().Type(), name)
	}
}

// Regression: a symbolic link with an empty target (which no file system
// can hold) passed checkLinks, so WriteTo failed half way with the
// operating system's ENOENT instead of refusing it up front as
// ErrUnsafeContent; FS meanwhile resolved "link/x" as the link's own
// directory.
func TestEmptyLinkTarget(t *testing.T) {
	t.Parallel()
	co := fetchFiles(t, append(deployFiles("1"), gittest.File{Path: "k8s/kustomize/empty", Data: "", Mode: "120000"}))
	_, err := fs.Stat(co.FS, "k8s/kustomize/empty/base/deployment.yaml")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	dir := filepath.Join(t.TempDir(), "out")
	err = co.WriteTo(dir)
	require.ErrorIs(t, err, sparse.ErrUnsafeContent)
	assert.True(t, emptyDir(t, dir), "nothing written")
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".out.sparse-*"))
	assert.Empty(t, leftovers)
}
