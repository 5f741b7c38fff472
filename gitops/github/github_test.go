package github_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/github"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
	"github.com/railyard-gitops/railyard/internal/testkit/optioncases"
)

const token = "ghp_s3cr3tTokenValue"

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func fastRetry() github.Option { return github.WithRetries(3, time.Millisecond, 5*time.Millisecond) }

// The whole review flow against a GitHub Enterprise-style API root: open,
// reuse with an updated body, merge, wait.
func TestProposeAndWaitForMerge(t *testing.T) {
	t.Parallel()
	fake := newFakeGitHub(t, "/api/v3")
	fake.wantAuth = "Bearer " + token
	prs, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithBearerToken(token), fastRetry())
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
	prs, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithBearerToken(token), fastRetry())
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
	logs := &logtest.Buffer{}
	prs, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithBearerToken(token), fastRetry(),
		github.WithLogger(logs.Logger()))
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
	assert.ErrorIs(t, err, gitops.ErrUnavailable)
	assert.True(t, gitops.IsRetryable(err))
	assert.Equal(t, 2, fake.count("POST /repos/org/gitops/pulls"))

	_, err = prs.Create(ctx, gitops.NewPullRequest{Title: "t", Head: "h", Base: "b"})
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, http.StatusUnprocessableEntity, ge.StatusCode)
	assert.Contains(t, ge.Message, "already exists")
	assert.ErrorIs(t, err, gitops.ErrInvalid)
	assert.False(t, gitops.IsRetryable(err))

	_, err = prs.Get(ctx, 99)
	assert.ErrorIs(t, err, gitops.ErrNotFound)
	assert.False(t, gitops.IsRetryable(err))

	bad, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithBearerToken("wrong-"+token), fastRetry(),
		github.WithLogger(logs.Logger()))
	require.NoError(t, err)
	_, err = bad.Get(ctx, 1)
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, http.StatusUnauthorized, ge.StatusCode)
	assert.ErrorIs(t, err, gitops.ErrUnauthorized)
	assert.False(t, gitops.IsRetryable(err))
	assert.NotContains(t, err.Error(), token)
	assert.NotContains(t, logs.String(), token)
}

// Regression: FindOpen matched pull requests by branch names only, so an
// open pull request from a fork whose branch bore the head's name was
// adopted (GitHub's head filter is by owner, but a server need not honour
// it): Propose rewrote its body and WaitForMerge waited on the fork's
// content. This httptest server answers the list call only.
func TestFindOpenIgnoresForks(t *testing.T) {
	t.Parallel()
	const head, base = "railyard/stage/production/f1", "stage/production"
	own := `{"id": 1, "full_name": "org/gitops"}`
	fork := `{"id": 99, "full_name": "evil/gitops"}`
	pulls := `[
	 {"number": 7, "state": "open", "head": {"ref": "` + head + `", "repo": ` + fork + `}, "base": {"ref": "` + base + `", "repo": ` + own + `}},
	 {"number": 8, "state": "open", "head": {"ref": "` + head + `", "repo": ` + own + `}, "base": {"ref": "` + base + `", "repo": ` + own + `}}
	]`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(pulls))
	}))
	defer srv.Close()
	prs, err := github.New("org", "gitops", github.WithBaseURL(srv.URL+"/"), fastRetry())
	require.NoError(t, err)
	pr, err := prs.FindOpen(testContext(t), head, base)
	require.NoError(t, err)
	assert.Equal(t, 8, pr.Number, "the pull request from the fork is not ours")
}

func TestAppAuth(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	fake := newFakeGitHub(t, "/api/v3")
	fake.appKey, fake.appID = &key.PublicKey, 4242

	logs := &logtest.Buffer{}
	prs, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithApp(4242, 7, pemKey), fastRetry(),
		github.WithLogger(logs.Logger()))
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
	assert.ErrorIs(t, err, gitops.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "PRIVATE KEY")
	assert.NotContains(t, logs.String(), "ghs_installation")
	assert.NotContains(t, logs.String(), "PRIVATE KEY")
}

