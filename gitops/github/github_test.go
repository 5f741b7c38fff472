package github_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/github"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

const token = "ghp_s3cr3tTokenValue"

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func fastRetry() github.Option { return github.WithRetry(3, time.Millisecond, 5*time.Millisecond) }

// The whole review flow against a GitHub Enterprise-style API root: open,
// reuse with an updated body, merge, wait.
func TestProposeAndWaitForMerge(t *testing.T) {
	t.Parallel()
	fake := newFakeGitHub(t, "/api/v3")
	fake.wantAuth = "Bearer " + token
	prs, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithToken(token), fastRetry())
	require.NoError(t, err)

	srv := gittest.New(t)
	dir, err := srv.InitBare("gitops.git")
	require.NoError(t, err)
	_, err = gittest.CommitFiles(dir, "stage/production", "seed", map[string]string{"README.md": "x"})
	require.NoError(t, err)
	repo, err := gitops.NewRepo(srv.RepoURL("gitops.git"))
	require.NoError(t, err)
	ctx := testContext(t)
	change := gitops.Change{Dir: "deploy", Files: map[string][]byte{"a.yaml": []byte("a")}, Message: "Promote",
		Provenance: &gitops.Provenance{FreightID: "f00d"}}

	p, err := repo.Propose(ctx, change, "stage/production", prs)
	require.NoError(t, err)
	assert.True(t, p.Opened)
	pr := p.PullRequest
	assert.Equal(t, 1, pr.Number)
	assert.Equal(t, "railyard/stage/production/f00d", pr.Head)
	assert.Equal(t, "stage/production", pr.Base)
	assert.Equal(t, gitops.PROpen, pr.State)
	assert.Empty(t, pr.MergeCommit, "an open PR's test merge commit is not reported")
	assert.Contains(t, pr.URL, "/pull/1")

	change.Summary = "Deployment/web changed"
	reused, err := repo.Propose(ctx, change, "stage/production", prs)
	require.NoError(t, err)
	again := reused.PullRequest
	assert.Equal(t, 1, again.Number)
	assert.Contains(t, again.Body, "Deployment/web changed")
	assert.Equal(t, 1, fake.count("POST /repos/org/gitops/pulls"))
	assert.Equal(t, 1, fake.count("PATCH /repos/org/gitops/pulls/{n}"))

	go func() {
		time.Sleep(20 * time.Millisecond)
		fake.set(1, map[string]any{"state": "closed", "merged": true, "merged_at": time.Now().Format(time.RFC3339),
			"merge_commit_sha": "1111111111111111111111111111111111111111"})
	}()
	commit, err := gitops.WaitForMerge(ctx, prs, pr, gitops.WithPollInterval(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, "1111111111111111111111111111111111111111", commit)
}

func TestClosedWithoutMerge(t *testing.T) {
	t.Parallel()
	fake := newFakeGitHub(t, "")
	fake.wantAuth = "Bearer " + token
	prs, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithToken(token), fastRetry())
	require.NoError(t, err)
	ctx := testContext(t)
	pr, err := prs.Create(ctx, gitops.NewPullRequest{Title: "t", Body: "b", Head: "h", Base: "stage/production"})
	require.NoError(t, err)
	fake.set(pr.Number, map[string]any{"state": "closed"})
	_, err = gitops.WaitForMerge(ctx, prs, pr, gitops.WithPollInterval(time.Millisecond, time.Millisecond))
	assert.ErrorIs(t, err, gitops.ErrClosed)

	_, err = prs.FindOpen(ctx, "h", "stage/production")
	assert.ErrorIs(t, err, gitops.ErrNotFound, "a closed PR is not reused")
	_, err = prs.Get(ctx, 99)
	assert.ErrorIs(t, err, gitops.ErrNotFound)
}

