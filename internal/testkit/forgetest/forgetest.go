// Package forgetest holds the hostile-server tests every pull-request
// forge client (gitops/github, gitops/gitea) must pass, written once: a
// forge's test describes how to build its client in a [Forge] and calls
// the checks, which run against [gitops.PullRequests] and servers that lie
// (internal/testkit/hostilehttp). Checks that only one forge has (GitHub
// App tokens, Gitea's fork ids) stay with that forge.
//
// It is internal test infrastructure: the railyard packages never import it
// outside their tests.
package forgetest

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/hostilehttp"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
	"github.com/railyard-gitops/railyard/internal/testkit/rsstest"
)

// Forge is how the checks build one forge's client; O is the forge's
// Option type.
type Forge[O any] struct {
	// New returns a client of the repository org/gitops on the server at
	// baseURL (without a trailing slash) with opts, and with retries fast
	// enough for tests (a few, of milliseconds).
	New func(t testing.TB, baseURL string, opts ...O) (gitops.PullRequests, error)
	// WithBearerToken, WithLogger, WithMaxPages and WithMaxResponseSize
	// are the forge's options of those names.
	WithBearerToken     func(token string) O
	WithLogger          func(l *slog.Logger) O
	WithMaxPages        func(n int) O
	WithMaxResponseSize func(bytes int64) O
	// DefaultMaxPages is the forge's DefaultMaxPages.
	DefaultMaxPages int
}

// Auth is one way of authenticating, for [RedirectsCarryNoCredentials].
type Auth[O any] struct {
	// Option sets the credential.
	Option O
	// Secrets must reach no error, no log line and no other origin.
	Secrets []string
	// Sent says the first secret is sent to the API's origin as it is, so
	// the calls get far enough for their redirects to be followed; false
	// when the credential is first exchanged (a GitHub App's installation
	// token), an exchange the redirect already stops.
	Sent bool
}

// Context returns a context that ends a minute from now or with the test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// calls makes every call of the PullRequests interface once and returns
// their errors: Get, FindOpen, UpdateBody and Create.
func calls(ctx context.Context, prs gitops.PullRequests) []error {
	var errs []error
	_, err := prs.Get(ctx, 1)
	errs = append(errs, err)
	_, err = prs.FindOpen(ctx, "h", "b")
	errs = append(errs, err)
	_, err = prs.UpdateBody(ctx, 1, "b")
	errs = append(errs, err)
	_, err = prs.Create(ctx, gitops.NewPullRequest{Title: "t", Head: "h", Base: "b"})
	errs = append(errs, err)
	return errs
}

// RedirectsCarryNoCredentials checks every way of authenticating in auths
// (by name) against servers that redirect to another port of the same
// host, or to the same port under another host name: the redirected
// request reaches there without any credential, only reads are
// redirected there, and no secret reaches an error or a log line.
func RedirectsCarryNoCredentials[O any](t *testing.T, f Forge[O], auths map[string]Auth[O]) {
	t.Parallel()
	require.NotEmpty(t, auths)
	for name, auth := range auths {
		require.NotEmpty(t, auth.Secrets, name)
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
				prs, err := f.New(t, home.URL, auth.Option, f.WithLogger(logs.Logger()))
				require.NoError(t, err)
				for _, err := range calls(Context(t), prs) {
					require.Error(t, err)
					for _, secret := range auth.Secrets {
						assert.NotContains(t, err.Error(), secret)
					}
				}
				for _, secret := range auth.Secrets {
					assert.NotContains(t, logs.String(), secret)
				}
				if auth.Sent {
					assert.NotEmpty(t, home.Leaks(auth.Secrets[0]), "the credential went to its origin")
				}
				var elsewhere []hostilehttp.Request
				for _, s := range []*hostilehttp.Server{other, home} {
					for _, r := range s.Requests() {
						if s == other || strings.HasPrefix(r.Host, "localhost:") {
							elsewhere = append(elsewhere, r)
						}
					}
				}
				if auth.Sent {
					require.NotEmpty(t, elsewhere, "the redirects of reads were followed")
				}
				for _, r := range elsewhere {
					assert.Empty(t, r.Header.Get("Authorization"), "%s %s", r.Method, r.Path)
					assert.Contains(t, []string{http.MethodGet, http.MethodHead}, r.Method, "a write is not redirected to another origin")
				}
			})
		}
	}
}

