package gitops_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
)

const deployDir = "apps/web/deployments/test/deploy"

// remote is one bare GitOps repository on a gittest server.
type remote struct {
	srv  *gittest.Server
	name string
	dir  string
	url  string
}

// newRemote starts a server with an empty bare repository that records
// every ref update in a reflog, so tests can check server-side that no push
// ever rewrote a branch. Automatic gc after each push is off: it only costs
// time on a test server.
func newRemote(t testing.TB) *remote {
	t.Helper()
	srv := gittest.New(t)
	r := &remote{srv: srv, name: "gitops.git", url: srv.RepoURL("gitops.git")}
	var err error
	r.dir, err = srv.InitBare(r.name)
	require.NoError(t, err)
	gittest.MustGit(t, r.dir, "config", "core.logAllRefUpdates", "always")
	gittest.MustGit(t, r.dir, "config", "receive.autogc", "false")
	return r
}

// seed commits files to branch with the git CLI and returns the commit.
func (r *remote) seed(t testing.TB, branch string, files map[string]string) string {
	t.Helper()
	id, err := gittest.CommitFiles(r.dir, branch, "seed "+branch, files)
	require.NoError(t, err)
	return id
}

func (r *remote) git(t testing.TB, args ...string) string {
	t.Helper()
	return gittest.MustGit(t, r.dir, args...)
}

// tree lists branch's files with their contents, read by the git CLI.
func (r *remote) tree(t testing.TB, branch string) map[string]string {
	t.Helper()
	out := map[string]string{}
	names := r.git(t, "ls-tree", "-r", "--name-only", "refs/heads/"+branch)
	for _, n := range strings.Split(names, "\n") {
		if n != "" {
			out[n] = r.git(t, "cat-file", "blob", "refs/heads/"+branch+":"+n)
		}
	}
	return out
}

// assertNoRewrites checks server-side that every value branch ever held is
// on the first-parent chain of its tip: nothing was force-pushed, nothing
// dropped. It also runs git fsck over the repository, and returns the
// length of the first-parent chain.
func (r *remote) assertNoRewrites(t testing.TB, branch string) int {
	t.Helper()
	ref := "refs/heads/" + branch
	chain := strings.Fields(r.git(t, "rev-list", "--first-parent", ref))
	onChain := map[string]bool{}
	for _, c := range chain {
		onChain[c] = true
	}
	held := strings.Fields(r.git(t, "log", "-g", "--format=%H", ref))
	require.NotEmpty(t, held, "the reflog of %s is empty", ref)
	for _, h := range held {
		require.True(t, onChain[h], "%s once held %s, which is not on its first-parent chain: a force push", ref, h)
	}
	merges := r.git(t, "rev-list", "--min-parents=2", "--count", ref)
	require.Equal(t, "0", merges, "history of %s is not linear", ref)
	r.git(t, "fsck", "--strict", "--no-dangling")
	return len(chain)
}

// corpus returns the non-comment lines of testdata/name.
func corpus(t testing.TB, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

func unquote(t testing.TB, s string) string {
	t.Helper()
	u, err := strconv.Unquote(s)
	require.NoError(t, err, s)
	return u
}

// logBuffer is a concurrency-safe log sink.
type logBuffer = logtest.Buffer

// fixedClock makes commit times reproducible.
func fixedClock() time.Time { return time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC) }

// render returns a rendered deploy folder whose content depends on n.
func render(n int) map[string][]byte {
	return map[string][]byte{
		"deployment-web.yaml": fmt.Appendf(nil, "kind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: %d\n", n),
		"service-web.yaml":    []byte("kind: Service\nmetadata:\n  name: web\n"),
	}
}

func newRepo(t testing.TB, url string, opts ...gitops.Option) *gitops.Repo {
	t.Helper()
	base := []gitops.Option{gitops.WithClock(fixedClock), gitops.WithRetries(gitops.DefaultRetries, time.Millisecond, 20*time.Millisecond)}
	r, err := gitops.NewRepo(url, append(base, opts...)...)
	require.NoError(t, err)
	return r
}

// testContext bounds a test's I/O; the concurrency tests push hundreds of
// commits through a CGI git server and get the longer bound.
func testContext(t testing.TB, timeout ...time.Duration) context.Context {
	d := 30 * time.Second
	if len(timeout) > 0 {
		d = timeout[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
