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

// branchCases is the corpus in testdata/branches.txt.
func branchCases(t testing.TB) []struct {
	name string
	ok   bool
} {
	var out []struct {
		name string
		ok   bool
	}
	for _, line := range corpus(t, "branches.txt") {
		verdict, quoted, _ := strings.Cut(line, " ")
		out = append(out, struct {
			name string
			ok   bool
		}{unquote(t, strings.TrimSpace(quoted)), verdict == "ok"})
	}
	require.NotEmpty(t, out)
	return out
}

func TestValidateBranch(t *testing.T) {
	t.Parallel()
	git, err := exec.LookPath("git")
	require.NoError(t, err)
	for _, tc := range branchCases(t) {
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
	for _, tc := range branchCases(f) {
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
