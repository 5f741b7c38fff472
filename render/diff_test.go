package render

import (
	"context"
	"encoding/json"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

func buildWorld(t *testing.T, d string) *Result {
	t.Helper()
	mounts, w := fixedShape(t, d, worldFS(t, "monorepo"))
	r, err := Build(context.Background(), mounts, w)
	require.NoError(t, err)
	return r
}

// folder lays files out under dir of a new in-memory FS, as a stage
// branch holds them.
func folder(dir string, files map[string][]byte) fstest.MapFS {
	fsys := fstest.MapFS{"README.md": {Data: []byte("# stage/test\n")}}
	for name, data := range files {
		fsys[dir+"/"+name] = &fstest.MapFile{Data: data}
	}
	return fsys
}

const deployDir = "apps/codeai/deployments/test/deploy"

func TestDiffFirstRender(t *testing.T) {
	t.Parallel()
	r := buildWorld(t, "test")
	s, err := Diff(fstest.MapFS{}, deployDir, r)
	require.NoError(t, err)
	assert.Len(t, s.Added, len(r.Objects()))
	assert.Empty(t, s.Changed)
	assert.Empty(t, s.Removed)
	assert.Equal(t, "6 added, 0 changed, 0 removed, 0 unchanged", s.String())
}

func TestDiffUnchanged(t *testing.T) {
	t.Parallel()
	r := buildWorld(t, "test")
	s, err := Diff(folder(deployDir, r.Files()), deployDir, r)
	require.NoError(t, err)
	assert.True(t, s.Empty())
	assert.Equal(t, 6, s.Unchanged)
	assert.Equal(t, "No rendered object changes (6 unchanged).\n", s.Markdown())

	// Formatting does not count: the same objects as one JSON file each,
	// or all in one .yml stream, are unchanged.
	asJSON := map[string][]byte{}
	for name, data := range r.Files() {
		j, err := yaml.YAMLToJSON(data)
		require.NoError(t, err)
		var pretty json.RawMessage = j
		out, err := json.MarshalIndent(pretty, "", "    ")
		require.NoError(t, err)
		asJSON[name+".json"] = out
	}
	s, err = Diff(folder(deployDir, asJSON), deployDir, r)
	require.NoError(t, err)
	assert.True(t, s.Empty(), s.String())
	s, err = Diff(folder(deployDir, map[string][]byte{"all.yml": r.YAML()}), deployDir, r)
	require.NoError(t, err)
	assert.True(t, s.Empty(), s.String())
}

// Promoting from staging's folder to test's render: every object is renamed
// (namePrefix), so everything is removed and added; a new image in the
// same deployment is a change.
func TestDiffChanges(t *testing.T) {
	t.Parallel()
	test := buildWorld(t, "test")
	mounts, w := fixedShape(t, "test", worldFS(t, "monorepo"))
	w.Images[0].Tag = "git-0000000000000000000000000000000000000001"
	newer, err := Build(context.Background(), mounts, w)
	require.NoError(t, err)

	old := test.Files()
	old["stale.yaml"] = []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: old-token\n  namespace: codeai-test\n")
	s, err := Diff(folder(deployDir, old), deployDir, newer)
	require.NoError(t, err)
	assert.Empty(t, s.Added)
	assert.Equal(t, []ObjectRef{
		{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "codeai-test", Name: "test-cdo-dashboard-cleanup"},
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "codeai-test", Name: "test-cdo-dashboard"},
	}, s.Changed)
	assert.Equal(t, []ObjectRef{{APIVersion: "v1", Kind: "Secret", Namespace: "codeai-test", Name: "old-token"}}, s.Removed)
	assert.Equal(t, 4, s.Unchanged)
	assert.Equal(t, "**0 added, 2 changed, 1 removed** (4 unchanged)\n\n"+
		"| change | kind | namespace | name |\n|---|---|---|---|\n"+
		"| changed | `CronJob` | `codeai-test` | `test-cdo-dashboard-cleanup` |\n"+
		"| changed | `Deployment` | `codeai-test` | `test-cdo-dashboard` |\n"+
		"| removed | `Secret` | `codeai-test` | `old-token` |\n", s.Markdown())

	staging := buildWorld(t, "staging")
	s, err = Diff(folder(deployDir, staging.Files()), deployDir, test)
	require.NoError(t, err)
	assert.Len(t, s.Added, 6)
	assert.Len(t, s.Removed, 6)
	assert.Equal(t, "Deployment codeai-test/test-cdo-dashboard", s.Added[3].String())
}

// Names that would break a Markdown table or inject HTML are neutralised.
func TestSummaryMarkdownHostile(t *testing.T) {
	t.Parallel()
	s := Summary{Added: []ObjectRef{{Kind: "Config|Map", Namespace: "<script>", Name: "a`b\n| x | y |"}}}
	assert.Equal(t, "**1 added, 0 changed, 0 removed** (0 unchanged)\n\n"+
		"| change | kind | namespace | name |\n|---|---|---|---|\n"+
		"| added | `Config?Map` | `?script?` | `a?b???x???y??` |\n", s.Markdown())
}

func TestDiffBadFolder(t *testing.T) {
	t.Parallel()
	r := buildWorld(t, "test")
	for name, tc := range map[string]struct {
		data string
		want error
	}{
		"malformed":  {"kind: [", ErrInvalidYAML},
		"not object": {"just: settings\n", ErrInvalidYAML},
		"duplicate":  {"kind: A\nmetadata: {name: a}\n---\nkind: A\nmetadata: {name: a}\n", ErrDuplicateObject},
		"alias bomb": {billionLaughs(9), ErrAliasBomb},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Diff(folder(deployDir, map[string][]byte{"x.yaml": []byte(tc.data)}), deployDir, r)
			assert.ErrorIs(t, err, tc.want)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, deployDir+"/x.yaml", fe.Path)
		})
	}
	// Files Argo CD does not apply are not read; empty documents are fine.
	s, err := Diff(folder(deployDir, map[string][]byte{
		"NOTES.txt":       []byte("kind: ["),
		"empty.yaml":      []byte("---\n---\n"),
		".provenance.txt": []byte("x"),
	}), deployDir, r)
	require.NoError(t, err)
	assert.Len(t, s.Added, 6)
	symlinked := fstest.MapFS{deployDir + "/link.yaml": {Data: []byte("/etc/passwd"), Mode: fs.ModeSymlink}}
	_, err = Diff(symlinked, deployDir, r)
	assert.ErrorIs(t, err, ErrSymlink)
}

// FuzzDiff: whatever an old rendered file holds, Diff returns a summary
// that accounts for every new object, or a FileError naming the file.
func FuzzDiff(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: test-web, namespace: test}\n"))
	f.Add([]byte("{\"kind\": \"A\", \"metadata\": {\"name\": \"a\"}}"))
	f.Add([]byte("---\n---\nkind: [\n"))
	f.Add([]byte("kind: A\nmetadata: &m {name: a}\nspec: *m\n"))
	r, err := Build(context.Background(), []Mount{{At: "app", FS: smallApp()}}, smallWrapper())
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Diff(fstest.MapFS{"deploy/x.yaml": {Data: data}}, "deploy", r)
		if err != nil {
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, "deploy/x.yaml", fe.Path)
			return
		}
		require.Equal(t, len(r.Objects()), len(s.Added)+len(s.Changed)+s.Unchanged, "%+v", s)
	})
}
