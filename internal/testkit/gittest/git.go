package gittest

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	osexec "os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

var discardLogger = log.New(io.Discard, "", 0)

// Identity used for every commit the helpers make.
const (
	AuthorName  = "Railyard Test"
	AuthorEmail = "test@railyard.invalid"
)

// Epoch is the time of the first commit CommitTree makes on a new branch;
// each later commit is one minute after its parent, so ids are reproducible.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func gitBinary() (string, error) {
	if p := os.Getenv("RAILYARD_GIT"); p != "" {
		return p, nil
	}
	p, err := osexec.LookPath("git")
	if err != nil {
		return "", fmt.Errorf("gittest: the git CLI is required: %w", err)
	}
	return p, nil
}

// env is the hermetic environment of every git command the helpers run.
func env() []string {
	e := []string{
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=" + AuthorName,
		"GIT_AUTHOR_EMAIL=" + AuthorEmail,
		"GIT_COMMITTER_NAME=" + AuthorName,
		"GIT_COMMITTER_EMAIL=" + AuthorEmail,
		"LC_ALL=C",
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "HOME" || k == "TMPDIR" {
			e = append(e, kv)
		}
	}
	return e
}

func exec(gitPath, dir string, args ...string) (string, error) {
	return run(gitPath, dir, nil, args...)
}

func run(gitPath, dir string, stdin io.Reader, args ...string) (string, error) {
	cmd := osexec.Command(gitPath, args...)
	cmd.Dir = dir
	cmd.Env = env()
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("gittest: git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Git runs the git CLI in dir ("" for the current directory) with a
// hermetic environment (no system or global config, a fixed identity) and
// returns its trimmed standard output. The error includes standard error.
func Git(dir string, args ...string) (string, error) {
	g, err := gitBinary()
	if err != nil {
		return "", err
	}
	return exec(g, dir, args...)
}

// GitInput is [Git] with stdin as the command's standard input.
func GitInput(dir string, stdin io.Reader, args ...string) (string, error) {
	g, err := gitBinary()
	if err != nil {
		return "", err
	}
	return run(g, dir, stdin, args...)
}

// MustGit is [Git] that fails the test on error.
func MustGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := Git(dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FastImport feeds a `git fast-import` stream into the repository at
// repoDir (bare or not). It is the fast way to build big histories.
func FastImport(repoDir string, stream io.Reader) error {
	_, err := GitInput(repoDir, stream, "fast-import", "--quiet", "--done")
	return err
}

// File is one entry written by [CommitTree].
type File struct {
	// Path is the slash-separated path in the tree.
	Path string
	// Data is the content; for a gitlink it is the submodule commit id and
	// for a symlink the link target.
	Data string
	// Mode is the git mode: "" or "100644" (regular), "100755"
	// (executable), "120000" (symlink) or "160000" (gitlink).
	Mode string
}

// CommitFiles commits to branch (created if missing; otherwise on top of
// its tip) the tip's tree with files written as regular files and deletes
// removed, and returns the new commit id.
func CommitFiles(repoDir, branch, message string, files map[string]string, deletes ...string) (string, error) {
	list := make([]File, 0, len(files))
	for p, d := range files {
		list = append(list, File{Path: p, Data: d})
	}
	return CommitTree(repoDir, branch, message, list, deletes...)
}

// CommitTree is [CommitFiles] with modes. Commit times are deterministic:
// [Epoch] for a new branch, else one minute after the parent.
func CommitTree(repoDir, branch, message string, files []File, deletes ...string) (string, error) {
	ref := "refs/heads/" + branch
	when := Epoch
	parent, err := Git(repoDir, "rev-parse", "--verify", "--quiet", ref)
	if err == nil && parent != "" {
		ct, err := Git(repoDir, "log", "-1", "--format=%ct", ref)
		if err != nil {
			return "", err
		}
		sec, err := strconv.ParseInt(ct, 10, 64)
		if err != nil {
			return "", fmt.Errorf("gittest: parse commit time %q: %w", ct, err)
		}
		when = time.Unix(sec, 0).Add(time.Minute)
	} else {
		parent = ""
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "commit %s\n", ref)
	fmt.Fprintf(&b, "author %s <%s> %d +0000\n", AuthorName, AuthorEmail, when.Unix())
	fmt.Fprintf(&b, "committer %s <%s> %d +0000\n", AuthorName, AuthorEmail, when.Unix())
	fmt.Fprintf(&b, "data %d\n%s\n", len(message), message)
	if parent != "" {
		fmt.Fprintf(&b, "from %s\n", parent)
	}
	for _, d := range deletes {
		fmt.Fprintf(&b, "D %s\n", quote(d))
	}
	for _, f := range files {
		mode := f.Mode
		if mode == "" {
			mode = "100644"
		}
		if mode == "160000" {
			fmt.Fprintf(&b, "M 160000 %s %s\n", f.Data, quote(f.Path))
			continue
		}
		fmt.Fprintf(&b, "M %s inline %s\ndata %d\n%s\n", mode, quote(f.Path), len(f.Data), f.Data)
	}
	b.WriteString("done\n")
	if err := FastImport(repoDir, &b); err != nil {
		return "", err
	}
	return Git(repoDir, "rev-parse", ref)
}

// quote quotes a path for a fast-import stream when it needs it.
func quote(p string) string {
	if strings.ContainsAny(p, "\"\n\\ ") || strings.HasPrefix(p, "\"") {
		return strconv.Quote(p)
	}
	return p
}
