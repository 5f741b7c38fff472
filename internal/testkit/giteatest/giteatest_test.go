//go:build integration

package giteatest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"code.gitea.io/sdk/gitea"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServer runs a real Gitea end to end: start, create repositories,
// push with the git CLI over HTTP, read branches back through the API, and
// close without leftovers.
func TestServer(t *testing.T) {
	bin := os.Getenv(EnvBinary)
	require.NotEmpty(t, bin, "%s is unset: run .ci/tools (integration tests never skip)", EnvBinary)
	git := os.Getenv("RAILYARD_GIT")
	if git == "" {
		git = "git"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	began := time.Now()
	srv, err := Start(ctx, bin)
	require.NoError(t, err)
	t.Logf("gitea started in %v", time.Since(began).Round(time.Millisecond))
	defer srv.Close()

	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", u.Hostname())
	assert.Equal(t, "/", u.Path)
	assert.Len(t, srv.Token, 40)

	var version struct{ Version string }
	require.NoError(t, srv.API(ctx, http.MethodGet, "/api/v1/version", nil, &version))
	t.Logf("gitea version %q", version.Version)

	t.Run("loopback only", func(t *testing.T) {
		addrs, err := net.InterfaceAddrs()
		require.NoError(t, err)
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), u.Port()), time.Second)
			if err == nil {
				c.Close()
			}
			assert.Error(t, err, "gitea answers on %s", ipn.IP)
		}
	})

	t.Run("push and list branches", func(t *testing.T) {
		clone, err := srv.CreateRepo(ctx, "pushed", false)
		require.NoError(t, err)
		assert.Equal(t, srv.URL+srv.User+"/pushed.git", clone)

		work := t.TempDir()
		run := func(args ...string) string {
			t.Helper()
			cmd := exec.CommandContext(ctx, git, args...)
			cmd.Dir = work
			cmd.Env = append(os.Environ(),
				"HOME="+work, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
				"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
				"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "git %s: %s", args[0], strings.ReplaceAll(string(out), srv.Token, "<token>"))
			return strings.TrimSpace(string(out))
		}
		run("init", "-q", "-b", "main")
		require.NoError(t, os.WriteFile(filepath.Join(work, "hello.txt"), []byte("hello\n"), 0o644))
		run("add", "hello.txt")
		run("commit", "-q", "-m", "first")
		run("checkout", "-q", "-b", "stage/test")
		require.NoError(t, os.WriteFile(filepath.Join(work, "stage.txt"), []byte("stage\n"), 0o644))
		run("add", "stage.txt")
		run("commit", "-q", "-m", "second")
		mainID := run("rev-parse", "main")
		stageID := run("rev-parse", "stage/test")
		run("push", "-q", srv.AuthURL(clone), "main", "stage/test")

		var branches []struct {
			Name   string
			Commit struct{ ID string }
		}
		require.NoError(t, srv.API(ctx, http.MethodGet, "/api/v1/repos/"+srv.User+"/pushed/branches", nil, &branches))
		got := map[string]string{}
		for _, b := range branches {
			got[b.Name] = b.Commit.ID
		}
		assert.Equal(t, map[string]string{"main": mainID, "stage/test": stageID}, got)

		// Anonymous reads work (public repository); the clone needs no token.
		run("ls-remote", clone, "refs/heads/main")

		// The token may open and merge pull requests.
		repoAPI := "/api/v1/repos/" + srv.User + "/pushed"
		var pr struct{ Number int64 }
		require.NoError(t, srv.API(ctx, http.MethodPost, repoAPI+"/pulls", map[string]string{
			"title": "promote", "head": "stage/test", "base": "main", "body": "render",
		}, &pr))
		// Gitea checks mergeability in the background and answers 405
		// until it is done: retry, as a real client must.
		for {
			err := srv.API(ctx, http.MethodPost, repoAPI+"/pulls/"+strconv.FormatInt(pr.Number, 10)+"/merge",
				map[string]string{"Do": "merge"}, nil)
			var apiErr *APIError
			if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusMethodNotAllowed && ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			require.NoError(t, err)
			break
		}
		var merged struct {
			Merged         bool
			MergeCommitSHA string `json:"merge_commit_sha"`
		}
		require.NoError(t, srv.API(ctx, http.MethodGet, repoAPI+"/pulls/"+strconv.FormatInt(pr.Number, 10), nil, &merged))
		assert.True(t, merged.Merged)
		assert.Len(t, merged.MergeCommitSHA, 40)
		mainTip := run("ls-remote", clone, "refs/heads/main")
		assert.True(t, strings.HasPrefix(mainTip, merged.MergeCommitSHA), "main is at the merge commit")
	})

	t.Run("auto init", func(t *testing.T) {
		if os.Getenv(EnvRoot) == "" {
			t.Fatalf("%s is unset: run .ci/tools", EnvRoot)
		}
		_, err := srv.CreateRepo(ctx, "seeded", true)
		require.NoError(t, err)
		var b struct{ Name string }
		require.NoError(t, srv.API(ctx, http.MethodGet, "/api/v1/repos/"+srv.User+"/seeded/branches/main", nil, &b))
		assert.Equal(t, "main", b.Name)

		_, err = srv.CreateRepo(ctx, "seeded", true)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusConflict, apiErr.StatusCode)
	})

	t.Run("sdk", func(t *testing.T) {
		// The SDK the gitops/gitea provider uses accepts the server (it
		// checks /api/v1/version) and the token.
		c, err := gitea.NewClient(srv.URL, gitea.SetToken(srv.Token), gitea.SetContext(ctx))
		require.NoError(t, err)
		me, _, err := c.GetMyUserInfo()
		require.NoError(t, err)
		assert.Equal(t, srv.User, me.UserName)
		assert.True(t, me.IsAdmin)
	})

	dir := srv.dir
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "Close is idempotent")
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "work dir removed")
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+u.Port(), time.Second)
	if err == nil {
		c.Close()
	}
	assert.Error(t, err, "nothing listens after Close")
}

// TestStartPortTaken checks that Start moves to another port when the one
// it chose is taken before Gitea binds it.
func TestStartPortTaken(t *testing.T) {
	bin := os.Getenv(EnvBinary)
	require.NotEmpty(t, bin, "%s is unset: run .ci/tools (integration tests never skip)", EnvBinary)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	calls := 0
	pickPort = func() (int, error) {
		calls++
		if calls == 2 { // the first `web` attempt
			return taken.Addr().(*net.TCPAddr).Port, nil
		}
		return freePort()
	}
	defer func() { pickPort = freePort }()

	srv, err := Start(ctx, bin)
	require.NoError(t, err)
	defer srv.Close()
	assert.Equal(t, 3, calls)
	assert.NotContains(t, srv.URL, ":"+strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)+"/")
	require.NoError(t, srv.API(ctx, http.MethodGet, "/api/v1/version", nil, nil))
}

// TestStartWithoutBinary checks that a missing gitea is a failure, not
// a skip.
func TestStartWithoutBinary(t *testing.T) {
	_, err := Start(context.Background(), "")
	require.ErrorIs(t, err, ErrNoBinary)
}
