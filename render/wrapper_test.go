package render

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/api/types"
)

const digest = "sha256:9d3c1f0e2b7a4c6d8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"

func TestWrapperKeepsTemplateFields(t *testing.T) {
	t.Parallel()
	template := []byte(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../src/base]
components: [../envType]
commonAnnotations: {team: web}
images:
  - name: sidecar
    newTag: "1.2"
  - name: app
    newTag: old
`)
	w := Wrapper{Dir: "render/deploy", Template: "t/kustomization.yaml", Namespace: "prod",
		Images: []Image{{Name: "app", NewName: "ghcr.io/org/app", Tag: "git-abc", Digest: digest}, {Name: "new", Tag: "v1"}}}
	wk, err := w.kustomization(template)
	require.NoError(t, err)
	data, err := marshalWrapper(w, wk)
	require.NoError(t, err)
	var k types.Kustomization
	require.NoError(t, k.Unmarshal(data))
	assert.Equal(t, []string{"../../src/base"}, k.Resources, "kept")
	assert.Equal(t, []string{"../envType"}, k.Components, "kept")
	assert.Equal(t, map[string]string{"team": "web"}, k.CommonAnnotations)
	assert.Equal(t, "prod", k.Namespace)
	assert.Equal(t, []types.Image{
		{Name: "sidecar", NewTag: "1.2"},
		{Name: "app", NewName: "ghcr.io/org/app", NewTag: "git-abc", Digest: digest},
		{Name: "new", NewTag: "v1"},
	}, k.Images, "replaced in place, new ones appended")

	w = Wrapper{Dir: "d", Resources: []string{"../a"}, Components: []string{"../b"}}
	wk, err = w.kustomization(template)
	require.NoError(t, err)
	data, err = marshalWrapper(w, wk)
	require.NoError(t, err)
	require.NoError(t, k.Unmarshal(data))
	assert.Equal(t, []string{"../a"}, k.Resources, "replaced")
	assert.Equal(t, []string{"../b"}, k.Components, "replaced")
}

func TestWrapperWithoutTemplate(t *testing.T) {
	t.Parallel()
	w := Wrapper{Dir: "d", Resources: []string{"../a"}}
	wk, err := w.kustomization(nil)
	require.NoError(t, err)
	data, err := marshalWrapper(w, wk)
	require.NoError(t, err)
	assert.JSONEq(t, `{"apiVersion":"kustomize.config.k8s.io/v1beta1","kind":"Kustomization","resources":["../a"]}`, string(data),
		"kustomize reads the wrapper as JSON")
	assert.Equal(t, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../a\n", string(wrapperYAML(data)),
		"people and the kustomize CLI get YAML")
}

func TestImageValidate(t *testing.T) {
	t.Parallel()
	valid := []Image{
		{Name: "code-dot-org", Tag: "git-" + strings.Repeat("a", 40)},
		{Name: "code-dot-org", NewName: "ghcr.io/code-dot-org/code-dot-org", Digest: digest},
		{Name: "nginx", NewName: "localhost:5000/nginx", Tag: "1.27", Digest: digest},
	}
	for _, img := range valid {
		assert.NoError(t, img.validate(), "%+v", img)
	}
	invalid := []Image{
		{},
		{Name: "nginx"},
		{Tag: "1"},
		{Name: "nginx@sha256:x", Tag: "1"},
		{Name: "nginx", NewName: "a b", Tag: "1"},
		{Name: "nginx", Tag: "-leading-dash"},
		{Name: "nginx", Tag: strings.Repeat("t", 129)},
		{Name: "nginx", Digest: "sha256:" + strings.Repeat("A", 64)},
		{Name: "nginx", Digest: "md5:" + strings.Repeat("a", 32)},
	}
	for _, img := range invalid {
		assert.ErrorIs(t, img.validate(), ErrInvalidImage, "%+v", img)
	}
}
