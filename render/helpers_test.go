package render

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// The four deployments of the test world, in promotion order.
var deployments = []string{"test", "staging", "levelbuilder", "production"}

const (
	testSHA    = "4f1c2b9d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c"
	testDigest = "sha256:9d3c1f0e2b7a4c6d8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"
)

// testImage is what a promotion of testSHA sets; production also pins the
// digest, as a reviewed stage does.
func testImage(d string) Image {
	img := Image{Name: "code-dot-org", NewName: "ghcr.io/code-dot-org/code-dot-org", Tag: "git-" + testSHA}
	if d == "production" {
		img.Digest = testDigest
	}
	return img
}

func worldFS(t testing.TB, dir string) fs.FS {
	t.Helper()
	fsys, err := fs.Sub(os.DirFS("testdata/world"), dir)
	require.NoError(t, err)
	return fsys
}

func sub(t testing.TB, fsys fs.FS, dir string) fs.FS {
	t.Helper()
	s, err := fs.Sub(fsys, dir)
	require.NoError(t, err)
	return s
}

func loadTestDeployment(t testing.TB, d string) Deployment {
	t.Helper()
	dep, err := LoadDeployment(worldFS(t, "gitops"), "apps/codeai/deployments/"+d+"/deployment.yaml")
	require.NoError(t, err)
	return dep
}

// fixedShape lays the inputs out as the Kargo promotion does with the
// fixed template: the monorepo package at src, the env type and the shared
// components under render/, the wrapper at render/deploy.
func fixedShape(t testing.TB, d string, monorepo fs.FS) ([]Mount, Wrapper) {
	t.Helper()
	dep := loadTestDeployment(t, d)
	gitops := worldFS(t, "gitops")
	mounts := []Mount{
		{At: "src", FS: monorepo},
		{At: "render/envType", FS: sub(t, gitops, "apps/codeai/envTypes/"+dep.EnvType)},
		{At: "render/components", FS: sub(t, gitops, "apps/codeai/envTypes/components")},
		{At: "policy", FS: sub(t, gitops, "apps/codeai/kargo/templates")},
	}
	return mounts, Wrapper{
		Dir:       "render/deploy",
		Template:  "policy/deploy/kustomization.yaml",
		Namespace: dep.Namespace,
		Images:    []Image{testImage(d)},
	}
}

// emptyShape mounts both repositories whole and fills an empty template.
func emptyShape(t testing.TB, d string, monorepo fs.FS) ([]Mount, Wrapper) {
	t.Helper()
	dep := loadTestDeployment(t, d)
	mounts := []Mount{
		{At: "gitops", FS: worldFS(t, "gitops")},
		{At: "src", FS: monorepo},
		{At: "templates", FS: os.DirFS("testdata/templates")},
	}
	return mounts, Wrapper{
		Dir:        "wrapper",
		Template:   "templates/empty/kustomization.yaml",
		Resources:  []string{"../src/k8s/kustomize/base"},
		Components: []string{"../gitops/apps/codeai/envTypes/" + dep.EnvType},
		Namespace:  dep.Namespace,
		Images:     []Image{testImage(d)},
	}
}

// recordingFS records every name it is asked about.
type recordingFS struct {
	fs.FS
	mu    sync.Mutex
	names []string
}

func (r *recordingFS) record(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names = append(r.names, name)
}

func (r *recordingFS) Open(name string) (fs.File, error) {
	r.record(name)
	return r.FS.Open(name)
}

func (r *recordingFS) Lstat(name string) (fs.FileInfo, error) {
	r.record(name)
	return fs.Lstat(r.FS, name)
}

func (r *recordingFS) ReadLink(name string) (string, error) {
	r.record(name)
	return fs.ReadLink(r.FS, name)
}

// touched returns the recorded names under dir.
func (r *recordingFS) touched(dir string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.names {
		if contains(dir, n) {
			out = append(out, n)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
		require.NoError(t, os.WriteFile(file, got, 0o644))
	}
	want, err := os.ReadFile(file)
	require.NoError(t, err, "missing golden file; run go test ./render -update")
	require.Equal(t, strings.Split(string(want), "\n"), strings.Split(string(got), "\n"), "output differs from %s", file)
}

// withPDB is emptyShape plus the monorepo's own pdb Component, as a
// deployment that opts into a source-side component does. It comes first:
// components apply in order, and the env type's prefix and labels must
// reach the PodDisruptionBudget too.
func withPDB(t testing.TB, d string, monorepo fs.FS) ([]Mount, Wrapper) {
	mounts, w := emptyShape(t, d, monorepo)
	w.Components = append([]string{"../src/k8s/kustomize/components/pdb"}, w.Components...)
	return mounts, w
}
