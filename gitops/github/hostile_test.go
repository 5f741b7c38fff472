package github_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/github"
	"github.com/railyard-gitops/railyard/internal/testkit/hostilehttp"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
	"github.com/railyard-gitops/railyard/internal/testkit/rsstest"
)

// Servers that lie (internal/testkit/hostilehttp) against every way of
// authenticating: a redirect to another port of the same host, or to the
// same port under another host name, must reach there without any
// credential (token, provider token, App JWT or installation token), and
// no credential may reach an error or a log line.
func TestRedirectsCarryNoCredentials(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	const rotating = "ghp_provided-token-0001"
	auths := map[string]github.Option{
		"bearer token": github.WithBearerToken(token),
		"credentials": github.WithCredentials(func(_ context.Context, host string) (github.Credentials, error) {
			return github.Credentials{Token: rotating}, nil
		}),
		"app": github.WithApp(4242, 7, pemKey),
	}
	for name, auth := range auths {
		for _, where := range []string{"other port", "other host name"} {
			t.Run(name+"/"+where, func(t *testing.T) {
				t.Parallel()
				other := hostilehttp.New(t, hostilehttp.Echo(http.StatusUnauthorized))
				home := hostilehttp.New(t, nil)
				target := other.URL
				if where == "other host name" {
					target = home.AltURL()
				}
				home.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if strings.HasPrefix(r.Host, "localhost:") {
						hostilehttp.Echo(http.StatusUnauthorized).ServeHTTP(w, r)
						return
					}
					hostilehttp.Redirect(target, http.StatusTemporaryRedirect).ServeHTTP(w, r)
				}))
				logs := &logtest.Buffer{}
				prs, err := github.New("org", "gitops", github.WithBaseURL(home.URL+"/"), auth, fastRetry(),
					github.WithLogger(logs.Logger()))
				require.NoError(t, err)
				ctx := testContext(t)
				var errs []error
				_, err = prs.Get(ctx, 1)
				errs = append(errs, err)
				_, err = prs.FindOpen(ctx, "h", "b")
				errs = append(errs, err)
				_, err = prs.Create(ctx, gitops.NewPullRequest{Title: "t", Head: "h", Base: "b"})
				errs = append(errs, err)
				for _, err := range errs {
					require.Error(t, err)
					assert.NotContains(t, err.Error(), token)
					assert.NotContains(t, err.Error(), rotating)
				}
				assert.NotContains(t, logs.String(), token)
				assert.NotContains(t, logs.String(), rotating)
				var elsewhere []hostilehttp.Request
				for _, s := range []*hostilehttp.Server{other, home} {
					for _, r := range s.Requests() {
						if s == other || strings.HasPrefix(r.Host, "localhost:") {
							elsewhere = append(elsewhere, r)
						}
					}
				}
				if name != "app" {
					require.NotEmpty(t, elsewhere, "the redirects were followed")
				}
				for _, r := range elsewhere {
					assert.Empty(t, r.Header.Get("Authorization"), "%s %s", r.Method, r.Path)
					assert.NotEqual(t, http.MethodPost, r.Method, "a write is not redirected to another origin")
				}
			})
		}
	}
}

// A server that never ends the listing of pull requests (a page of one
// non-matching pull request from a fork, with a Link to the next page,
// forever) costs at most WithMaxPages requests and a typed error.
func TestFindOpenPagesAreBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts  []github.Option
		pages int
	}{{nil, github.DefaultMaxPages}, {[]github.Option{github.WithMaxPages(5)}, 5}} {
		srv := hostilehttp.New(t, hostilehttp.PullsForever())
		prs, err := github.New("org", "gitops", append(tc.opts, github.WithBaseURL(srv.URL+"/"), fastRetry())...)
		require.NoError(t, err)
		_, err = prs.FindOpen(testContext(t), "railyard/x", "stage/production")
		var le *gitops.LimitError
		require.ErrorAs(t, err, &le)
		assert.ErrorIs(t, err, gitops.ErrLimitExceeded)
		assert.False(t, gitops.IsRetryable(err))
		assert.Equal(t, "pages", le.Limit)
		assert.Equal(t, tc.pages, srv.Count())
	}
}

// Huge, endless and slow answers cost a typed error, not memory or time.
func TestOversizeAndSlowAnswers(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]http.Handler{
		"huge, announced": hostilehttp.HugeJSON(256<<20, true),
		"huge, chunked":   hostilehttp.HugeJSON(256<<20, false),
		"endless":         hostilehttp.Endless(),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := hostilehttp.New(t, h)
			prs, err := github.New("org", "gitops", github.WithBaseURL(srv.URL+"/"), fastRetry(), github.WithMaxResponseSize(1<<20))
			require.NoError(t, err)
			_, err = prs.FindOpen(testContext(t), "h", "b")
			var le *gitops.LimitError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, "response size", le.Limit)
			assert.EqualValues(t, 1<<20, le.Max)
			assert.Equal(t, 1, srv.Count(), "not retried")
		})
	}
	t.Run("slow", func(t *testing.T) {
		t.Parallel()
		srv := hostilehttp.New(t, hostilehttp.Slow(50*time.Millisecond, strings.Repeat(" ", 1000)+"[]"))
		prs, err := github.New("org", "gitops", github.WithBaseURL(srv.URL+"/"), fastRetry())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = prs.FindOpen(ctx, "h", "b")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.True(t, gitops.IsRetryable(err))
		assert.Less(t, time.Since(start), 5*time.Second)
	})
}

// 256 MiB of JSON took the client to about 1 GiB before the response cap;
// under the default limits it now stays under 128 MiB of peak RSS (run in
// a child process).
func TestHugeAnswerMemory(t *testing.T) {
	rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
		srv := hostilehttp.New(t, hostilehttp.HugeJSON(256<<20, false))
		prs, err := github.New("org", "gitops", github.WithBaseURL(srv.URL+"/"), fastRetry())
		require.NoError(t, err)
		_, err = prs.FindOpen(testContext(t), "h", "b")
		require.ErrorIs(t, err, gitops.ErrLimitExceeded)
		_, err = prs.Get(testContext(t), 1)
		require.ErrorIs(t, err, gitops.ErrLimitExceeded)
	})
}

// A redirect loop costs at most 10 redirects and an error matching
// ErrUnsafeContent, which no retry heals.
func TestRedirectLoop(t *testing.T) {
	t.Parallel()
	srv := hostilehttp.New(t, nil)
	srv.SetHandler(hostilehttp.Redirect(srv.URL+"/again", http.StatusFound))
	prs, err := github.New("org", "gitops", github.WithBaseURL(srv.URL+"/"), github.WithBearerToken(token), fastRetry())
	require.NoError(t, err)
	_, err = prs.Get(testContext(t), 1)
	require.ErrorIs(t, err, gitops.ErrUnsafeContent)
	assert.False(t, gitops.IsRetryable(err))
	assert.NotContains(t, err.Error(), token)
	assert.Equal(t, 11, srv.Count(), "the request and 10 redirects")
}
