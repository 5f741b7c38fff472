//go:build integration

package render

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kustomizeCLI returns the kustomize CLI CI installs (.ci/tools,
// RAILYARD_KUSTOMIZE), after checking that it is built on the kustomize
// api this package builds with: v5.8.2 for api v0.21.2 (v5.8.1 is built
// on v0.21.1 and prints other bytes, see testdata/corpus), v5.7.1 for
// Kargo's v0.20.1 (.ci/render-kustomize-v0.20.1 passes
// RAILYARD_KUSTOMIZE_KARGO). Its absence is a failure: the oracle must run
// in CI.
func kustomizeCLI(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("RAILYARD_KUSTOMIZE")
	require.NotEmpty(t, bin, "RAILYARD_KUSTOMIZE must name the kustomize CLI built on render's kustomize api (source .ci/tools)")
	_, api := krustyModuleDir(t)
	out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	require.NoError(t, err, string(out))
	var built string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "dep" && f[1] == "sigs.k8s.io/kustomize/api" {
			built = f[2]
		}
	}
	require.Equal(t, api, built, "%s is built on kustomize api %s, render on %s", bin, built, api)
	return bin
}

// cliBuild runs `kustomize build dir`.
func cliBuild(t *testing.T, bin, dir string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "build", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	return stdout.String()
}

// Every tree of testdata/corpus: Build's output is byte for byte what
// the CLI prints for the tree, and what it prints for the assembled tree
// (Result.Wrapper next to it).
func TestOracleCorpus(t *testing.T) {
	bin := kustomizeCLI(t)
	for _, name := range corpusTrees(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := buildCorpus(t, name)
			assert.Equal(t, cliBuild(t, bin, filepath.Join("testdata/corpus", name)), string(r.YAML()), "kustomize build of the tree")
			dir := t.TempDir()
			layOut(t, dir, []Mount{{At: "t", FS: os.DirFS(filepath.Join("testdata/corpus", name))}}, Wrapper{Dir: "w"}, r)
			assert.Equal(t, cliBuild(t, bin, filepath.Join(dir, "w")), string(r.YAML()), "kustomize build of the assembled tree")
		})
	}
}

// layOut writes the mounts and the wrapper Build generated to dir, the
// tree `kustomize build` is then run on.
func layOut(t *testing.T, dir string, mounts []Mount, w Wrapper, r *Result) {
	t.Helper()
	for _, m := range mounts {
		require.NoError(t, os.CopyFS(filepath.Join(dir, filepath.FromSlash(m.At)), m.FS))
	}
	wrapperDir := filepath.Join(dir, filepath.FromSlash(w.Dir))
	require.NoError(t, os.MkdirAll(wrapperDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(wrapperDir, "kustomization.yaml"), r.Wrapper(), 0o644))
}

// Result.YAML is byte for byte what the kustomize CLI prints for the same
// tree laid out on disk, for every deployment and both template shapes.
func TestOracleKustomizeCLI(t *testing.T) {
	bin := kustomizeCLI(t)
	shapes := map[string]func(testing.TB, string, fs.FS) ([]Mount, Wrapper){
		"fixed": fixedShape,
		"empty": emptyShape,
		"pdb":   withPDB,
	}
	for name, shape := range shapes {
		for _, d := range deployments {
			t.Run(name+"/"+d, func(t *testing.T) {
				t.Parallel()
				mounts, w := shape(t, d, worldFS(t, "monorepo"))
				r, err := Build(context.Background(), mounts, w)
				require.NoError(t, err)

				dir := t.TempDir()
				layOut(t, dir, mounts, w, r)
				var stdout, stderr bytes.Buffer
				cmd := exec.Command(bin, "build", filepath.Join(dir, filepath.FromSlash(w.Dir)))
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				require.NoError(t, cmd.Run(), stderr.String())
				assert.Equal(t, stdout.String(), string(r.YAML()))
			})
		}
	}
}

// The same on the shared demo world (internal/testkit/demo), both template shapes.
func TestOracleDemoWorld(t *testing.T) {
	bin := kustomizeCLI(t)
	w, commit, mono, gitops := demoInputs(t)
	for _, d := range w.Deployments {
		shapes, _ := demoShapes(t, d, commit, mono, gitops)
		for name, shape := range shapes {
			t.Run(d+"/"+name, func(t *testing.T) {
				t.Parallel()
				mounts, wrapper := shape()
				r, err := Build(context.Background(), mounts, wrapper)
				require.NoError(t, err)
				dir := t.TempDir()
				layOut(t, dir, mounts, wrapper, r)
				var stdout, stderr bytes.Buffer
				cmd := exec.Command(bin, "build", filepath.Join(dir, filepath.FromSlash(wrapper.Dir)))
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				require.NoError(t, cmd.Run(), stderr.String())
				assert.Equal(t, stdout.String(), string(r.YAML()))
			})
		}
	}
}
