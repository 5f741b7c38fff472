package render

import (
	"context"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResultFiles(t *testing.T) {
	t.Parallel()
	mounts, w := fixedShape(t, "production", worldFS(t, "monorepo"))
	for naming, want := range map[FileNaming][]string{
		NamingKustomize: {
			"codeai-production_apps_v1_deployment_production-cdo-dashboard.yaml",
			"codeai-production_autoscaling_v2_horizontalpodautoscaler_production-cdo-dashboard.yaml",
			"codeai-production_batch_v1_cronjob_production-cdo-dashboard-cleanup.yaml",
			"codeai-production_networking.k8s.io_v1_ingress_production-cdo-dashboard.yaml",
			"codeai-production_v1_configmap_production-cdo-locals-d98277b926.yaml",
			"codeai-production_v1_configmap_production-env-settings.yaml",
			"codeai-production_v1_service_production-cdo-dashboard.yaml",
		},
		NamingKargo: {
			"codeai-production-configmap-production-cdo-locals-d98277b926.yaml",
			"codeai-production-configmap-production-env-settings.yaml",
			"codeai-production-cronjob-production-cdo-dashboard-cleanup.yaml",
			"codeai-production-deployment-production-cdo-dashboard.yaml",
			"codeai-production-horizontalpodautoscaler-production-cdo-dashboard.yaml",
			"codeai-production-ingress-production-cdo-dashboard.yaml",
			"codeai-production-service-production-cdo-dashboard.yaml",
		},
	} {
		r, err := Build(context.Background(), mounts, w, WithFileNaming(naming))
		require.NoError(t, err)
		files := r.Files()
		assert.Equal(t, want, slices.Sorted(maps.Keys(files)))
		// The files hold exactly the objects of the stream.
		var joined []string
		for _, o := range r.Objects() {
			joined = append(joined, string(o.YAML))
		}
		assert.Equal(t, string(r.YAML()), strings.Join(joined, "---\n"))
		contents := slices.Collect(maps.Values(files))
		for _, o := range r.Objects() {
			assert.Contains(t, contents, o.YAML, "%s %s has a file", o.Kind, o.Name)
		}
	}
}

// The accessors return copies: a caller cannot change the Result.
func TestResultCopies(t *testing.T) {
	t.Parallel()
	r, err := Build(context.Background(), []Mount{{At: "app", FS: smallApp()}}, smallWrapper())
	require.NoError(t, err)
	want := string(r.YAML())
	r.YAML()[0] = 'X'
	r.Objects()[0].YAML[0] = 'X'
	for _, data := range r.Files() {
		data[0] = 'X'
	}
	r.Wrapper()[0] = 'X'
	assert.Equal(t, want, string(r.YAML()))
	assert.Equal(t, byte('a'), r.Objects()[0].YAML[0])
	assert.Equal(t, byte('a'), r.Wrapper()[0])
}

// assertSafeNames checks what every file name must satisfy.
func assertSafeNames(t *testing.T, objects []Object, names []string) {
	t.Helper()
	seen := map[string]int{}
	for i, n := range names {
		assert.True(t, fs.ValidPath(n) && !strings.Contains(n, "/"), "%q is one path element", n)
		assert.False(t, strings.HasPrefix(n, "."), "%q is not hidden", n)
		assert.True(t, strings.HasSuffix(n, ".yaml"), n)
		assert.LessOrEqual(t, len(n), 255, n)
		assert.Equal(t, -1, strings.IndexFunc(n, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_", r))
		}), n)
		if j, dup := seen[n]; dup {
			t.Errorf("objects %v and %v share file %q", objects[j], objects[i], n)
		}
		seen[n] = i
	}
}

func TestFileNamesHostileAndColliding(t *testing.T) {
	t.Parallel()
	objects := []Object{
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "../../etc/passwd"},
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "..-..-etc-passwd"},
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "..", Name: ".hidden"},
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "x/y"},
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "x_y"},
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: strings.Repeat("long", 100)},
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "x-deployment", Name: "y"},
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "x", Name: "deployment-y"},
		{APIVersion: "example.com/v1", Kind: "Widget", Name: "w"},
		{APIVersion: "example.com/v2", Kind: "Widget", Name: "w"},
		{APIVersion: "v1", Kind: "", Name: ""},
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "straße"},
	}
	for _, naming := range []FileNaming{NamingKustomize, NamingKargo} {
		names := fileNames(objects, naming)
		assertSafeNames(t, objects, names)
	}
	// Plain names stay readable.
	assert.Equal(t, []string{"a_v1_configmap_web.yaml", "apps_v1_deployment_web.yaml"}, fileNames([]Object{
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "web"},
		{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
	}, NamingKustomize))
}

// FuzzFileNames: names are always safe single path elements and distinct.
func FuzzFileNames(f *testing.F) {
	f.Add("v1", "ConfigMap", "ns", "name", "apps/v1", "Deployment", "", "name")
	f.Add("v1", "A", "b-c", "d", "v1", "A", "b", "c-d")
	f.Add("v1", "../", "..", "/", "v1", ".", "", "")
	f.Fuzz(func(t *testing.T, v1, k1, ns1, n1, v2, k2, ns2, n2 string) {
		objects := []Object{
			{APIVersion: v1, Kind: k1, Namespace: ns1, Name: n1},
			{APIVersion: v2, Kind: k2, Namespace: ns2, Name: n2},
		}
		if v1 == v2 && k1 == k2 && ns1 == ns2 && n1 == n2 {
			return // kustomize never outputs the same object twice
		}
		for _, naming := range []FileNaming{NamingKustomize, NamingKargo} {
			assertSafeNames(t, objects, fileNames(objects, naming))
		}
	})
}
