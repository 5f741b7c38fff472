package railyardtest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// GitServer is a smart-HTTP git server on 127.0.0.1 for one test. It is
// closed, and its repositories removed, when the test ends. It is safe for
// concurrent use.
type GitServer struct {
	s *gittest.Server
}

// NewGitServer starts a server for t.
func NewGitServer(t testing.TB) *GitServer {
	t.Helper()
	return &GitServer{s: gittest.New(t)}
}

// CreateRepo creates an empty bare repository name (a relative path ending
// in ".git", e.g. "org/gitops.git") whose default branch is main, accepting
// pushes and the fetch filters railyard uses, and returns its URL.
func (g *GitServer) CreateRepo(t testing.TB, name string) string {
	t.Helper()
	if _, err := g.s.InitBare(name); err != nil {
		t.Fatalf("railyardtest: create %s: %v", name, err)
	}
	return g.s.RepoURL(name)
}

// URL returns the URL of repository name.
func (g *GitServer) URL(name string) string { return g.s.RepoURL(name) }

// Commit commits files (path → content) to branch of repository name, on
// top of the branch's tip (created when missing), removing deletes, and
// returns the new commit's id. Commit times are deterministic.
func (g *GitServer) Commit(t testing.TB, name, branch, message string, files map[string]string, deletes ...string) string {
	t.Helper()
	id, err := gittest.CommitFiles(g.s.RepoDir(name), branch, message, files, deletes...)
	if err != nil {
		t.Fatalf("railyardtest: commit to %s %s: %v", name, branch, err)
	}
	return id
}

// Head returns the commit id branch of repository name points at, or ""
// when the branch does not exist.
func (g *GitServer) Head(t testing.TB, name, branch string) string {
	t.Helper()
	out, err := gittest.Git(g.s.RepoDir(name), "rev-parse", "--verify", "--quiet", "refs/heads/"+branch)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// Files returns the files of rev (a branch or commit) of repository name,
// path → content.
func (g *GitServer) Files(t testing.TB, name, rev string) map[string]string {
	t.Helper()
	dir := g.s.RepoDir(name)
	list, err := gittest.Git(dir, "ls-tree", "-r", "-z", "--name-only", rev)
	if err != nil {
		t.Fatalf("railyardtest: list %s at %s: %v", name, rev, err)
	}
	out := map[string]string{}
	for _, p := range strings.Split(list, "\x00") {
		if p == "" {
			continue
		}
		// Not gittest.Git: it trims, and content must stay byte for byte.
		data, err := exec.Command("git", "--git-dir", dir, "cat-file", "blob", rev+":"+p).Output()
		if err != nil {
			t.Fatalf("railyardtest: read %s at %s: %v", p, rev, err)
		}
		out[p] = string(data)
	}
	return out
}
