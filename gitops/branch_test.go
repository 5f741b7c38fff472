package gitops_test

import (
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
)

var branchCases = []struct {
	name string
	ok   bool
}{
	{"stage/test", true},
	{"stage/production", true},
	{"railyard/stage-production/0123abcd", true},
	{"feature_x.y-z", true},
	{"", false},
	{"-f", false},
	{"--force", false},
	{"a..b", false},
	{"../etc/passwd", false},
	{"a@{1}", false},
	{"@", false},
	{"HEAD", false},
	{"refs/heads/main", false},
	{"/lead", false},
	{"trail/", false},
	{"a//b", false},
	{"dot.", false},
	{".hidden", false},
	{"a/.hidden", false},
	{"x.lock", false},
	{"a/x.lock/b", false},
	{"sp ace", false},
	{"tab\tx", false},
	{"new\nline", false},
	{"nul\x00", false},
	{"del\x7f", false},
	{"tilde~1", false},
	{"caret^", false},
	{"co:lon", false},
	{"quest?", false},
	{"star*", false},
	{"br[acket", false},
	{`back\slash`, false},
	{"stage/prοduction", false}, // Greek omicron
	{"stage/production\u200b", false},
	{strings.Repeat("a", 201), false},
}

func TestValidateBranch(t *testing.T) {
	t.Parallel()
	git, err := exec.LookPath("git")
	require.NoError(t, err)
	for _, tc := range branchCases {
		err := gitops.ValidateBranch(tc.name)
		if !tc.ok {
			var be *gitops.BranchError
			require.ErrorAs(t, err, &be, "%q must be refused", tc.name)
			assert.ErrorIs(t, err, gitops.ErrInvalidBranch)
			assert.Equal(t, tc.name, be.Name)
			assert.NotContains(t, err.Error(), "\n", "the name is quoted in the message")
			continue
		}
		require.NoError(t, err, "%q", tc.name)
		// The git CLI is the oracle: whatever railyard accepts, git accepts.
		out, err := exec.Command(git, "check-ref-format", "--branch", tc.name).CombinedOutput()
		assert.NoError(t, err, "git refuses %q: %s", tc.name, out)
	}
}

func FuzzValidateBranch(f *testing.F) {
	for _, tc := range branchCases {
		f.Add(tc.name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if gitops.ValidateBranch(name) != nil {
			return
		}
		// Anything accepted is printable ASCII, no option, no revision
		// syntax, and a valid ref name for go-git too.
		require.True(t, utf8.ValidString(name))
		require.False(t, strings.HasPrefix(name, "-"))
		for _, bad := range []string{"..", "@{", "//", " ", "\\", "~", "^", ":"} {
			require.NotContains(t, name, bad)
		}
		require.NoError(t, gitops.ValidateRefForTest(name))
	})
}
