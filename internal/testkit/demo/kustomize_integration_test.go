//go:build integration

package demo_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// The demo world's kustomizations build with the real kustomize CLI for
// every deployment, at the newest deploy change (C1) and at an older
// commit, with both shapes of the deploy template: the empty one filled in,
// and the one with fixed relative paths over copied inputs. Both shapes
// render the same objects.
func TestKustomizeBuildsEveryDeployment(t *testing.T) {
	kustomize := os.Getenv("RAILYARD_KUSTOMIZE")
	require.NotEmpty(t, kustomize, "RAILYARD_KUSTOMIZE must name the kustomize CLI (v5.8.1)")
	w := smallWorld(t)
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, c := range []demo.Commit{w.Commits[1], w.Commits[len(w.Commits)/2]} {
		for _, d := range w.Deployments {
			t.Run(c.ID[:7]+"/"+d, func(t *testing.T) {
				t.Parallel()
				root := t.TempDir()
				extract(t, w.MonorepoDir, c.ID, "k8s/kustomize", filepath.Join(root, "src"))
				extract(t, w.GitOpsDir, w.PolicyCommit, "apps/codeai", filepath.Join(root, "gitops"))
				images := "images:\n- name: code-dot-org\n  newName: ghcr.io/code-dot-org/code-dot-org\n" +
					"  newTag: git-" + c.ID + "\n  digest: " + digest + "\n"
				tail := "namespace: codeai-" + d + "\n" + images

				// The empty template, filled in.
				tmpl := read(t, root, "gitops/apps/codeai/kargo/templates/deploy/kustomization.yaml")
				filled := strings.Replace(tmpl, "resources: []\ncomponents: []\n",
					"resources:\n- ../../src/k8s/kustomize/base\ncomponents:\n- ../../gitops/apps/codeai/envTypes/"+d+"\n", 1)
				require.NotEqual(t, tmpl, filled, "the template has empty resources and components")
				write(t, root, "render/deploy/kustomization.yaml", filled+tail)
				out := build(t, kustomize, filepath.Join(root, "render/deploy"))

				assert.Contains(t, out, "name: "+d+"-cdo-dashboard\n")
				assert.Contains(t, out, "namespace: codeai-"+d+"\n")
				assert.Contains(t, out, "code.org/env-type: "+d+"\n")
				assert.Contains(t, out, "image: ghcr.io/code-dot-org/code-dot-org:git-"+c.ID+"@"+digest+"\n")
				assert.NotContains(t, out, "image: code-dot-org\n", "every app image is set")
				assert.NotContains(t, out, "local-", "overlays are not rendered")
				assert.Contains(t, out, "kind: CronJob\n")
				assert.Contains(t, out, "name: "+d+"-cdo-env\n", "the env type's ConfigMap is a resource")
				assert.Regexp(t, "name: "+d+"-cdo-locals-[a-z0-9]{10}\n", out)
				assert.Equal(t, d == "production", strings.Contains(out, "kind: HorizontalPodAutoscaler\n"),
					"only production autoscales")

				// The fixed-paths template over copied inputs.
				fixed := filepath.Join(root, "fixed")
				extract(t, w.MonorepoDir, c.ID, "k8s/kustomize", filepath.Join(fixed, "src"))
				extract(t, w.GitOpsDir, w.PolicyCommit, "apps/codeai/envTypes", filepath.Join(fixed, "gitops"))
				require.NoError(t, os.MkdirAll(filepath.Join(fixed, "render"), 0o755))
				require.NoError(t, os.Rename(filepath.Join(fixed, "gitops/apps/codeai/envTypes/"+d), filepath.Join(fixed, "render/envType")))
				require.NoError(t, os.Rename(filepath.Join(fixed, "gitops/apps/codeai/envTypes/components"), filepath.Join(fixed, "render/components")))
				write(t, fixed, "render/deploy/kustomization.yaml",
					read(t, root, "gitops/apps/codeai/kargo/templates/deploy-fixed/kustomization.yaml")+tail)
				assert.Equal(t, out, build(t, kustomize, filepath.Join(fixed, "render/deploy")))
			})
		}
	}
}

func build(t *testing.T, kustomize, dir string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kustomize, "build", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	return stdout.String()
}

func read(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	require.NoError(t, err)
	return string(b)
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

// extract writes the regular files under dir at commit into dst, keeping
// their repository paths.
func extract(t *testing.T, repo, commit, dir, dst string) {
	t.Helper()
	out, err := gittest.Git(repo, "archive", "--format=tar", commit, dir)
	require.NoError(t, err)
	tr := tar.NewReader(strings.NewReader(out + strings.Repeat("\x00", 1024)))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		write(t, dst, h.Name, string(b))
	}
}
