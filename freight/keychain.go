package freight

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/railyard-gitops/railyard/internal/redact"
)

// staticCredentials returns a CredentialsFunc that always answers c.
func staticCredentials(c Credentials) CredentialsFunc {
	return func(context.Context, string) (Credentials, error) { return c, nil }
}

// providerAuth is the go-containerregistry Authenticator over a
// CredentialsFunc. go-containerregistry asks it whenever it fetches or
// renews a token (and per request for basic-auth registries), so rotating
// credentials stay fresh. Every secret it hands out joins the source's
// redaction set.
type providerAuth struct {
	fn      CredentialsFunc
	host    string
	secrets *redact.Set
}

func (a *providerAuth) Authorization() (*authn.AuthConfig, error) {
	return a.AuthorizationContext(context.Background())
}

func (a *providerAuth) AuthorizationContext(ctx context.Context) (*authn.AuthConfig, error) {
	c, err := a.fn(ctx, a.host)
	if err != nil {
		return nil, fmt.Errorf("%w: credentials provider: %w", ErrUnauthorized, a.secrets.Error(err))
	}
	cfg := &authn.AuthConfig{Username: c.Username, Password: c.Password, RegistryToken: c.Token}
	if c.Token != "" {
		cfg.Username, cfg.Password = "", ""
	}
	record(a.secrets, cfg)
	return cfg, nil
}

// recordingAuth passes a keychain's Authenticator (the Docker config and
// its credential helpers) through, recording what it hands out for
// redaction.
type recordingAuth struct {
	inner   authn.Authenticator
	secrets *redact.Set
}

func (a *recordingAuth) Authorization() (*authn.AuthConfig, error) {
	return a.AuthorizationContext(context.Background())
}

func (a *recordingAuth) AuthorizationContext(ctx context.Context) (*authn.AuthConfig, error) {
	cfg, err := authn.Authorization(ctx, a.inner)
	if err != nil {
		return nil, fmt.Errorf("%w: docker config: %w", ErrUnauthorized, a.secrets.Error(err))
	}
	record(a.secrets, cfg)
	return cfg, nil
}

// record adds the secrets of cfg to set, in every spelling a server could
// echo: as given, and as basic auth encodes them.
func record(set *redact.Set, cfg *authn.AuthConfig) {
	set.Add(cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken)
	if cfg.Username != "" || cfg.Password != "" {
		set.Add(base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password)))
	}
}
