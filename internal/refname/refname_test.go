package refname_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/railyard-gitops/railyard/internal/refname"
)

func TestBranchProblem(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"main", "stage/test", "stage/production", "feature/a-b_c.d", "v1.2.3", "a/b/c"} {
		assert.Empty(t, refname.BranchProblem(ok), ok)
	}
	for _, bad := range []string{"", "HEAD", "-x", "refs/heads/x", "/a", "a/", "a.", "a..b", "a@{1}", "a//b",
		"a b", "a\tb", "a~1", "a^", "a:b", "a?", "a*", "a[", `a\b`, ".a", "a/.b", "a.lock", "a/b.lock/c", "@",
		"a/@/b", "é", strings.Repeat("a", 201)} {
		assert.NotEmpty(t, refname.BranchProblem(bad), "%q", bad)
	}
}

// Every name the validator accepts, git check-ref-format accepts too.
func FuzzBranchProblem(f *testing.F) {
	for _, s := range []string{"main", "stage/test", "a..b", "a.lock", "x/@/y"} {
		f.Add(s)
	}
	git, err := exec.LookPath("git")
	f.Fuzz(func(t *testing.T, name string) {
		if refname.BranchProblem(name) != "" || err != nil {
			return
		}
		if out, err := exec.Command(git, "check-ref-format", "--branch", name).CombinedOutput(); err != nil {
			t.Fatalf("accepted %q, git refuses it: %s", name, out)
		}
	})
}
