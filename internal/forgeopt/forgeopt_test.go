package forgeopt_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/forgeopt"
	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
	"github.com/railyard-gitops/railyard/internal/retry"
)

type creds struct{ Username, Password, Token string }

type credsFunc func(ctx context.Context, host string) (creds, error)

func defaults() forgeopt.Options {
	return forgeopt.New(3, time.Millisecond, time.Second, 100, 1<<20)
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	o := defaults()
	assert.Equal(t, retry.Policy{Retries: 3, MinWait: time.Millisecond, MaxWait: time.Second}, o.Retry)
	assert.Equal(t, 100, o.MaxPages)
	assert.EqualValues(t, 1<<20, o.MaxResponse)
	assert.NotNil(t, o.Logger)
	assert.Nil(t, o.HTTPClient)
	assert.Nil(t, o.Auth(&redact.Set{}), "anonymous by default")
}

// Each setter refuses what its With function documents, with the reason
// only (the forge adds its prefix and sentinel), and keeps what it accepts.
func TestSetters(t *testing.T) {
	t.Parallel()
	o := defaults()
	for want, err := range map[string]error{
		"empty bearer token":       o.SetBearerToken(""),
		"nil credentials function": forgeopt.SetCredentials(&o, credsFunc(nil)),
		"nil HTTP client":          o.SetHTTPClient(nil),
		"nil logger":               o.SetLogger(nil),
		"max pages 0":              o.SetMaxPages(0),
		"max response size -1":     o.SetMaxResponseSize(-1),
	} {
		require.Error(t, err, want)
		assert.Equal(t, want, err.Error())
	}
	require.Error(t, o.SetRetries(1, time.Second, time.Millisecond))

	c := &http.Client{}
	require.NoError(t, o.SetHTTPClient(c))
	require.NoError(t, o.SetRetries(0, time.Millisecond, time.Millisecond))
	require.NoError(t, o.SetMaxPages(5))
	require.NoError(t, o.SetMaxResponseSize(7))
	assert.Same(t, c, o.HTTPClient)
	assert.Equal(t, 0, o.Retry.Retries)
	assert.Equal(t, 5, o.MaxPages)
	assert.EqualValues(t, 7, o.MaxResponse)
}

func TestCredentialsExcludeEachOther(t *testing.T) {
	t.Parallel()
	o := defaults()
	require.NoError(t, o.SetBearerToken("tok"))
	err := forgeopt.SetCredentials(&o, credsFunc(func(context.Context, string) (creds, error) { return creds{}, nil }))
	require.EqualError(t, err, "WithBearerToken and WithCredentials both set credentials; give one")
	require.EqualError(t, o.SetCredential("WithApp"), "WithBearerToken and WithApp both set credentials; give one")
	require.EqualError(t, o.SetBearerToken("other"), "WithBearerToken and WithBearerToken both set credentials; give one")
	assert.Equal(t, "tok", o.Token, "a refused option changes nothing")
}

func TestAuth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	o := defaults()
	require.NoError(t, o.SetBearerToken("s3cret"))
	secrets := &redact.Set{}
	c, err := o.Auth(secrets)(ctx, "h")
	require.NoError(t, err)
	assert.Equal(t, httpx.Credentials{Token: "s3cret"}, c)
	assert.NotContains(t, secrets.String("a s3cret b"), "s3cret", "the static token is redacted")

	o = defaults()
	var asked string
	require.NoError(t, forgeopt.SetCredentials(&o, credsFunc(func(_ context.Context, host string) (creds, error) {
		asked = host
		return creds{Username: "u", Password: "p"}, nil
	})))
	c, err = o.Auth(&redact.Set{})(ctx, "example.com:443")
	require.NoError(t, err)
	assert.Equal(t, httpx.Credentials{Username: "u", Password: "p"}, c)
	assert.Equal(t, "example.com:443", asked)
}
