package registrytest

import (
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Option configures [Start] and [New].
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

type options struct {
	pageSizeCap int
	basicUser   string
	basicPass   string
	bearer      bool
	tokenUser   string
	tokenPass   string
	token       string
}

func newOptions(opts []Option) (*options, error) {
	o := &options{}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(o); err != nil {
			return nil, err
		}
	}
	if o.basicUser != "" && o.bearer {
		return nil, errors.New("registrytest: WithBasicAuth and WithBearerToken are exclusive")
	}
	return o, nil
}

// WithPageSizeCap makes GET /v2/<repo>/tags/list return at most n tags per
// page, whatever the client asks for and also when it sends no ?n=, with a
// Link header to the next page (as GHCR and Docker Hub do). n must be
// positive. The default is no cap: a listing without ?n= returns every tag.
func WithPageSizeCap(n int) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("registrytest: page size cap %d must be positive", n)
		}
		o.pageSizeCap = n
		return nil
	})
}

// WithBasicAuth makes every /v2/ request require HTTP basic credentials
// user:pass; others get 401 with `WWW-Authenticate: Basic realm="registrytest"`.
// The push helpers use these credentials themselves. user must not be empty.
// The default is no authentication.
func WithBasicAuth(user, pass string) Option {
	return optionFunc(func(o *options) error {
		if user == "" {
			return errors.New("registrytest: basic auth user must not be empty")
		}
		o.basicUser, o.basicPass = user, pass
		return nil
	})
}

// WithBearerToken makes every /v2/ request require `Authorization: Bearer
// <token>`; others get 401 with a `WWW-Authenticate: Bearer realm=".../token",
// service="registrytest",scope="repository:<repo>:pull"` challenge, as
// distribution's token auth and GHCR answer. GET /token (the realm) hands out
// token to clients presenting basic credentials user:pass, or to anyone when
// user is empty (like anonymous pulls from a public GHCR package). Clients
// that already hold the token (a "registry token") can send it directly.
// token must not be empty. The default is no authentication.
func WithBearerToken(user, pass, token string) Option {
	return optionFunc(func(o *options) error {
		if token == "" {
			return errors.New("registrytest: bearer token must not be empty")
		}
		o.bearer = true
		o.tokenUser, o.tokenPass, o.token = user, pass, token
		return nil
	})
}

// authenticator returns credentials the configured registry accepts.
func (o *options) authenticator() authn.Authenticator {
	switch {
	case o.basicUser != "":
		return &authn.Basic{Username: o.basicUser, Password: o.basicPass}
	case o.bearer:
		return authn.FromConfig(authn.AuthConfig{RegistryToken: o.token})
	}
	return authn.Anonymous
}
