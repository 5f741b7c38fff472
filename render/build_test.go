package render

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildWorld(t *testing.T) {
	t.Parallel()
	for _, d := range deployments {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			monorepo := &recordingFS{FS: worldFS(t, "monorepo")}
			mounts, w := fixedShape(t, d, monorepo)
			r, err := Build(context.Background(), mounts, w)
			require.NoError(t, err)
			golden(t, d+".yaml", r.YAML())

			out := string(r.YAML())
			wantImage := "image: ghcr.io/code-dot-org/code-dot-org:git-" + testSHA
			if d == "production" {
				wantImage += "@" + testDigest
			}
			assert.Equal(t, 2, strings.Count(out, wantImage+"\n"), "dashboard Deployment and CronJob use the promoted image")
			assert.NotContains(t, out, "image: code-dot-org\n")
			assert.Contains(t, out, "name: "+d+"-cdo-dashboard\n", "env-type namePrefix")
			assert.Contains(t, out, "codeai.code.org/env-type: "+d+"\n", "env-type label")
			assert.Contains(t, out, "namespace: codeai-"+d+"\n")
			assert.Contains(t, out, "- name: CDO_ENV_TYPE\n          value: "+d+"\n", "env patch")
			assert.Equal(t, d == "production", strings.Contains(out, "kind: HorizontalPodAutoscaler"), "autoscaling only in production")
			assert.Empty(t, monorepo.touched("k8s/kustomize/overlays"), "overlays/ must never be read")
			assert.Empty(t, monorepo.touched("k8s/kustomize/bin"), "bin/ must never be read")

			for _, o := range r.Objects() {
				assert.Equal(t, "codeai-"+d, o.Namespace, "%s %s", o.Kind, o.Name)
				assert.True(t, strings.HasPrefix(o.Name, d+"-"), "%s %s", o.Kind, o.Name)
			}
		})
	}
}

// Both template shapes seen in practice render the same manifests.
func TestBuildTemplateShapes(t *testing.T) {
	t.Parallel()
	for _, d := range deployments {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fm, fw := fixedShape(t, d, worldFS(t, "monorepo"))
			fixed, err := Build(context.Background(), fm, fw)
			require.NoError(t, err)
			monorepo := &recordingFS{FS: worldFS(t, "monorepo")}
			em, ew := emptyShape(t, d, monorepo)
			empty, err := Build(context.Background(), em, ew)
			require.NoError(t, err)
			assert.Equal(t, string(fixed.YAML()), string(empty.YAML()))
			assert.Empty(t, monorepo.touched("k8s/kustomize/overlays"))
		})
	}
}
