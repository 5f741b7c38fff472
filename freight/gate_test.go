package freight

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLegacyGitflowGate(t *testing.T) {
	t.Parallel()
	good := Freight{Commit: Commit{ID: sha1ID}}
	record := func(rev, tag string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("revision: " + rev + "\ntag: " + tag + "\nmergedAt: 2026-11-20T10:00:00Z\n")}
	}
	const dir = "warehouses/codeai/legacy-gitflow/production/merged/"
	bomb := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	for _, l := range "bcdefghi" {
		prev := string(l - 1)
		bomb += string(l) + ": &" + string(l) + " [" + strings.Repeat("*"+prev+", ", 8) + "*" + prev + "]\n"
	}
	bomb += "revision: *i\n" // 9^9 strings if expanded
	cases := []struct {
		name    string
		files   fstest.MapFS
		gate    LegacyGitflowGate
		f       Freight
		wantErr error // nil: allowed
		reason  string
	}{
		{"allowed", fstest.MapFS{dir + "git-" + sha1ID + ".yaml": record(sha1ID, "git-"+sha1ID)}, LegacyGitflowGate{Warehouse: "codeai", Env: "production"}, good, nil, ""},
		{"no record", fstest.MapFS{}, LegacyGitflowGate{Warehouse: "codeai", Env: "production"}, good, ErrRefused, "no merge record"},
		{"record for another env", fstest.MapFS{"warehouses/codeai/legacy-gitflow/staging/merged/git-" + sha1ID + ".yaml": record(sha1ID, "git-"+sha1ID)}, LegacyGitflowGate{Warehouse: "codeai", Env: "production"}, good, ErrRefused, "no merge record"},
		{"wrong revision", fstest.MapFS{dir + "git-" + sha1ID + ".yaml": record(id(1), "git-"+sha1ID)}, LegacyGitflowGate{Warehouse: "codeai", Env: "production"}, good, ErrRefused, "names revision"},
		{"wrong tag", fstest.MapFS{dir + "git-" + sha1ID + ".yaml": record(sha1ID, "git-"+sha1ID+"-amd64")}, LegacyGitflowGate{Warehouse: "codeai", Env: "production"}, good, ErrRefused, "names tag"},
		{"no mergedAt", fstest.MapFS{dir + "git-" + sha1ID + ".yaml": {Data: []byte("revision: " + sha1ID + "\ntag: git-" + sha1ID + "\n")}}, LegacyGitflowGate{Warehouse: "codeai", Env: "production"}, good, ErrRefused, "no mergedAt"},
		{"malformed", fstest.MapFS{dir + "git-" + sha1ID + ".yaml": {Data: []byte("revision: [\n")}}, LegacyGitflowGate{Warehouse: "codeai", Env: "production"}, good, ErrRefused, "malformed"},
		{"alias bomb", fstest.MapFS{dir + "git-" + sha1ID + ".yaml": {Data: []byte(bomb)}}, LegacyGitflowGate{Warehouse: "codeai", Env: "production"}, good, ErrRefused, "malformed"},
		{"oversized", fstest.MapFS{dir + "git-" + sha1ID + ".yaml": {Data: []byte(strings.Repeat("#", maxGateFile+1))}}, LegacyGitflowGate{Warehouse: "codeai", Env: "production"}, good, ErrRefused, "exceeds"},
		{"short commit id", fstest.MapFS{}, LegacyGitflowGate{Warehouse: "codeai", Env: "production"}, Freight{Commit: Commit{ID: "0123456"}}, ErrRefused, "not a full id"},
		{"warehouse traversal", fstest.MapFS{}, LegacyGitflowGate{Warehouse: "..", Env: "production"}, good, ErrInvalid, ""},
		{"env with slash", fstest.MapFS{}, LegacyGitflowGate{Warehouse: "codeai", Env: "a/b"}, good, ErrInvalid, ""},
		{"empty env", fstest.MapFS{}, LegacyGitflowGate{Warehouse: "codeai"}, good, ErrInvalid, ""},
		{"dot env", fstest.MapFS{}, LegacyGitflowGate{Warehouse: "codeai", Env: "."}, good, ErrInvalid, ""},
		// Another organisation's layout.
		{"custom layout", fstest.MapFS{"gates/production/" + sha1ID + ".yml": record(sha1ID, "git-"+sha1ID)},
			LegacyGitflowGate{Warehouse: "codeai", Env: "production", Layout: "gates/{env}/{id}.yml"}, good, nil, ""},
		{"custom layout, record elsewhere", fstest.MapFS{dir + "git-" + sha1ID + ".yaml": record(sha1ID, "git-"+sha1ID)},
			LegacyGitflowGate{Warehouse: "codeai", Env: "production", Layout: "gates/{env}/{tag}.yaml"}, good, ErrRefused, "no merge record"},
		{"layout without commit", fstest.MapFS{}, LegacyGitflowGate{Warehouse: "codeai", Env: "production", Layout: "gates/{env}/ok.yaml"}, good, ErrInvalid, "layout"},
		{"layout escaping", fstest.MapFS{}, LegacyGitflowGate{Warehouse: "codeai", Env: "production", Layout: "../{tag}.yaml"}, good, ErrInvalid, "layout"},
		{"layout absolute", fstest.MapFS{}, LegacyGitflowGate{Warehouse: "codeai", Env: "production", Layout: "/etc/{tag}"}, good, ErrInvalid, "layout"},
		{"layout unknown placeholder", fstest.MapFS{}, LegacyGitflowGate{Warehouse: "codeai", Env: "production", Layout: "{app}/{tag}.yaml"}, good, ErrInvalid, "layout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := tc.gate
			g.FS = tc.files
			err := g.Check(context.Background(), tc.f)
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			assert.Contains(t, err.Error(), tc.reason)
		})
	}
}

type failingFS struct{}

func (failingFS) Open(string) (fs.File, error) { return nil, errors.New("disk on fire") }

func TestLegacyGitflowGateErrors(t *testing.T) {
	t.Parallel()
	g := LegacyGitflowGate{FS: failingFS{}, Warehouse: "w", Env: "e"}
	err := g.Check(context.Background(), Freight{Commit: Commit{ID: sha1ID}})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrRefused, "an unreadable repository is not a refusal")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, g.Check(ctx, Freight{Commit: Commit{ID: sha1ID}}), context.Canceled)

	called := false
	var gate Gate = GateFunc(func(context.Context, Freight) error { called = true; return nil })
	require.NoError(t, gate.Check(context.Background(), Freight{}))
	assert.True(t, called)
	assert.Equal(t, "warehouses/w/legacy-gitflow/e/merged/git-"+sha1ID+".yaml", g.RecordPath(sha1ID))
}

// Regression: a gate without FS panicked (nil interface) inside Discover,
// taking the caller down, instead of returning ErrInvalid.
func TestLegacyGitflowGateWithoutFS(t *testing.T) {
	t.Parallel()
	g := LegacyGitflowGate{Warehouse: "w", Env: "e"}
	var err error
	require.NotPanics(t, func() { err = g.Check(context.Background(), Freight{Commit: Commit{ID: sha1ID}}) })
	assert.ErrorIs(t, err, ErrInvalid)
	assert.NotErrorIs(t, err, ErrRefused)
}
