//go:build integration

package render

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kustomizeCLI returns the kustomize CLI CI installs (.ci/tools). Its
// absence is a failure: the oracle must run in CI.
func kustomizeCLI(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("RAILYARD_KUSTOMIZE")
	require.NotEmpty(t, bin, "RAILYARD_KUSTOMIZE must name the kustomize v5.8.1 CLI (source .ci/tools)")
	out, err := exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "v5.8.1", "the oracle is kustomize v5.8.1")
	return bin
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
