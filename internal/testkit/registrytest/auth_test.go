package registrytest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

const secret = "s3cret-pass"

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	reg := seeded(t, registrytest.WithBasicAuth("ci", secret))

	resp := do(t, http.MethodGet, reg.URL+"/v2/")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Basic realm="registrytest"`, resp.Header.Get("WWW-Authenticate"))

	got, err := remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()), remote.WithPageSize(2),
		remote.WithAuth(&authn.Basic{Username: "ci", Password: secret}))
	require.NoError(t, err)
	assert.Equal(t, sortedTags(), got)

	for name, auth := range map[string]authn.Authenticator{
		"anonymous":      authn.Anonymous,
		"wrong password": &authn.Basic{Username: "ci", Password: "nope"},
	} {
		_, err := remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()), remote.WithAuth(auth), noRetry)
		var terr *transport.Error
		require.ErrorAs(t, err, &terr, name)
		assert.Equal(t, http.StatusUnauthorized, terr.StatusCode, name)
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	const token = "tok-123"
	reg := seeded(t, registrytest.WithBearerToken("ci", secret, token))

	resp := do(t, http.MethodGet, reg.URL+"/v2/org/app/tags/list")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer realm="`+reg.URL+`/token",service="registrytest",scope="repository:org/app:pull"`,
		resp.Header.Get("WWW-Authenticate"))
	resp = do(t, http.MethodGet, reg.URL+"/v2/")
	assert.Equal(t, `Bearer realm="`+reg.URL+`/token",service="registrytest"`, resp.Header.Get("WWW-Authenticate"))

	reg.ResetStats()
	got, err := remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()), remote.WithPageSize(2),
		remote.WithAuth(&authn.Basic{Username: "ci", Password: secret}))
	require.NoError(t, err)
	assert.Equal(t, sortedTags(), got)
	assert.Equal(t, int64(1), reg.Stats()[registrytest.KindToken], "one token exchange for the whole listing")

	// A client holding the token sends it directly.
	_, err = remote.Head(tagRef(t, reg, "org/app", "latest"), remote.WithContext(t.Context()),
		remote.WithAuth(authn.FromConfig(authn.AuthConfig{RegistryToken: token})))
	require.NoError(t, err)

	_, err = remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()), noRetry,
		remote.WithAuth(&authn.Basic{Username: "ci", Password: "wrong"}))
	var terr *transport.Error
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, http.StatusUnauthorized, terr.StatusCode)
	assert.NotContains(t, err.Error(), secret)

	_, err = remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()), noRetry,
		remote.WithAuth(authn.FromConfig(authn.AuthConfig{RegistryToken: "forged"})))
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, http.StatusUnauthorized, terr.StatusCode)
}

func TestBearerTokenAnonymous(t *testing.T) {
	t.Parallel()
	reg := seeded(t, registrytest.WithBearerToken("", "", "public"))
	got, err := remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()))
	require.NoError(t, err)
	assert.Equal(t, sortedTags(), got)
	assert.Equal(t, int64(1), reg.Stats()[registrytest.KindToken])

	// The OAuth2 POST flow is absent, as on many registries.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, reg.URL+"/token", strings.NewReader("grant_type=password"))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]registrytest.Option{
		"zero page cap":   {registrytest.WithPageSizeCap(0)},
		"empty user":      {registrytest.WithBasicAuth("", "x")},
		"empty token":     {registrytest.WithBearerToken("u", "p", "")},
		"both auth kinds": {registrytest.WithBasicAuth("u", "p"), registrytest.WithBearerToken("u", "p", "t")},
	} {
		reg, err := registrytest.Start(opts...)
		assert.Error(t, err, name)
		assert.Nil(t, reg, name)
	}
}
