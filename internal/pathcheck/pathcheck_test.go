package pathcheck_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/railyard-gitops/railyard/internal/pathcheck"
)

func TestEntryProblem(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"a", "deployment.yaml", ".gitignore", ".github", "git~2", "gitx", "a b", "é", ".gitmodules"} {
		assert.Empty(t, pathcheck.EntryProblem(ok), "%q", ok)
	}
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`, "a\x00", "a\x01", "a\x7f", "\xff",
		".git", ".GIT", ".Git", ".git.", ".git ", ".git. .", "git~1", "GIT~1", "Git~1.", ".git::$INDEX_ALLOCATION",
		"git~1:stream", ".g\u200cit", "\u200d.git", ".gi\ufefft", strings.Repeat("x", 256)} {
		assert.NotEmpty(t, pathcheck.EntryProblem(bad), "%q", bad)
	}
}

func TestPathProblem(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"a", "a/b/c", "apps/web/deployments/test/deploy", strings.Repeat("a/", 63) + "a"} {
		assert.Empty(t, pathcheck.PathProblem(ok), "%q", ok)
	}
	for _, bad := range []string{"", "/a", "a/", "a//b", "./a", "a/./b", "a/../b", "..", "a/.git/b", "a/GIT~1",
		strings.Repeat("a/", 64) + "a", strings.Repeat("x", 4097)} {
		assert.NotEmpty(t, pathcheck.PathProblem(bad), "%q", bad)
	}
}

func FuzzEntryProblem(f *testing.F) {
	for _, s := range []string{".git", "GIT~1", ".g\u200cit", "a", ".git::$DATA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if pathcheck.EntryProblem(name) != "" {
			return
		}
		// Accepted names are never .git in any spelling, never hold a
		// separator and never spell a traversal.
		lower := strings.ToLower(name)
		if lower == ".git" || lower == "git~1" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
			t.Fatalf("accepted %q", name)
		}
	})
}
