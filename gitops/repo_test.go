package gitops_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/redact"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

func TestNewRepoMovesURLCredentialsToAuth(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rec := &gittest.AuthRecorder{}
	logs := &logBuffer{}
	url := strings.Replace(rem.url, "http://", "http://bot:tok3n@", 1)
	repo := newRepo(t, url, gitops.WithHTTPClient(&http.Client{Transport: rec}), gitops.WithLogger(logs.Logger()))
	assert.Equal(t, rem.url, repo.URL(), "the URL is reported without credentials")

	res, err := repo.Commit(testContext(t), gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(1)})
	require.NoError(t, err)
	_, err = repo.Propose(testContext(t), gitops.Change{Dir: gitops.Root, Files: render(2)}, "stage/test", &memPRs{})
	require.NoError(t, err)
	assert.Contains(t, logs.String(), res.Commit, "the log has the pushed commit")
	assert.NotContains(t, logs.String(), "tok3n", "no credential in any log line, Debug included")
	require.NotEmpty(t, rec.Seen())
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth("bot", "tok3n")
	for _, a := range rec.Seen() {
		assert.Equal(t, req.Header.Get("Authorization"), a)
	}
}

func TestNewRepoTokenAuth(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rec := &gittest.AuthRecorder{}
	repo := newRepo(t, rem.url, gitops.WithBasicAuth("x-access-token", "t0k"), gitops.WithHTTPClient(&http.Client{Transport: rec}))
	_, err := repo.Commit(testContext(t), gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(1)})
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth("x-access-token", "t0k")
	assert.Equal(t, req.Header.Get("Authorization"), rec.Seen()[0])
}

// A writer waiting for the branch lock gives up when its ctx ends.
func TestCommitWaitsForBranchLockWithContext(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/test", map[string]string{"README.md": "x"})
	release := make(chan struct{})
	entered := make(chan struct{})
	var first atomic.Bool
	rem.srv.SetFault(func(gittest.Request) *gittest.Fault {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
		return nil
	})
	repo := newRepo(t, rem.url)
	done := make(chan error, 1)
	go func() {
		_, err := repo.Commit(testContext(t), gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(1)})
		done <- err
	}()
	<-entered // the first writer holds the branch
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := repo.Commit(ctx, gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(2)})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = repo.Commit(testContext(t), gitops.Change{Dir: gitops.Root, Branch: "stage/other", Files: render(2)})
	assert.NoError(t, err, "other branches are not blocked")
	close(release)
	require.NoError(t, <-done)
}

// A server (or proxy) that echoes the request's credentials in its error
// answers must not get them into railyard's errors or logs, neither raw nor
// in their basic-auth (base64) form.
func TestCredentialsEchoedByServerAreRedacted(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		http.Error(w, "refused "+r.Header.Get("Authorization")+" user="+user+" pass="+pass, http.StatusUnauthorized)
	}))
	defer echo.Close()
	const secret = "ech0ed-s3cret"
	logs := &logBuffer{}
	repo := newRepo(t, echo.URL+"/gitops.git", gitops.WithBasicAuth("deployer", secret), gitops.WithLogger(logs.Logger()), gitops.WithRetries(1, time.Millisecond, 20*time.Millisecond))
	_, err := repo.Commit(testContext(t), gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(1)})
	require.ErrorIs(t, err, gitops.ErrUnauthorized)
	basic := base64.StdEncoding.EncodeToString([]byte("deployer:" + secret))
	for _, text := range []string{err.Error(), logs.String()} {
		assert.Contains(t, text, redact.Mask, "the echo reached the text, masked")
		assert.NotContains(t, text, secret)
		assert.NotContains(t, text, basic)
	}
}

// Regression: a token given as the URL's user name alone
// (https://<token>@host/repo, as GitHub accepts it) was sent as basic auth
// but not recorded as a secret, so a server echoing the request's
// credentials got it into errors and logs.
func TestTokenAsURLUserIsRedacted(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		http.Error(w, "refused "+r.Header.Get("Authorization")+" user="+user+" pass="+pass, http.StatusUnauthorized)
	}))
	defer echo.Close()
	const secret = "ghp0nlyUs3rT0ken"
	logs := &logBuffer{}
	url := strings.Replace(echo.URL, "http://", "http://"+secret+"@", 1) + "/gitops.git"
	repo := newRepo(t, url, gitops.WithLogger(logs.Logger()), gitops.WithRetries(1, time.Millisecond, 20*time.Millisecond))
	_, err := repo.Commit(testContext(t), gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(1)})
	require.ErrorIs(t, err, gitops.ErrUnauthorized)
	basic := base64.StdEncoding.EncodeToString([]byte(secret + ":"))
	for _, text := range []string{err.Error(), logs.String()} {
		assert.Contains(t, text, redact.Mask, "the echo reached the text, masked")
		assert.NotContains(t, text, secret)
		assert.NotContains(t, text, basic)
	}
}
