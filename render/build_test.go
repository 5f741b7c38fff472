package render

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

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

// 50 builds, one after another and all at once, give byte-identical
// output (run under -race in CI).
func TestBuildDeterministic(t *testing.T) {
	t.Parallel()
	const n = 50
	mounts, w := fixedShape(t, "production", worldFS(t, "monorepo"))
	first, err := Build(context.Background(), mounts, w)
	require.NoError(t, err)
	want := first.YAML()
	wantFiles := first.Files()

	for i := 0; i < n; i++ {
		r, err := Build(context.Background(), mounts, w)
		require.NoError(t, err)
		require.Equal(t, want, r.YAML(), "sequential build %d", i)
	}

	results := make([]*Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Each goroutine brings its own mounts, as independent callers do.
			mounts, w := fixedShape(t, "production", worldFS(t, "monorepo"))
			results[i], errs[i] = Build(context.Background(), mounts, w)
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i], "concurrent build %d", i)
		require.Equal(t, want, results[i].YAML(), "concurrent build %d", i)
		require.Equal(t, wantFiles, results[i].Files(), "concurrent build %d", i)
	}
}

func TestBuildContext(t *testing.T) {
	mounts, w := fixedShape(t, "test", worldFS(t, "monorepo"))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, mounts, w)
	assert.ErrorIs(t, err, context.Canceled)

	// A Build waiting for another build's kustomize phase gives up when its
	// context ends. Not parallel: the test holds the slot.
	kustomizeSlot <- struct{}{}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Build(ctx, mounts, w)
	<-kustomizeSlot
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	_, err = Build(context.Background(), mounts, w)
	assert.NoError(t, err, "the slot is free again")
}

// A panic inside kustomize comes back as ErrPanic, not a crash.
func TestRunKustomizeRecoversPanic(t *testing.T) {
	t.Parallel()
	r, err := runKustomize(nil, "w")
	assert.Nil(t, r)
	assert.ErrorIs(t, err, ErrPanic)
}

// BenchmarkBuild renders one deployment, with allocations; see also
// `go run ./internal/bench render` for the comparison with the CLI.
func BenchmarkBuild(b *testing.B) {
	for _, d := range []string{"test", "production"} {
		b.Run(d, func(b *testing.B) {
			mounts, w := fixedShape(b, d, worldFS(b, "monorepo"))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(context.Background(), mounts, w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
