package railyard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/gitops/github"
	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
	"github.com/railyard-gitops/railyard/render"
	"github.com/railyard-gitops/railyard/sparse"
)

// secret is a credential that must never leave the Authorization header.
const secret = "ghp_R4ilyardS3cretT0ken"

// Every package, run with a secret in URLs and options — on success, on
// refusal and under injected faults — keeps it out of every error and every
// log line (debug included).
func TestCredentialsNeverLeak(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	w, err := demo.Build(t.TempDir(), demo.Small, demo.DefaultSeed)
	require.NoError(t, err)
	s, err := demo.Serve(ctx, w)
	require.NoError(t, err)
	defer s.Close()

	sink := &logtest.Buffer{} // every log line of every package, at every level
	logger := sink.Logger()
	withUser := func(u string) string { return strings.Replace(u, "http://", "http://deploy:"+secret+"@", 1) }
	var errs []error
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			errs = append(errs, err)
			assert.NotContains(t, err.Error(), secret, what)
		}
	}
	// Every other request fails at first: retries and their logs run too.
	s.Git.SetFault(func(r gittest.Request) *gittest.Fault {
		if r.N%2 == 0 {
			return &gittest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0"}
		}
		return nil
	})

	// freight: credentials in the URL and as options, good and bad targets.
	for _, u := range []string{withUser(s.MonorepoURL), withUser(s.Git.RepoURL("missing.git")), "http://deploy:" + secret + "@127.0.0.1:1/x.git"} {
		src, err := freight.NewGitSource(u, "main", freight.WithLimit(5), freight.WithLogger(logger),
			freight.WithRetries(2, time.Millisecond, 10*time.Millisecond))
		check("freight git source", err)
		if err == nil {
			_, err = src.History(ctx)
			check("freight history", err)
		}
	}
	img, err := freight.NewImageSource(s.ImageRepo, freight.WithBasicAuth("robot", secret), freight.WithLogger(logger))
	require.NoError(t, err)
	_, err = img.Tags(ctx)
	check("freight tags", err)
	_, err = img.Resolve(ctx, "git-"+strings.Repeat("0", 40))
	check("freight resolve missing", err)

	// sparse: URL user info, basic and bearer options, failing fetches.
	commit := w.Commits[1].ID
	for _, tc := range []struct {
		url  string
		opts []sparse.Option
	}{
		{withUser(s.MonorepoURL), nil},
		{s.MonorepoURL, []sparse.Option{sparse.WithBasicAuth("deploy", secret)}},
		{s.MonorepoURL, []sparse.Option{sparse.WithBearerToken(secret)}},
		{withUser(s.Git.RepoURL("missing.git")), nil},
	} {
		opts := append([]sparse.Option{sparse.WithLogger(logger), sparse.WithRetries(2, time.Millisecond, 10*time.Millisecond)}, tc.opts...)
		_, err := sparse.Fetch(ctx, sparse.Request{URL: tc.url, Commit: commit, Paths: []string{"k8s/kustomize"}}, opts...)
		check("sparse fetch", err)
		_, err = sparse.Fetch(ctx, sparse.Request{URL: tc.url, Commit: commit, Paths: []string{"no/such/dir"}}, opts...)
		check("sparse fetch of a missing path", err)
		_, err = sparse.Resolve(ctx, tc.url, "no-such-branch", opts...)
		check("sparse resolve", err)
	}

	// render: a kustomization that names a remote base with a token in it.
	_, err = render.Build(ctx, []render.Mount{{At: "src", FS: fstest.MapFS{
		"kustomization.yaml": {Data: []byte("resources:\n- https://deploy:" + secret + "@github.com/org/base//k8s?ref=main\n")},
	}}}, render.Wrapper{Dir: "wrapper", Resources: []string{"../src"}}, render.WithLogger(logger))
	require.Error(t, err)
	check("render remote base", err)

	// gitops: commit and propose with the secret in the URL and as a token.
	for _, u := range []string{withUser(s.GitOpsURL), withUser(s.Git.RepoURL("missing.git"))} {
		repo, err := gitops.NewRepo(u, gitops.WithLogger(logger))
		check("gitops repo", err)
		if err != nil {
			continue
		}
		assert.NotContains(t, repo.URL(), secret)
		_, err = repo.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: "deploy",
			Files: map[string][]byte{"a.yaml": []byte("kind: ConfigMap\n")}, Message: "m"})
		check("gitops commit", err)
	}
	repo, err := gitops.NewRepo(s.GitOpsURL, gitops.WithBasicAuth("x-access-token", secret), gitops.WithLogger(logger))
	require.NoError(t, err)
	_, err = repo.Commit(ctx, gitops.Change{Branch: "stage/..bad", Files: map[string][]byte{"a": nil}, Message: "m"})
	check("gitops bad branch", err)

	// Malformed URLs carrying a password: parsers quote what they got (a
	// gitops.NewRepo error quoted the secret).
	for _, u := range []string{"https://x:" + secret + "@host:badport/r.git", "http://x:" + secret + "@[::1/r.git"} {
		_, err := gitops.NewRepo(u, gitops.WithLogger(logger))
		require.Error(t, err, u)
		check("gitops malformed URL", err)
		_, err = freight.NewGitSource(u, "main", freight.WithLogger(logger))
		require.Error(t, err, u)
		check("freight malformed URL", err)
		_, err = gitea.New(u, "org", "gitops", gitea.WithLogger(logger))
		require.Error(t, err, u)
		check("gitea malformed URL", err)
		_, err = github.New("org", "gitops", github.WithBaseURL(u), github.WithLogger(logger))
		require.Error(t, err, u)
		check("github malformed URL", err)
	}

	// The forge providers: a server that refuses every call and echoes
	// what it got, as some proxies do.
	echo := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(http.StatusUnauthorized)
		_, _ = rw.Write([]byte(`{"message":"bad credentials: ` + r.Header.Get("Authorization") + `"}`))
	}))
	defer echo.Close()
	gh, err := github.New("org", "gitops", github.WithBaseURL(echo.URL+"/"), github.WithBearerToken(secret), github.WithLogger(logger))
	require.NoError(t, err)
	_, err = gh.Get(ctx, 1)
	check("github get", err)
	gt, err := gitea.New(echo.URL, "org", "gitops", gitea.WithBearerToken(secret), gitea.WithLogger(logger))
	require.NoError(t, err)
	_, err = gt.FindOpen(ctx, "head", "stage/production")
	check("gitea find", err)

	require.GreaterOrEqual(t, len(errs), 10, "the failing cases failed")
	logs := sink.String()
	require.NotEmpty(t, logs, "debug logging produced lines to check")
	assert.NotContains(t, logs, secret)
}
