package freight

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gitRepo serves a fresh repository with n commits on main.
func gitRepo(t *testing.T, n int) (*gittest.Server, string, []string) {
	t.Helper()
	srv := gittest.New(t)
	dir, err := srv.InitBare("monorepo.git")
	require.NoError(t, err)
	return srv, dir, history(t, dir, "main", n)
}

func ids(cs []Commit) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestGitSourceStrategies(t *testing.T) {
	t.Parallel()
	srv, dir, all := gitRepo(t, 60)
	ctx := context.Background()
	touching := strings.Fields(gittest.MustGit(t, dir, "log", "--format=%H", "-n", "40", "main"))
	inPath := map[string]bool{}
	for _, id := range strings.Fields(gittest.MustGit(t, dir, "log", "--format=%H", "main", "--", "k8s/kustomize")) {
		inPath[id] = true
	}
	var wantPath []string
	for _, id := range touching {
		if inPath[id] {
			wantPath = append(wantPath, id)
		}
	}
	require.Len(t, wantPath, 8)

	cases := []struct {
		name     string
		config   gittest.Config
		opts     []Option
		strategy string
		want     []string
	}{
		{"commits only", gittest.FullConfig(), []Option{WithLimit(40)}, StrategyCommitsOnly, all[:40]},
		{"no filter: shallow", gittest.Config{}, []Option{WithLimit(40)}, StrategyShallow, all[:40]},
		{"include paths with filter", gittest.FullConfig(), []Option{WithLimit(40), WithIncludePaths("k8s/kustomize")}, StrategyTreeDepth, wantPath},
		{"include paths without filter", gittest.Config{}, []Option{WithLimit(40), WithIncludePaths("k8s/kustomize")}, StrategyShallow, wantPath},
		{"include a file", gittest.FullConfig(), []Option{WithLimit(40), WithIncludePaths("k8s/kustomize/base/app.yaml")}, StrategyTreeDepth, wantPath},
		{"include an untouched path", gittest.FullConfig(), []Option{WithLimit(40), WithIncludePaths("docs")}, StrategyTreeDepth, nil},
		{"limit beyond history", gittest.FullConfig(), []Option{WithLimit(500)}, StrategyCommitsOnly, all},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the cases reconfigure the one repository.
			require.NoError(t, srv.Configure("monorepo.git", tc.config))
			src, err := NewGitSource(srv.RepoURL("monorepo.git"), "main", tc.opts...)
			require.NoError(t, err)
			h, err := src.History(ctx)
			require.NoError(t, err)
			assert.Equal(t, tc.strategy, h.Stats.Strategy)
			if tc.want == nil {
				assert.Empty(t, h.Commits)
			} else {
				assert.Equal(t, tc.want, ids(h.Commits))
			}
			assert.Equal(t, all[0], h.Tip)
			assert.Positive(t, h.Stats.BytesReceived)
			assert.Equal(t, 2, h.Stats.RoundTrips, "one ref advertisement, one upload-pack")
		})
	}
	t.Run("commit fields", func(t *testing.T) {
		require.NoError(t, srv.Configure("monorepo.git", gittest.FullConfig()))
		src, err := NewGitSource(srv.RepoURL("monorepo.git"), "main", WithLimit(1))
		require.NoError(t, err)
		h, err := src.History(ctx)
		require.NoError(t, err)
		require.Len(t, h.Commits, 1)
		c := h.Commits[0]
		assert.Equal(t, srv.RepoURL("monorepo.git"), c.RepoURL)
		assert.Equal(t, "main", c.Branch)
		assert.Equal(t, "change 60", c.Subject)
		assert.Equal(t, gittest.MustGit(t, dir, "log", "-1", "--format=%an <%ae>", "main"), c.Author)
		assert.Equal(t, gittest.MustGit(t, dir, "log", "-1", "--format=%ct", "main"), fmt.Sprint(c.Time.Unix()))
	})
}