// EchoedCredentialsAreRedacted checks that a server that echoes the bearer
// token it got, in its body and headers, does not get it into errors or
// logs, while the token is sent, to its origin, by every call. It returns
// the calls' errors (of Get, FindOpen, UpdateBody and Create), 401s, for
// the forge's own checks of its error type.
func EchoedCredentialsAreRedacted[O any](t *testing.T, f Forge[O]) []error {
	t.Parallel()
	const token = "forge-s3cret-token-0002"
	echo := hostilehttp.New(t, hostilehttp.Echo(http.StatusUnauthorized))
	logs := &logtest.Buffer{}
	prs, err := f.New(t, echo.URL, f.WithBearerToken(token), f.WithLogger(logs.Logger()))
	require.NoError(t, err)
	errs := calls(Context(t), prs)
	for _, err := range errs {
		require.ErrorIs(t, err, gitops.ErrUnauthorized)
		assert.False(t, gitops.IsRetryable(err))
		assert.Contains(t, err.Error(), "xxxxx", "the echo is there, masked")
		assert.NotContains(t, err.Error(), token)
	}
	require.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), token)
	assert.Len(t, echo.Leaks(token), 4, "the token was sent, to its origin")
	return errs
}

// FindOpenPagesAreBounded checks that a server that never ends the listing
// of pull requests (a page of one non-matching pull request from a fork,
// with a Link to the next page, forever) costs at most WithMaxPages
// requests (DefaultMaxPages without it) and a typed error.
func FindOpenPagesAreBounded[O any](t *testing.T, f Forge[O]) {
	t.Parallel()
	for _, tc := range []struct {
		opts  []O
		pages int
	}{{nil, f.DefaultMaxPages}, {[]O{f.WithMaxPages(5)}, 5}} {
		srv := hostilehttp.New(t, hostilehttp.PullsForever())
		prs, err := f.New(t, srv.URL, tc.opts...)
		require.NoError(t, err)
		_, err = prs.FindOpen(Context(t), "railyard/x", "stage/production")
		var le *gitops.LimitError
		require.ErrorAs(t, err, &le)
		assert.ErrorIs(t, err, gitops.ErrLimitExceeded)
		assert.False(t, gitops.IsRetryable(err))
		assert.Equal(t, "pages", le.Limit)
		assert.Equal(t, tc.pages, srv.Count())
	}
}

// OversizeAndSlowAnswers checks that huge (announced or chunked), endless
// and slow answers cost a typed error, not memory or time, and that a
// response over WithMaxResponseSize is not retried.
func OversizeAndSlowAnswers[O any](t *testing.T, f Forge[O]) {
	t.Parallel()
	for name, h := range map[string]http.Handler{
		"huge, announced": hostilehttp.HugeJSON(256<<20, true),
		"huge, chunked":   hostilehttp.HugeJSON(256<<20, false),
		"endless":         hostilehttp.Endless(),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := hostilehttp.New(t, h)
			prs, err := f.New(t, srv.URL, f.WithMaxResponseSize(1<<20))
			require.NoError(t, err)
			_, err = prs.FindOpen(Context(t), "h", "b")
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
		prs, err := f.New(t, srv.URL)
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

// HugeAnswerMemory checks that 256 MiB of JSON, under the default limits,
// keeps a child process running FindOpen and Get under 128 MiB of peak
// RSS (see internal/testkit/rsstest; it must be called from the test
// function itself, and does not run in parallel).
func HugeAnswerMemory[O any](t *testing.T, f Forge[O]) {
	rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
		srv := hostilehttp.New(t, hostilehttp.HugeJSON(256<<20, false))
		prs, err := f.New(t, srv.URL)
		require.NoError(t, err)
		_, err = prs.FindOpen(Context(t), "h", "b")
		require.ErrorIs(t, err, gitops.ErrLimitExceeded)
		_, err = prs.Get(Context(t), 1)
		require.ErrorIs(t, err, gitops.ErrLimitExceeded)
	})
}

// RedirectLoop checks that a redirect loop costs at most 10 redirects and
// an error matching ErrUnsafeContent, which no retry heals, without the
// token in it.
func RedirectLoop[O any](t *testing.T, f Forge[O]) {
	t.Parallel()
	const token = "forge-s3cret-token-0003"
	srv := hostilehttp.New(t, nil)
	srv.SetHandler(hostilehttp.Redirect(srv.URL+"/again", http.StatusFound))
	prs, err := f.New(t, srv.URL, f.WithBearerToken(token))
	require.NoError(t, err)
	_, err = prs.Get(Context(t), 1)
	require.ErrorIs(t, err, gitops.ErrUnsafeContent)
	assert.False(t, gitops.IsRetryable(err))
	assert.NotContains(t, err.Error(), token)
	assert.Equal(t, 11, srv.Count(), "the request and 10 redirects")
}