// Installation tokens last an hour: a PullRequests in a long-lived process
// renews its token before it expires and keeps working. The stand-in
// issues tokens that expire 63 seconds after issue (renewed a minute
// before, so 2 to 3 seconds after issue: the expiry is truncated to
// seconds) and accepts only the newest.
func TestAppTokenRotates(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	fake := newFakeGitHub(t, "")
	fake.appKey, fake.appID, fake.tokenLife = &key.PublicKey, 4242, 63*time.Second
	prs, err := github.New("org", "gitops", github.WithBaseURL(fake.baseURL()), github.WithApp(4242, 7, pemKey), fastRetry())
	require.NoError(t, err)
	ctx := testContext(t)
	start := time.Now()
	pr, err := prs.Create(ctx, gitops.NewPullRequest{Title: "t", Head: "h", Base: "b"})
	require.NoError(t, err)
	_, err = prs.Get(ctx, pr.Number)
	require.NoError(t, err)
	issued := time.Now() // the first token was issued before now
	if issued.Sub(start) < 2*time.Second {
		// Only a loaded machine takes this long; then a renewal may
		// already have happened, which the end of the test allows.
		require.Equal(t, 1, fake.count("POST /app/installations/{id}/access_tokens"), "the token is reused until renewal")
	}
	time.Sleep(time.Until(issued.Add(3100 * time.Millisecond))) // past the first token's renewal time
	_, err = prs.Get(ctx, pr.Number)
	require.NoError(t, err, "the renewed token is used")
	assert.GreaterOrEqual(t, fake.count("POST /app/installations/{id}/access_tokens"), 2, "the token was renewed")
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]github.Option{
		"base URL with credentials": {github.WithBaseURL("https://user:secret@ghe.example.com/api/v3/")},
		"malformed base URL":        {github.WithBaseURL("https://x:secret@host:badport/")},
		"base URL not http":         {github.WithBaseURL("ftp://x/")},
		"empty token":               {github.WithBearerToken("")},
		"bad key":                   {github.WithApp(1, 2, []byte("nope"))},
		"token and app":             {github.WithBearerToken("x"), github.WithApp(1, 2, testKeyPEM(t))},
		"nil client":                {github.WithHTTPClient(nil)},
		"nil logger":                {github.WithLogger(nil)},
		"bad retry":                 {github.WithRetries(-1, time.Second, time.Second)},
		"retry waits reversed":      {github.WithRetries(1, time.Second, time.Millisecond)},
		"token and credentials":     {github.WithBearerToken("x"), github.WithCredentials(func(context.Context, string) (github.Credentials, error) { return github.Credentials{}, nil })},
		"nil credentials":           {github.WithCredentials(nil)},
		"zero max pages":            {github.WithMaxPages(0)},
		"zero max response":         {github.WithMaxResponseSize(0)},
	} {
		_, err := github.New("org", "gitops", opts...)
		require.ErrorIs(t, err, gitops.ErrInvalid, name)
		assert.NotContains(t, err.Error(), "secret", name)
		assert.False(t, gitops.IsRetryable(err), name)
	}
	for _, names := range [][2]string{{"", "gitops"}, {"org", ""}, {"org/x", "gitops"}} {
		_, err := github.New(names[0], names[1])
		assert.ErrorIs(t, err, gitops.ErrInvalid, "%q", names)
	}
	_, err := github.New("org", "gitops", nil, github.WithMaxPages(3), nil)
	assert.NoError(t, err, "nil options are ignored")
}

func testKeyPEM(t *testing.T) []byte {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// WithRetries follows the rule every railyard package shares
// (retry.NewPolicy): n in 0..999 and 0 < minWait <= maxWait. Before, the
// forges accepted zero waits (a tight retry loop) and any n.
func TestWithRetriesValidation(t *testing.T) {
	t.Parallel()
	optioncases.Retries(t, gitops.ErrInvalid, func(n int, minWait, maxWait time.Duration) error {
		_, err := github.New("org", "gitops", github.WithRetries(n, minWait, maxWait))
		return err
	})
}

// Two credential options are refused, naming both (before, the message
// named neither); the same option twice is refused too.
func TestCredentialOptionsExcludeEachOther(t *testing.T) {
	t.Parallel()
	creds := func(context.Context, string) (github.Credentials, error) { return github.Credentials{}, nil }
	all := map[string]github.Option{
		"WithBearerToken": github.WithBearerToken("t"),
		"WithCredentials": github.WithCredentials(creds),
		"WithApp":         github.WithApp(1, 2, testKeyPEM(t)),
	}
	optioncases.CredentialsExclusive(t, gitops.ErrInvalid, all, func(a, b github.Option) error {
		_, err := github.New("org", "gitops", a, nil, b)
		return err
	})
}