// The commits-only fetch must be a small fraction of a blob-carrying one.
func TestGitSourceCommitsOnlyIsSmall(t *testing.T) {
	t.Parallel()
	srv, _, _ := gitRepo(t, 200)
	ctx := context.Background()
	fetch := func(c gittest.Config) int64 {
		require.NoError(t, srv.Configure("monorepo.git", c))
		srv.ResetStats()
		src, err := NewGitSource(srv.RepoURL("monorepo.git"), "main", WithLimit(200))
		require.NoError(t, err)
		h, err := src.History(ctx)
		require.NoError(t, err)
		require.Len(t, h.Commits, 200)
		// The server books a response when its handler returns, which can be
		// just after the client has read the last byte.
		var total int64
		require.Eventually(t, func() bool {
			total = srv.Total("monorepo.git").ResponseBytes
			return total >= h.Stats.BytesReceived
		}, 5*time.Second, 5*time.Millisecond)
		assert.InDelta(t, total, h.Stats.BytesReceived, float64(total)/20, "own count agrees with the server's")
		return total
	}
	small, big := fetch(gittest.FullConfig()), fetch(gittest.Config{})
	assert.Less(t, small*10, big, "commits only: %d bytes, with trees and blobs: %d", small, big)
}

func TestGitSourceMergesNewestFirst(t *testing.T) {
	t.Parallel()
	srv := gittest.New(t)
	dir, err := srv.InitBare("m.git")
	require.NoError(t, err)
	base := history(t, dir, "main", 3)
	gittest.MustGit(t, dir, "branch", "feature", base[0])
	feature := history(t, dir, "feature", 2)
	mainAhead := history(t, dir, "main", 2)
	tree := gittest.MustGit(t, dir, "rev-parse", "main^{tree}")
	merge := gittest.MustGit(t, dir, "commit-tree", tree, "-p", "main", "-p", "feature", "-m", "merge feature")
	gittest.MustGit(t, dir, "update-ref", "refs/heads/main", merge)
	want := strings.Fields(gittest.MustGit(t, dir, "log", "--format=%H", "-n", "7", "main"))

	src, err := NewGitSource(srv.RepoURL("m.git"), "main", WithLimit(7))
	require.NoError(t, err)
	h, err := src.History(context.Background())
	require.NoError(t, err)
	assert.Equal(t, want, ids(h.Commits), "git log order")
	assert.Subset(t, ids(h.Commits), append(append([]string{merge}, feature...), mainAhead...))
}

func TestGitSourceErrors(t *testing.T) {
	t.Parallel()
	srv, _, _ := gitRepo(t, 3)
	ctx := context.Background()

	src, err := NewGitSource(srv.RepoURL("monorepo.git"), "nope")
	require.NoError(t, err)
	_, err = src.History(ctx)
	require.ErrorIs(t, err, ErrBranchNotFound)
	var re *RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, srv.RepoURL("monorepo.git"), re.URL)

	src, err = NewGitSource(srv.RepoURL("missing.git"), "main", fastRetries)
	require.NoError(t, err)
	_, err = src.History(ctx)
	assert.ErrorIs(t, err, ErrNotFound)

	for _, bad := range []struct{ url, branch string }{
		{"ssh://git@example.org/x.git", "main"},
		{"file:///tmp/x.git", "main"},
		{"git@example.org:x.git", "main"},
		{"http:///x.git", "main"},
		{srv.RepoURL("monorepo.git"), ""},
		{srv.RepoURL("monorepo.git"), "a..b"},
		{srv.RepoURL("monorepo.git"), "x@{1}"},
		{srv.RepoURL("monorepo.git"), "bad\x7fname"},
		{srv.RepoURL("monorepo.git"), "with space"},
		{srv.RepoURL("monorepo.git"), "refs/heads/main"},
		{srv.RepoURL("monorepo.git"), "-main"},
		{srv.RepoURL("monorepo.git"), "main.lock"},
	} {
		_, err := NewGitSource(bad.url, bad.branch)
		assert.ErrorIs(t, err, ErrInvalid, "%q %q", bad.url, bad.branch)
	}
	for _, p := range []string{"/abs", "../up", "a/../b", "*.yaml", "dir/", ".", ""} {
		_, err := NewGitSource(srv.RepoURL("monorepo.git"), "main", WithIncludePaths(p))
		assert.ErrorIs(t, err, ErrInvalid, "include path %q", p)
	}
}

