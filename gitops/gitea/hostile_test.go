package gitea_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/internal/testkit/hostilehttp"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
	"github.com/railyard-gitops/railyard/internal/testkit/rsstest"
)

const secretToken = "gitea-s3cret-token-0001"

func fast() gitea.Option { return gitea.WithRetries(2, time.Millisecond, 5*time.Millisecond) }

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Servers that lie (internal/testkit/hostilehttp): a redirect to another
// port of the same host, or to the same port under another host name,
// reaches there without the token (static or from a provider), and the
// token reaches no error or log line. Before, a redirect to another port
// received the token.
func TestRedirectsCarryNoCredentials(t *testing.T) {
	t.Parallel()
	auths := map[string]gitea.Option{
		"bearer token": gitea.WithBearerToken(secretToken),
		"credentials": gitea.WithCredentials(func(_ context.Context, host string) (gitea.Credentials, error) {
			return gitea.Credentials{Username: "kargo", Password: secretToken}, nil
		}),
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
				prs, err := gitea.New(home.URL, "org", "gitops", auth, fast(), gitea.WithLogger(logs.Logger()))
				require.NoError(t, err)
				ctx := testContext(t)
				var errs []error
				_, err = prs.Get(ctx, 1)
				errs = append(errs, err)
				_, err = prs.FindOpen(ctx, "h", "b")
				errs = append(errs, err)
				_, err = prs.UpdateBody(ctx, 1, "b")
				errs = append(errs, err)
				_, err = prs.Create(ctx, gitops.NewPullRequest{Title: "t", Head: "h", Base: "b"})
				errs = append(errs, err)
				for _, err := range errs {
					require.Error(t, err)
					assert.NotContains(t, err.Error(), secretToken)
				}
				assert.NotContains(t, logs.String(), secretToken)
				assert.NotEmpty(t, home.Leaks(secretToken), "the token went to its origin")
				var elsewhere []hostilehttp.Request
				for _, s := range []*hostilehttp.Server{other, home} {
					for _, r := range s.Requests() {
						if s == other || strings.HasPrefix(r.Host, "localhost:") {
							elsewhere = append(elsewhere, r)
						}
					}
				}
				require.NotEmpty(t, elsewhere, "the redirects of reads were followed")
				for _, r := range elsewhere {
					assert.Empty(t, r.Header.Get("Authorization"), "%s %s", r.Method, r.Path)
					assert.Contains(t, []string{http.MethodGet, http.MethodHead}, r.Method, "a write is not redirected to another origin")
				}
			})
		}
	}
}

// Regression: against a server that never returns an empty page, FindOpen
// paged forever (148k requests in 8 s). Now it costs at most WithMaxPages
// requests and a typed error.
func TestFindOpenPagesAreBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts  []gitea.Option
		pages int
	}{{nil, gitea.DefaultMaxPages}, {[]gitea.Option{gitea.WithMaxPages(5)}, 5}} {
		srv := hostilehttp.New(t, hostilehttp.PullsForever())
		prs, err := gitea.New(srv.URL, "org", "gitops", append(tc.opts, fast())...)
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
			prs, err := gitea.New(srv.URL, "org", "gitops", fast(), gitea.WithMaxResponseSize(1<<20))
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
		prs, err := gitea.New(srv.URL, "org", "gitops", fast())
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

// Transient failures that outlast the retries are ErrUnavailable, and
// retryable; the reads were retried.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	srv := hostilehttp.New(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	prs, err := gitea.New(srv.URL, "org", "gitops", fast())
	require.NoError(t, err)
	_, err = prs.Get(testContext(t), 1)
	require.ErrorIs(t, err, gitops.ErrUnavailable)
	assert.True(t, gitops.IsRetryable(err))
	assert.Equal(t, 3, srv.Count(), "1 try + 2 retries")
}

// 256 MiB of JSON took the client to about 1 GiB before the response cap;
// under the default limits it now stays under 128 MiB of peak RSS (run in
// a child process).
func TestHugeAnswerMemory(t *testing.T) {
	rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
		srv := hostilehttp.New(t, hostilehttp.HugeJSON(256<<20, false))
		prs, err := gitea.New(srv.URL, "org", "gitops", fast())
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
	prs, err := gitea.New(srv.URL, "org", "gitops", gitea.WithBearerToken(secretToken), fast())
	require.NoError(t, err)
	_, err = prs.Get(testContext(t), 1)
	require.ErrorIs(t, err, gitops.ErrUnsafeContent)
	assert.False(t, gitops.IsRetryable(err))
	assert.NotContains(t, err.Error(), secretToken)
	assert.Equal(t, 11, srv.Count(), "the request and 10 redirects")
}
