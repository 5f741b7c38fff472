package gitops_test

import (
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
)

func TestCommitRefusesBadInput(t *testing.T) {
	t.Parallel()
	// No server: every case must fail before any I/O.
	repo := newRepo(t, "http://127.0.0.1:1/unreachable.git")
	ctx := testContext(t)
	type tc struct {
		name   string
		change gitops.Change
		want   error
	}
	cases := []tc{
		// The zero values that would wipe a branch are refused: an unset Dir
		// is not the whole tree, empty Files are not a deletion.
		{"empty dir", gitops.Change{Branch: "stage/x", Files: render(1)}, gitops.ErrInvalidChange},
		{"empty files", gitops.Change{Branch: "stage/x", Dir: "apps/web"}, gitops.ErrInvalidChange},
		{"root without files", gitops.Change{Branch: "stage/x", Dir: gitops.Root}, gitops.ErrInvalidChange},
		{"delete with files", gitops.Change{Branch: "stage/x", Dir: "apps/web", Delete: true, Files: render(1)}, gitops.ErrInvalidChange},
		{"bad branch", gitops.Change{Dir: gitops.Root, Branch: "stage/..x"}, gitops.ErrInvalidBranch},
		{"bad base", gitops.Change{Dir: gitops.Root, Branch: "stage/x", Base: "-main"}, gitops.ErrInvalidBranch},
		{"file and dir collide", gitops.Change{Dir: gitops.Root, Branch: "stage/x", Files: map[string][]byte{"a": nil, "a/b": nil}}, gitops.ErrInvalidPath},
		{"provenance file collides", gitops.Change{Dir: gitops.Root, Branch: "stage/x", Files: map[string][]byte{"PROVENANCE": nil}, Provenance: testProvenance}, gitops.ErrInvalidPath},
		{"trailer injection", gitops.Change{Dir: gitops.Root, Branch: "stage/x", Files: render(1), Provenance: &gitops.Provenance{FreightID: "abc\nSigned-off-by: mallory"}}, gitops.ErrInvalidChange},
		{"credentials in provenance", gitops.Change{Dir: gitops.Root, Branch: "stage/x", Files: render(1), Provenance: &gitops.Provenance{SourceRepo: "https://user:tok@github.com/org/repo"}}, gitops.ErrInvalidChange},
	}
	for _, p := range corpus(t, "paths.txt") {
		p = unquote(t, p)
		if p != "" { // Dir "" is the whole tree
			cases = append(cases, tc{"dir " + p, gitops.Change{Branch: "stage/x", Dir: p, Files: render(1)}, gitops.ErrInvalidPath})
		}
		cases = append(cases, tc{"file " + p, gitops.Change{Branch: "stage/x", Dir: "ok", Files: map[string][]byte{p: nil}}, gitops.ErrInvalidPath})
	}
	for _, c := range cases {
		_, err := repo.Commit(ctx, c.change)
		assert.ErrorIs(t, err, c.want, c.name)
	}
}

func FuzzValidatePath(f *testing.F) {
	for _, p := range corpus(f, "paths.txt") {
		f.Add(unquote(f, p))
	}
	f.Add("apps/web/deployments/test/deploy")
	f.Fuzz(func(t *testing.T, p string) {
		if gitops.ValidatePathForTest(p) != nil {
			return
		}
		require.Equal(t, path.Clean(p), p, "accepted paths are clean")
		require.False(t, path.IsAbs(p))
		require.NotContains(t, p, "\\")
		for _, part := range strings.Split(p, "/") {
			require.NotEqual(t, "..", part)
			require.NotEqual(t, ".git", strings.ToLower(part))
		}
	})
}

func TestProvenanceTrailers(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "", (*gitops.Provenance)(nil).Trailers())
	assert.Equal(t, "Railyard-Image: a:b@sha256:c\nRailyard-Freight: f\n",
		(&gitops.Provenance{Images: []string{"a:b@sha256:c"}, FreightID: "f"}).Trailers())
}