func TestGitSourceFaults(t *testing.T) {
	t.Parallel()
	srv, _, all := gitRepo(t, 30)
	ctx := context.Background()
	cases := []struct {
		name    string
		fault   func(gittest.Request) *gittest.Fault
		wantErr error
	}{
		{"503 then fine", func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointUploadPack && r.N == 1 {
				return &gittest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0"}
			}
			return nil
		}, nil},
		{"429 on refs then fine", func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointInfoRefs && r.N <= 2 {
				return &gittest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0"}
			}
			return nil
		}, nil},
		{"pack cut twice", func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointUploadPack && r.N <= 2 {
				return &gittest.Fault{CutAfter: 100 * r.N}
			}
			return nil
		}, nil},
		{"refs cut", func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointInfoRefs && r.N == 1 {
				return &gittest.Fault{CutAfter: 10}
			}
			return nil
		}, nil},
		{"always 503", func(gittest.Request) *gittest.Fault {
			return &gittest.Fault{Status: http.StatusServiceUnavailable}
		}, ErrUnavailable},
		{"always cut", func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointUploadPack {
				return &gittest.Fault{CutAfter: 50}
			}
			return nil
		}, ErrUnavailable},
		{"401 is not retried", func(gittest.Request) *gittest.Fault {
			return &gittest.Fault{Status: http.StatusUnauthorized}
		}, ErrUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetStats()
			srv.SetFault(tc.fault)
			defer srv.SetFault(nil)
			src, err := NewGitSource(srv.RepoURL("monorepo.git"), "main", WithLimit(10), fastRetries)
			require.NoError(t, err)
			h, err := src.History(ctx)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				if tc.wantErr == ErrUnauthorized {
					// Booked when the handler returns; see above.
					require.Eventually(t, func() bool { return srv.Total("monorepo.git").Requests > 0 }, 5*time.Second, 5*time.Millisecond)
					assert.EqualValues(t, 1, srv.Total("monorepo.git").Requests, "no retry")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, all[:10], ids(h.Commits))
		})
	}
}

// Credentials in the URL or options never reach errors or logs.
func TestGitSourceCredentialHygiene(t *testing.T) {
	t.Parallel()
	srv, _, _ := gitRepo(t, 3)
	const secret = "s3cr3t-t0ken-value"
	var logs logBuffer
	u := strings.Replace(srv.RepoURL("monorepo.git"), "http://", "http://user:"+secret+"@", 1)
	for _, opts := range [][]Option{nil, {WithBasicAuth("user", secret)}, {WithBearerToken(secret)}} {
		src, err := NewGitSource(u, "nope", append(opts, WithLogger(logs.Logger()), fastRetries)...)
		require.NoError(t, err)
		assert.NotContains(t, src.URL(), secret)
		_, err = src.History(context.Background())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secret)
	}
	srv.SetFault(func(gittest.Request) *gittest.Fault { return &gittest.Fault{Status: http.StatusBadGateway} })
	src, err := NewGitSource(u, "main", WithLogger(logs.Logger()), fastRetries)
	require.NoError(t, err)
	_, err = src.History(context.Background())
	require.ErrorIs(t, err, ErrUnavailable)
	assert.NotContains(t, err.Error(), secret)
	assert.Contains(t, logs.String(), "round trip")
	assert.NotContains(t, logs.String(), secret)
}

