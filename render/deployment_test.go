package render

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadDeploymentWorld(t *testing.T) {
	t.Parallel()
	for _, d := range deployments {
		dep := loadTestDeployment(t, d)
		assert.Equal(t, Deployment{Name: d, EnvType: d, Namespace: "codeai-" + d, Branch: "stage/" + d}, dep)
	}
}

func TestLoadDeploymentInvalid(t *testing.T) {
	t.Parallel()
	const file = "apps/codeai/deployments/qa/deployment.yaml"
	for name, tc := range map[string]struct {
		data   string
		want   error
		detail string
	}{
		"empty":               {"", ErrInvalidDeployment, "empty"},
		"missing envType":     {"namespace: codeai-qa\nbranch: stage/qa\n", ErrInvalidDeployment, "envType"},
		"missing namespace":   {"envType: test\nbranch: stage/qa\n", ErrInvalidDeployment, "namespace"},
		"missing branch":      {"envType: test\nnamespace: codeai-qa\n", ErrInvalidDeployment, "branch"},
		"unknown field":       {"envType: test\nnamespace: codeai-qa\nbranch: stage/qa\nreplicas: 3\n", ErrInvalidDeployment, "replicas"},
		"name is not a field": {"name: x\nenvType: test\nnamespace: codeai-qa\nbranch: stage/qa\n", ErrInvalidDeployment, "name"},
		"envType escaping":    {"envType: ../../etc\nnamespace: codeai-qa\nbranch: stage/qa\n", ErrInvalidDeployment, "envType"},
		"namespace too long":  {"envType: test\nnamespace: " + strings.Repeat("n", 64) + "\nbranch: stage/qa\n", ErrInvalidDeployment, "namespace"},
		"branch with ..":      {"envType: test\nnamespace: codeai-qa\nbranch: stage/../main\n", ErrInvalidDeployment, "branch"},
		"branch with @{":      {"envType: test\nnamespace: codeai-qa\nbranch: stage@{1}\n", ErrInvalidDeployment, "branch"},
		"branch with control": {"envType: test\nnamespace: codeai-qa\nbranch: \"stage/\\u001b[31mqa\"\n", ErrInvalidDeployment, "branch"},
		"branch .lock":        {"envType: test\nnamespace: codeai-qa\nbranch: stage/qa.lock\n", ErrInvalidDeployment, "branch"},
		"wrong type":          {"envType: [test]\nnamespace: codeai-qa\nbranch: stage/qa\n", ErrInvalidDeployment, "line 1: cannot unmarshal"},
		"malformed":           {"envType: test\n  namespace: : x\n", ErrInvalidYAML, "line"},
		"alias bomb":          {billionLaughs(9), ErrAliasBomb, ""},
		"too large":           {strings.Repeat("#", maxDeploymentBytes+1), ErrTooLarge, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadDeployment(fstest.MapFS{file: {Data: []byte(tc.data)}}, file)
			assert.ErrorIs(t, err, tc.want)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, file, fe.Path)
			assert.Contains(t, err.Error(), tc.detail)
		})
	}
	_, err := LoadDeployment(fstest.MapFS{}, file)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.False(t, IsRetryable(err))
	_, err = LoadDeployment(fstest.MapFS{}, "../deployment.yaml")
	assert.ErrorIs(t, err, ErrNotFound)
}

// Another organisation's layout: other key names, nested, other keys
// allowed; the same rules for the values.
func TestDeploymentSchema(t *testing.T) {
	t.Parallel()
	const file = "clusters/eu/prod/app.yaml"
	schema := DeploymentSchema{EnvType: "spec.tier", Namespace: "spec.target.namespace", Branch: "gitops.branch", AllowOtherKeys: true}
	fsys := fstest.MapFS{file: {Data: []byte(`owner: team-a
spec:
  tier: production
  replicas: 3
  target: {namespace: app-prod, cluster: eu}
gitops: {branch: stage/prod}
`)}}
	dep, err := schema.Load(fsys, file)
	require.NoError(t, err)
	assert.Equal(t, Deployment{Name: "prod", EnvType: "production", Namespace: "app-prod", Branch: "stage/prod"}, dep)

	strict := schema
	strict.AllowOtherKeys = false
	_, err = strict.Load(fsys, file)
	assert.ErrorIs(t, err, ErrInvalidDeployment)
	assert.Contains(t, err.Error(), `unknown field "owner"`)

	bad := fstest.MapFS{file: {Data: []byte("spec: {tier: production, target: {namespace: Prod_1}}\ngitops: {branch: stage/prod}\n")}}
	_, err = schema.Load(bad, file)
	assert.ErrorIs(t, err, ErrInvalidDeployment)
	assert.Contains(t, err.Error(), "spec.target.namespace")

	_, err = DeploymentSchema{EnvType: "spec..tier"}.Load(fsys, file)
	assert.ErrorIs(t, err, ErrInvalidDeployment)
	_, err = LoadDeployment(fstest.MapFS{file: {Data: []byte("envType: a\nenvType: b\nnamespace: n\nbranch: stage/x\n")}}, file)
	assert.ErrorIs(t, err, ErrInvalidDeployment, "duplicate keys")
}

func TestValidBranch(t *testing.T) {
	t.Parallel()
	for _, b := range []string{"stage/test", "stage/production", "main", "release-1.2", "stage/a_b"} {
		assert.True(t, validBranch(b), b)
	}
	for _, b := range []string{"", "@", "stage/", "/stage", "stage//x", ".hidden", "stage/.x", "x.", "-x",
		"a..b", "a@{b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[b", `a\b`, "a\x7f", "x.lock"} {
		assert.False(t, validBranch(b), b)
	}
}

// FuzzLoadDeployment: any content gives a valid Deployment or a FileError,
// never a panic; a valid one round-trips its rules.
func FuzzLoadDeployment(f *testing.F) {
	f.Add("envType: test\nnamespace: codeai-test\nbranch: stage/test\n")
	f.Add("envType: &a x\nnamespace: *a\nbranch: *a\n")
	f.Add("{envType: 1, namespace: 2, branch: 3}")
	f.Fuzz(func(t *testing.T, data string) {
		const file = "d/deployment.yaml"
		dep, err := LoadDeployment(fstest.MapFS{file: {Data: []byte(data)}}, file)
		if err != nil {
			var fe *FileError
			if !assert.ErrorAs(t, err, &fe) || fe.Path != file {
				t.Fatalf("error %v does not name the file", err)
			}
			return
		}
		if !dnsLabelRE.MatchString(dep.EnvType) || !dnsLabelRE.MatchString(dep.Namespace) || !validBranch(dep.Branch) || dep.Name != "d" {
			t.Fatalf("accepted invalid deployment %+v", dep)
		}
	})
}
