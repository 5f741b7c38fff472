package render

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// buildTree builds tree directory dir with Build (the tree mounted at "t",
// a wrapper at "w" wrapping dir) and with kustomize on the same tree, and
// returns both outputs.
func buildTree(t *testing.T, tree fstest.MapFS, dir string, opts ...Option) (render string, kustomize string, err error) {
	t.Helper()
	// kustomize on the disk, as the CLI and Kargo's kustomize-build run it.
	root := t.TempDir()
	require.NoError(t, os.CopyFS(root, tree))
	want, kerr := peerKrusty(filesys.MakeFsOnDisk(), filepath.Join(root, dir))
	r, err := Build(context.Background(), []Mount{{At: "t", FS: tree}}, Wrapper{Dir: "w", Resources: []string{"../t/" + dir}}, opts...)
	if err != nil {
		return "", want, err
	}
	require.NoError(t, kerr, "kustomize fails where Build builds")
	return string(r.YAML()), want, nil
}

func tree(files map[string]string) fstest.MapFS {
	out := fstest.MapFS{}
	for name, data := range files {
		out[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return out
}

const hpa = `kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
`

// Each of these was refused or built differently before; each builds
// exactly as kustomize does.
func TestFidelity(t *testing.T) {
	t.Parallel()
	for name, files := range map[string]map[string]string{
		// The duplicate check keys on apiVersion, as kustomize does.
		"HPAs of two API versions": {
			"app/kustomization.yaml": "resources: [v1.yaml, v2.yaml]\n",
			"app/v1.yaml":            "apiVersion: autoscaling/v1\n" + hpa,
			"app/v2.yaml":            "apiVersion: autoscaling/v2\n" + hpa,
		},
		// Local names that look like scp or URL references are files.
		"@ and : in file names": {
			"app/kustomization.yaml": "resources: [web@v2.yaml, 'web:v2.yaml']\n",
			"app/web@v2.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: at}\n",
			"app/web:v2.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: colon}\n",
		},
		// patchesJson6902 files are copied.
		"patchesJson6902 path": {
			"app/kustomization.yaml": "resources: [cm.yaml]\npatchesJson6902:\n- path: patch.json\n  target: {version: v1, kind: ConfigMap, name: c}\n",
			"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
			"app/patch.json":         `[{"op": "add", "path": "/data/c", "value": "d"}]`,
		},
		// Files named in builtin configs, inline and in a file.
		"builtin generator and transformer configs": {
			"app/kustomization.yaml": `resources: [cm.yaml]
generators:
- gen.yaml
transformers:
- |
  apiVersion: builtin
  kind: PatchTransformer
  metadata: {name: p}
  path: patch.yaml
  target: {kind: ConfigMap}
`,
			"app/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
			"app/gen.yaml":   "apiVersion: builtin\nkind: SecretGenerator\nmetadata: {name: s}\nenvs: [s.env]\nfiles: [key=f.txt]\n",
			"app/s.env":      "A=1\n",
			"app/f.txt":      "file content\n",
			"app/patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: any}\ndata: {patched: 'yes'}\n",
		},
		// kustomize's TestNamespacePropagationDoesNotBreakGeneratorMerge:
		// a generator directory whose envs resolve against each
		// kustomization listing it.
		"generator merge across a namespace-propagating base": {
			"cm-generator/kustomization.yaml":     "resources: [resources/general.yaml]\n",
			"cm-generator/resources/general.yaml": "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: general-environment}\nbehavior: merge\nenvs: [configuration/general]\n",
			"base/kustomization.yaml":             "generators: [../cm-generator]\nconfigMapGenerator:\n- name: general-environment\n  behavior: create\n",
			"base/configuration/general":          "BASE_LAYER_ENV=base\n",
			"overlay/kustomization.yaml":          "namespace: abc\ngenerators: [../cm-generator]\nresources: [../base]\n",
			"overlay/configuration/general":       "OVERLAY_ENV=overlay\n",
			"app/kustomization.yaml":              "resources: [../overlay]\n",
		},
		// The target's sortOptions and buildMetadata are kept.
		"target sortOptions and buildMetadata": {
			"app/kustomization.yaml": "resources: [b.yaml, a.yaml]\nsortOptions: {order: fifo}\nbuildMetadata: [originAnnotations]\n",
			"app/b.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
			"app/a.yaml":             "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, want, err := buildTree(t, tree(files), "app")
			require.NoError(t, err)
			if strings.Contains(name, "buildMetadata") {
				assert.Contains(t, got, "config.kubernetes.io/origin")
				assert.Less(t, strings.Index(got, "name: b"), strings.Index(got, "name: a"), "fifo order")
				got = strings.ReplaceAll(got, "path: ../t/app/", "path: ")
			}
			assert.Equal(t, want, got)
		})
	}
}

// What Build refuses about wrapped targets, naming the wrapper.
func TestWrappedTargetsRefused(t *testing.T) {
	t.Parallel()
	app := tree(map[string]string{
		"a/kustomization.yaml": "resources: [cm.yaml]\nsortOptions: {order: fifo}\n",
		"a/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		"b/kustomization.yaml": "resources: [cm.yaml]\nsortOptions: {order: legacy}\n",
		"b/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
		"m/kustomization.yaml": "resources: [cm.yaml]\nbuildMetadata: [managedByLabel]\n",
		"m/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n",
	})
	for _, res := range [][]string{{"../t/a", "../t/b"}, {"../t/m"}} {
		_, err := Build(context.Background(), []Mount{{At: "t", FS: app}}, Wrapper{Dir: "w", Resources: res})
		assert.ErrorIs(t, err, ErrInvalidKustomization, "%v", res)
		var fe *FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "w/kustomization.yaml", fe.Path)
	}
	r, err := Build(context.Background(), []Mount{{At: "t", FS: app}}, Wrapper{Dir: "w", Resources: []string{"../t/a"}})
	require.NoError(t, err)
	assert.Contains(t, string(r.Wrapper()), "sortOptions:\n  order: fifo\n", "the wrapper shows what it took")
}

