package github_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/github"
	"github.com/railyard-gitops/railyard/internal/testkit/forgetest"
)

// forge is how the shared hostile-server checks (internal/testkit/forgetest)
// build a GitHub client.
var forge = forgetest.Forge[github.Option]{
	New: func(_ testing.TB, baseURL string, opts ...github.Option) (gitops.PullRequests, error) {
		return github.New("org", "gitops", append(opts, github.WithBaseURL(baseURL+"/"), fastRetry())...)
	},
	WithBearerToken:     github.WithBearerToken,
	WithLogger:          github.WithLogger,
	WithMaxPages:        github.WithMaxPages,
	WithMaxResponseSize: github.WithMaxResponseSize,
	DefaultMaxPages:     github.DefaultMaxPages,
}

// Servers that lie (internal/testkit/hostilehttp) against every way of
// authenticating: a redirect to another port of the same host, or to the
// same port under another host name, must reach there without any
// credential (token, provider token, App JWT or installation token), and
// no credential may reach an error or a log line.
func TestRedirectsCarryNoCredentials(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	const rotating = "ghp_provided-token-0001"
	forgetest.RedirectsCarryNoCredentials(t, forge, map[string]forgetest.Auth[github.Option]{
		"bearer token": {Option: github.WithBearerToken(token), Secrets: []string{token, rotating}, Sent: true},
		"credentials": {
			Option: github.WithCredentials(func(_ context.Context, host string) (github.Credentials, error) {
				return github.Credentials{Token: rotating}, nil
			}),
			Secrets: []string{rotating, token}, Sent: true,
		},
		// The installation token exchange is redirected too, so no call
		// gets far enough to be redirected itself.
		"app": {Option: github.WithApp(4242, 7, pemKey), Secrets: []string{token, rotating}},
	})
}

// A server that echoes the credentials it got, in its body and headers,
// does not get them into errors or logs.
func TestEchoedCredentialsAreRedacted(t *testing.T) {
	for _, err := range forgetest.EchoedCredentialsAreRedacted(t, forge) {
		var ge *github.Error
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, http.StatusUnauthorized, ge.StatusCode)
	}
}

// A server that never ends the listing of pull requests costs at most
// WithMaxPages requests and a typed error.
func TestFindOpenPagesAreBounded(t *testing.T) { forgetest.FindOpenPagesAreBounded(t, forge) }

// Huge, endless and slow answers cost a typed error, not memory or time.
func TestOversizeAndSlowAnswers(t *testing.T) { forgetest.OversizeAndSlowAnswers(t, forge) }

// 256 MiB of JSON took the client to about 1 GiB before the response cap;
// under the default limits it now stays under 128 MiB of peak RSS (run in
// a child process).
func TestHugeAnswerMemory(t *testing.T) { forgetest.HugeAnswerMemory(t, forge) }

// A redirect loop costs at most 10 redirects and an error matching
// ErrUnsafeContent, which no retry heals.
func TestRedirectLoop(t *testing.T) { forgetest.RedirectLoop(t, forge) }
