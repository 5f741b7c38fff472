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

// WithCredentials asks fn for credentials for the host of the source's
// origin. A GitSource asks it before each request and sends what it returns
// only to its repository's origin (scheme, host and port), never to a host
// or port a redirect leads to. An ImageSource asks it whenever a token is
// fetched or renewed (or, for registries with basic auth, per request), and
// its credentials go where [WithBasicAuth]'s go. Every secret fn returns is
// redacted from errors and logs; an error from fn fails the call with
// [ErrUnauthorized]. It excludes [WithBasicAuth] and [WithBearerToken]:
// giving two of them, or one twice, fails with [ErrInvalid]. Affects
// GitSource and ImageSource. The default is no provider.
func WithCredentials(fn CredentialsFunc) Option {
	return option{"WithCredentials", forGit | forImage, func(o *options) error {
		if fn == nil {
			return invalid("nil credentials function")
		}
		if err := o.setCredential("WithCredentials"); err != nil {
			return err
		}
		o.credentials = fn
		return nil
	}}
}