// mySchema tells kustomize that MyApp's spec.items merge by name.
const mySchema = `{"definitions": {"example.MyApp": {
  "type": "object",
  "x-kubernetes-group-version-kind": [{"group": "example.com", "kind": "MyApp", "version": "v1"}],
  "properties": {"spec": {"type": "object", "properties": {"items": {
    "type": "array", "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge",
    "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}}}}}`

// A kustomization that sets an OpenAPI schema does not change the next
// build (kustomize keeps the schema in global state). Not parallel: it
// depends on the order of builds.
func TestOpenAPIDoesNotLeak(t *testing.T) {
	files := map[string]string{
		"app/kustomization.yaml": "resources: [a.yaml]\npatches:\n- patch: |\n    apiVersion: example.com/v1\n    kind: MyApp\n    metadata: {name: a}\n    spec: {items: [{name: x, patched: 'yes'}]}\n",
		"app/a.yaml":             "apiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: a}\nspec:\n  items: [{name: x, kept: 'yes'}, {name: y}]\n",
		"app/schema.json":        mySchema,
	}
	build := func(files map[string]string) string {
		r, err := Build(context.Background(), []Mount{{At: "t", FS: tree(files)}}, Wrapper{Dir: "w", Resources: []string{"../t/app"}})
		require.NoError(t, err)
		return string(r.YAML())
	}
	plain := build(files)
	assert.NotContains(t, plain, "kept", "without the schema the list is replaced")

	custom := maps.Clone(files)
	custom["app/kustomization.yaml"] += "openapi: {path: schema.json}\n"
	merged := build(custom)
	assert.Contains(t, merged, "kept", "with the schema the lists merge by name")
	assert.Equal(t, plain, build(files), "the schema of the previous build does not leak")
}