// A server may advertise "filter" and still refuse a filter kind: discovery
// falls back to blob:none, then to a plain shallow fetch.
func TestGitSourceRefusedFilters(t *testing.T) {
	t.Parallel()
	srv, dir, all := gitRepo(t, 20)
	ctx := context.Background()
	cases := []struct {
		name     string
		config   [][2]string
		strategy string
	}{
		{"tree filters refused", [][2]string{{"uploadpackfilter.tree.allow", "false"}}, StrategyNoBlobs},
		{"all filters refused", [][2]string{{"uploadpackfilter.allow", "false"}}, StrategyShallow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, kv := range tc.config {
				gittest.MustGit(t, dir, "config", kv[0], kv[1])
			}
			for _, opts := range [][]Option{{WithLimit(10)}, {WithLimit(10), WithIncludePaths("k8s/kustomize")}} {
				src, err := NewGitSource(srv.RepoURL("monorepo.git"), "main", append(opts, fastRetries)...)
				require.NoError(t, err)
				h, err := src.History(ctx)
				require.NoError(t, err)
				assert.Equal(t, tc.strategy, h.Stats.Strategy)
				if len(opts) == 1 {
					assert.Equal(t, all[:10], ids(h.Commits))
				} else {
					assert.Len(t, h.Commits, 2, "every fifth commit touches the deploy package")
				}
			}
		})
	}
}

// Regression: a repository without any branch yet (freshly created, nothing
// pushed) was retried as a transient failure and reported as ErrUnavailable,
// "a later call may succeed", instead of the watched branch not existing.
func TestGitSourceEmptyRepository(t *testing.T) {
	t.Parallel()
	srv := gittest.New(t)
	_, err := srv.InitBare("empty.git")
	require.NoError(t, err)
	src, err := NewGitSource(srv.RepoURL("empty.git"), "main", fastRetries)
	require.NoError(t, err)
	_, err = src.History(context.Background())
	require.ErrorIs(t, err, ErrBranchNotFound)
	assert.NotErrorIs(t, err, ErrUnavailable)
	require.Eventually(t, func() bool { return srv.Total("empty.git").Requests > 0 }, 5*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 1, srv.Total("empty.git").Requests, "no retry")
}

// Regression: commits with equal committer times (a bot's fork, commits and
// merge within one second) were ordered by object id, so a parent could be
// listed before its own child; git log (and Kargo) keep the order in which
// the walk reached them. Each variant changes the object ids.
func TestGitSourceEqualTimesFollowGitLog(t *testing.T) {
	t.Parallel()
	srv := gittest.New(t)
	ts := gittest.Epoch.Unix()
	for v := range 8 {
		name := fmt.Sprintf("same%d.git", v)
		dir, err := srv.InitBare(name)
		require.NoError(t, err)
		var b strings.Builder
		commit := func(branch string, mark int, from ...int) {
			msg := fmt.Sprintf("variant %d commit %d\n", v, mark)
			fmt.Fprintf(&b, "commit refs/heads/%s\nmark :%d\n", branch, mark)
			fmt.Fprintf(&b, "committer CI <ci@example.org> %d +0000\ndata %d\n%s", ts, len(msg), msg)
			for i, f := range from {
				if i == 0 {
					fmt.Fprintf(&b, "from :%d\n", f)
				} else {
					fmt.Fprintf(&b, "merge :%d\n", f)
				}
			}
			fmt.Fprintf(&b, "M 100644 inline f%d.txt\ndata 2\n%d\n\n", mark, mark%10)
		}
		commit("main", 1)
		commit("main", 2, 1)
		commit("feature", 3, 1)
		commit("feature", 4, 3)
		commit("main", 5, 2)
		commit("main", 6, 5, 4)
		b.WriteString("done\n")
		require.NoError(t, gittest.FastImport(dir, strings.NewReader(b.String())))
		want := strings.Fields(gittest.MustGit(t, dir, "log", "--format=%H", "main"))
		require.Len(t, want, 6)

		src, err := NewGitSource(srv.RepoURL(name), "main", WithLimit(6))
		require.NoError(t, err)
		h, err := src.History(context.Background())
		require.NoError(t, err)
		assert.Equal(t, want, ids(h.Commits), "variant %d: git log order", v)
		assert.Zero(t, ancestorsFirst(t, dir, ids(h.Commits)), "variant %d: an ancestor listed before its descendant", v)
	}
}

