package render

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os/exec"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
)

// demoInputs builds the shared demo world (internal/testkit/demo, small preset)
// under t's temporary directory and returns the monorepo's deploy package at
// its newest commit with an image and the GitOps repository's apps/codeai at
// the policy commit, read with `git archive` into memory.
func demoInputs(t testing.TB) (w *demo.World, commit string, monorepo, gitops fstest.MapFS) {
	t.Helper()
	w, err := demo.Build(t.TempDir(), demo.Small, demo.DefaultSeed)
	require.NoError(t, err)
	for _, c := range w.Commits {
		if c.HasImage {
			commit = c.ID
			break
		}
	}
	require.NotEmpty(t, commit)
	return w, commit, gitArchive(t, w.MonorepoDir, commit, "k8s/kustomize"), gitArchive(t, w.GitOpsDir, w.PolicyCommit, "apps/codeai")
}

// gitArchive reads dir of commit in the bare repository repo into memory.
func gitArchive(t testing.TB, repo, commit, dir string) fstest.MapFS {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", repo, "archive", "--format=tar", commit, dir).Output()
	require.NoError(t, err)
	fsys := fstest.MapFS{}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fsys
		}
		require.NoError(t, err)
		switch h.Typeflag {
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			require.NoError(t, err)
			fsys[h.Name] = &fstest.MapFile{Data: data, Mode: fs.FileMode(h.Mode) & fs.ModePerm}
		case tar.TypeSymlink:
			fsys[h.Name] = &fstest.MapFile{Data: []byte(h.Linkname), Mode: fs.ModeSymlink}
		}
	}
}

// demoShapes returns the demo deployment d laid out with the demo's empty
// template (filled in) and with its fixed-path variant.
func demoShapes(t testing.TB, d, commit string, mono, gitops fstest.MapFS) (shapes map[string]func() ([]Mount, Wrapper), monorepo *recordingFS) {
	t.Helper()
	dep, err := LoadDeployment(gitops, "apps/codeai/deployments/"+d+"/deployment.yaml")
	require.NoError(t, err)
	monorepo = &recordingFS{FS: mono}
	images := []Image{{Name: "code-dot-org", NewName: "ghcr.io/code-dot-org/code-dot-org", Tag: "git-" + commit, Digest: testDigest}}
	return map[string]func() ([]Mount, Wrapper){
		"empty": func() ([]Mount, Wrapper) {
			return []Mount{{At: "src", FS: monorepo}, {At: "gitops", FS: gitops}}, Wrapper{
				Dir:        "render/deploy",
				Template:   "gitops/apps/codeai/kargo/templates/deploy/kustomization.yaml",
				Resources:  []string{"../../src/k8s/kustomize/base"},
				Components: []string{"../../gitops/apps/codeai/envTypes/" + dep.EnvType},
				Namespace:  dep.Namespace,
				Images:     images,
			}
		},
		"fixed": func() ([]Mount, Wrapper) {
			return []Mount{
					{At: "src", FS: monorepo},
					{At: "render/envType", FS: sub(t, gitops, "apps/codeai/envTypes/"+dep.EnvType)},
					{At: "render/components", FS: sub(t, gitops, "apps/codeai/envTypes/components")},
					{At: "policy", FS: sub(t, gitops, "apps/codeai/kargo/templates")},
				}, Wrapper{
					Dir:       "render/deploy",
					Template:  "policy/deploy-fixed/kustomization.yaml",
					Namespace: dep.Namespace,
					Images:    images,
				}
		},
	}, monorepo
}

// Golden tests on the shared demo world: every deployment renders the same
// objects with both template shapes, the promoted image is set, and the
// monorepo's overlays/ is never read.
func TestBuildDemoWorld(t *testing.T) {
	t.Parallel()
	w, commit, mono, gitops := demoInputs(t)
	require.Len(t, w.Deployments, 4)
	for _, d := range w.Deployments {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			shapes, monorepo := demoShapes(t, d, commit, mono, gitops)
			var outputs []string
			for _, name := range []string{"empty", "fixed"} {
				mounts, wrapper := shapes[name]()
				r, err := Build(context.Background(), mounts, wrapper)
				require.NoError(t, err, name)
				outputs = append(outputs, string(r.YAML()))
			}
			assert.Equal(t, outputs[0], outputs[1], "both template shapes render the same")
			golden(t, "demo-"+d+".yaml", []byte(outputs[0]))
			assert.Contains(t, outputs[0], "image: ghcr.io/code-dot-org/code-dot-org:git-"+commit+"@"+testDigest+"\n")
			assert.NotContains(t, outputs[0], "image: code-dot-org\n")
			assert.Contains(t, outputs[0], "name: "+d+"-cdo-dashboard\n")
			assert.Empty(t, monorepo.touched("k8s/kustomize/overlays"), "overlays/ must never be read")
		})
	}
}
