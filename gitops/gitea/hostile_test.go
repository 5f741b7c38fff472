package gitea_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/internal/testkit/forgetest"
	"github.com/railyard-gitops/railyard/internal/testkit/hostilehttp"
)

const secretToken = "gitea-s3cret-token-0001"

func fast() gitea.Option { return gitea.WithRetries(2, time.Millisecond, 5*time.Millisecond) }

// forge is how the shared hostile-server checks (internal/testkit/forgetest)
// build a Gitea client.
var forge = forgetest.Forge[gitea.Option]{
	New: func(_ testing.TB, baseURL string, opts ...gitea.Option) (gitops.PullRequests, error) {
		return gitea.New(baseURL, "org", "gitops", append(opts, fast())...)
	},
	WithBearerToken:     gitea.WithBearerToken,
	WithLogger:          gitea.WithLogger,
	WithMaxPages:        gitea.WithMaxPages,
	WithMaxResponseSize: gitea.WithMaxResponseSize,
	DefaultMaxPages:     gitea.DefaultMaxPages,
}

// Servers that lie (internal/testkit/hostilehttp): a redirect to another
// port of the same host, or to the same port under another host name,
// reaches there without the token (static or from a provider), and the
// token reaches no error or log line. Before, a redirect to another port
// received the token.
func TestRedirectsCarryNoCredentials(t *testing.T) {
	forgetest.RedirectsCarryNoCredentials(t, forge, map[string]forgetest.Auth[gitea.Option]{
		"bearer token": {Option: gitea.WithBearerToken(secretToken), Secrets: []string{secretToken}, Sent: true},
		"credentials": {
			Option: gitea.WithCredentials(func(_ context.Context, host string) (gitea.Credentials, error) {
				return gitea.Credentials{Username: "kargo", Password: secretToken}, nil
			}),
			Secrets: []string{secretToken}, Sent: true,
		},
	})
}

// A server that echoes the credentials it got does not get them into
// errors or logs (the rest of the behaviour is tested against a real Gitea).
func TestEchoedCredentialsAreRedacted(t *testing.T) {
	for _, err := range forgetest.EchoedCredentialsAreRedacted(t, forge) {
		var ge *gitea.Error
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, http.StatusUnauthorized, ge.StatusCode)
	}
}

// Regression: against a server that never returns an empty page, FindOpen
// paged forever (148k requests in 8 s). Now it costs at most WithMaxPages
// requests and a typed error.
func TestFindOpenPagesAreBounded(t *testing.T) { forgetest.FindOpenPagesAreBounded(t, forge) }

// Huge, endless and slow answers cost a typed error, not memory or time.
func TestOversizeAndSlowAnswers(t *testing.T) { forgetest.OversizeAndSlowAnswers(t, forge) }

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
	_, err = prs.Get(forgetest.Context(t), 1)
	require.ErrorIs(t, err, gitops.ErrUnavailable)
	assert.True(t, gitops.IsRetryable(err))
	assert.Equal(t, 3, srv.Count(), "1 try + 2 retries")
}

// 256 MiB of JSON took the client to about 1 GiB before the response cap;
// under the default limits it now stays under 128 MiB of peak RSS (run in
// a child process).
func TestHugeAnswerMemory(t *testing.T) { forgetest.HugeAnswerMemory(t, forge) }

// A redirect loop costs at most 10 redirects and an error matching
// ErrUnsafeContent, which no retry heals.
func TestRedirectLoop(t *testing.T) { forgetest.RedirectLoop(t, forge) }
