package render

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
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

// 50 builds running at once give byte-identical output (run under -race in
// CI); the golden tests cover repeated builds one after another.
func TestBuildDeterministic(t *testing.T) {
	t.Parallel()
	const n = 50
	// Each build gets its own mounts, as independent callers would.
	type input struct {
		mounts []Mount
		w      Wrapper
	}
	inputs := make([]input, n)
	for i := range inputs {
		inputs[i].mounts, inputs[i].w = fixedShape(t, "production", worldFS(t, "monorepo"))
	}
	results := make([]*Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Go(func() { results[i], errs[i] = Build(context.Background(), in.mounts, in.w) })
	}
	wg.Wait()
	require.NoError(t, errs[0])
	for i := range n {
		require.NoError(t, errs[i], "build %d", i)
		require.Equal(t, results[0].YAML(), results[i].YAML(), "build %d", i)
		require.Equal(t, results[0].Files(), results[i].Files(), "build %d", i)
	}
	golden(t, "production.yaml", results[0].YAML())
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
	r, err := runKustomize(nil, "w", false)
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

// A Component from the monorepo joins the env type's: the
// PodDisruptionBudget gets the env-type prefix, namespace and selector.
func TestBuildMonorepoComponent(t *testing.T) {
	t.Parallel()
	mounts, w := withPDB(t, "levelbuilder", worldFS(t, "monorepo"))
	r, err := Build(context.Background(), mounts, w)
	require.NoError(t, err)
	golden(t, "levelbuilder-pdb.yaml", r.YAML())
	var kinds []string
	for _, o := range r.Objects() {
		kinds = append(kinds, o.Kind)
		if o.Kind == "PodDisruptionBudget" {
			assert.Equal(t, "levelbuilder-cdo-dashboard", o.Name)
			assert.Equal(t, "codeai-levelbuilder", o.Namespace)
			assert.Contains(t, string(o.YAML), "codeai.code.org/env-type: levelbuilder")
		}
	}
	assert.Contains(t, kinds, "PodDisruptionBudget")
}

// sentinels lists every error Build may wrap.
var sentinels = []error{ErrInvalidMount, ErrInvalidWrapper, ErrInvalidImage, ErrRemote, ErrAbsolutePath,
	ErrEscape, ErrSymlink, ErrNotFound, ErrInvalidKustomization, ErrInvalidYAML, ErrAliasBomb, ErrTooLarge,
	ErrDuplicateObject, ErrHelmRefused, ErrKustomize, ErrPanic, ErrInvalidOption, ErrRead}

// FuzzBuildTemplate: whatever the deploy template holds, Build returns
// objects or an error wrapping one of the sentinels, and never a panic.
func FuzzBuildTemplate(f *testing.F) {
	f.Add([]byte("resources: [../app/base]\ncomponents: [../app/comp]\n"))
	f.Add([]byte("resources: [https://example.com/x.yaml]\n"))
	f.Add([]byte("resources: [../../../../etc]\npatches: [{path: /etc/passwd}]\n"))
	f.Add([]byte("kind: Component\n"))
	f.Add([]byte("images: [{name: nginx, newTag: '1'}]\nnamespace: x\nnamePrefix: p-\n"))
	f.Add([]byte("configMapGenerator: [{name: c, files: [../app/base/deploy.yaml]}]\n"))
	f.Add([]byte("helmCharts: [{name: x}]\n"))
	f.Add([]byte(billionLaughs(4)))
	f.Fuzz(func(t *testing.T, template []byte) {
		app := smallApp()
		app["templates/deploy.yaml"] = &fstest.MapFile{Data: template}
		w := Wrapper{Dir: "w", Template: "app/templates/deploy.yaml"}
		r, err := Build(context.Background(), []Mount{{At: "app", FS: app}}, w)
		if err == nil {
			require.NotNil(t, r)
			return
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("error wraps no sentinel: %v", err)
	})
}