func TestErrorsAndRetries(t *testing.T) {
	t.Parallel()
	fake := newFakeGitHub(t, "")
	fake.wantAuth = "Bearer " + token
	var logs bytes.Buffer
	prs, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithToken(token), fastRetry(),
		github.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	ctx := testContext(t)

	pr, err := prs.Create(ctx, gitops.NewPullRequest{Title: "t", Head: "h", Base: "b"})
	require.NoError(t, err)
	fake.fail("GET /repos/org/gitops/pulls/{n}", http.StatusBadGateway)
	got, err := prs.Get(ctx, pr.Number)
	require.NoError(t, err, "a read heals after a 502")
	assert.Equal(t, pr.Number, got.Number)
	assert.Equal(t, 2, fake.count("GET /repos/org/gitops/pulls/{n}"))

	fake.fail("POST /repos/org/gitops/pulls", http.StatusBadGateway)
	_, err = prs.Create(ctx, gitops.NewPullRequest{Title: "t", Head: "h2", Base: "b"})
	var ge *github.Error
	require.ErrorAs(t, err, &ge, "opening a PR is never retried")
	assert.Equal(t, http.StatusBadGateway, ge.StatusCode)
	assert.Equal(t, 2, fake.count("POST /repos/org/gitops/pulls"))

	_, err = prs.Create(ctx, gitops.NewPullRequest{Title: "t", Head: "h", Base: "b"})
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, http.StatusUnprocessableEntity, ge.StatusCode)
	assert.Contains(t, ge.Message, "already exists")

	bad, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithToken("wrong-"+token), fastRetry())
	require.NoError(t, err)
	_, err = bad.Get(ctx, 1)
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, http.StatusUnauthorized, ge.StatusCode)
	assert.NotContains(t, err.Error(), token)
	assert.NotContains(t, logs.String(), token)
}

// A server that echoes the credentials it got does not get them into
// errors or logs.
func TestEchoedCredentialsAreRedacted(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"bad credentials: ` + r.Header.Get("Authorization") + `"}`))
	}))
	defer echo.Close()
	var logs bytes.Buffer
	prs, err := github.New("org", "gitops", github.WithBaseURL(echo.URL+"/"), github.WithToken(token), fastRetry(),
		github.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	_, err = prs.Get(testContext(t), 1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "REDACTED")
	assert.NotContains(t, err.Error(), token)
	assert.NotContains(t, logs.String(), token)
}

func TestAppAuth(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	fake := newFakeGitHub(t, "/api/v3")
	fake.appKey, fake.appID = &key.PublicKey, 4242

	prs, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithApp(4242, 7, pemKey), fastRetry())
	require.NoError(t, err)
	ctx := testContext(t)
	pr, err := prs.Create(ctx, gitops.NewPullRequest{Title: "t", Head: "h", Base: "b"})
	require.NoError(t, err)
	_, err = prs.Get(ctx, pr.Number)
	require.NoError(t, err)
	assert.Equal(t, 1, fake.count("POST /app/installations/{id}/access_tokens"), "the installation token is cached")

	wrongApp, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithApp(1, 7, pemKey), fastRetry())
	require.NoError(t, err)
	_, err = wrongApp.Get(ctx, pr.Number)
	var ge *github.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, http.StatusUnauthorized, ge.StatusCode)
	assert.NotContains(t, err.Error(), "PRIVATE KEY")
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]github.Option{
		"base URL with credentials": {github.WithBaseURL("https://user:pw@ghe.example.com/api/v3/")},
		"base URL not http":         {github.WithBaseURL("ftp://x/")},
		"empty token":               {github.WithToken("")},
		"bad key":                   {github.WithApp(1, 2, []byte("nope"))},
		"token and app":             {github.WithToken("x"), github.WithApp(1, 2, testKeyPEM(t))},
		"nil client":                {github.WithHTTPClient(nil)},
		"nil logger":                {github.WithLogger(nil)},
		"bad retry":                 {github.WithRetry(0, time.Second, time.Second)},
	} {
		_, err := github.New("org", "gitops", opts...)
		assert.Error(t, err, name)
	}
	_, err := github.New("", "gitops")
	assert.Error(t, err)
}

func testKeyPEM(t *testing.T) []byte {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