// ancestorsFirst counts the pairs of got in which a commit comes before one
// of its descendants, per the git CLI.
func ancestorsFirst(t *testing.T, dir string, got []string) int {
	t.Helper()
	n := 0
	for i := range got {
		for j := i + 1; j < len(got); j++ {
			if _, err := gittest.Git(dir, "merge-base", "--is-ancestor", got[i], got[j]); err == nil {
				n++
			}
		}
	}
	return n
}

// Regression: an include path whose leading component is, in some commit of
// the window, a file (or a submodule) instead of a directory made the walk
// read that blob as a tree: History failed with "object not found", was
// retried, and ended as ErrUnavailable. Such a commit simply lacks the path.
func TestGitSourceIncludePathThroughAFile(t *testing.T) {
	t.Parallel()
	srv := gittest.New(t)
	dir, err := srv.InitBare("fd.git")
	require.NoError(t, err)
	var b strings.Builder
	ts := gittest.Epoch.Unix()
	step := func(mark int, ops string) {
		msg := fmt.Sprintf("step %d\n", mark)
		fmt.Fprintf(&b, "commit refs/heads/main\nmark :%d\ncommitter CI <ci@example.org> %d +0000\ndata %d\n%s",
			mark, ts+int64(mark)*60, len(msg), msg)
		if mark > 1 {
			fmt.Fprintf(&b, "from :%d\n", mark-1)
		}
		b.WriteString(ops)
	}
	step(1, "M 100644 inline k8s\ndata 2\nx\n\n")                                // k8s is a file
	step(2, "D k8s\nM 100644 inline k8s/kustomize/base/app.yaml\ndata 2\ny\n\n") // and becomes a directory
	step(3, "M 100644 inline other.txt\ndata 2\nz\n\n")                          // elsewhere
	step(4, "M 160000 0123456789abcdef0123456789abcdef01234567 docs\n")          // a submodule
	step(5, "M 100644 inline k8s/kustomize/base/app.yaml\ndata 2\nw\n\n")        // the path again
	b.WriteString("done\n")
	require.NoError(t, gittest.FastImport(dir, strings.NewReader(b.String())))
	want := strings.Fields(gittest.MustGit(t, dir, "log", "--format=%H", "main", "--", "k8s/kustomize"))
	require.Len(t, want, 2)

	for _, cfg := range []gittest.Config{gittest.FullConfig(), {}} {
		require.NoError(t, srv.Configure("fd.git", cfg))
		src, err := NewGitSource(srv.RepoURL("fd.git"), "main", WithIncludePaths("k8s/kustomize", "docs/x"), fastRetries)
		require.NoError(t, err)
		h, err := src.History(context.Background())
		require.NoError(t, err)
		assert.Equal(t, want, ids(h.Commits), h.Stats.Strategy)
	}
}

// WithTempDir puts History's temporary object store under dir and removes
// it before History returns. Before, it was always under os.TempDir, which
// a caller with a small or read-only /tmp could not change.
func TestGitSourceWithTempDir(t *testing.T) {
	t.Parallel()
	srv, _, _ := gitRepo(t, 3)
	dir := t.TempDir()
	src, err := NewGitSource(srv.RepoURL("monorepo.git"), "main", WithTempDir(dir))
	require.NoError(t, err)
	h, err := src.History(context.Background())
	require.NoError(t, err)
	assert.Len(t, h.Commits, 3)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "the store is removed before History returns")

	// A directory that does not exist fails the call: the store was to go there.
	src, err = NewGitSource(srv.RepoURL("monorepo.git"), "main", WithTempDir(filepath.Join(dir, "missing")))
	require.NoError(t, err)
	_, err = src.History(context.Background())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), dir, "no temp paths in errors")
}
