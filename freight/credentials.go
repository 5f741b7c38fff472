package freight

import "context"

// Credentials are what a [CredentialsFunc] hands out for one host. Token,
// when set, is a bearer token (for a registry: a registry token sent as
// is); otherwise Username and Password are basic credentials (for a
// registry: exchanged at its token service, as GHCR wants a GitHub token
// as the password). The zero value means anonymous.
type Credentials struct {
	Username, Password, Token string
}

// CredentialsFunc returns the credentials for host (host[:port]). It is
// asked again whenever a token must be fetched or renewed, so rotating
// credentials (a GitHub App installation token for GHCR) keep working in
// a long-lived process; it must be safe for concurrent use.
type CredentialsFunc func(ctx context.Context, host string) (Credentials, error)

// WithCredentials asks fn for the registry's credentials whenever a token
// is fetched or renewed (or, for registries with basic auth, per request).
// They go where [WithBasicAuth]'s go, and every secret fn returns is
// redacted from errors and logs. It excludes WithBasicAuth and
// WithBearerToken. Affects ImageSource. The default is no provider.
func WithCredentials(fn CredentialsFunc) Option {
	return option{"WithCredentials", forImage, func(o *options) error {
		if fn == nil {
			return invalid("nil credentials function")
		}
		o.credentials = fn
		return nil
	}}
}
