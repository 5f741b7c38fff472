package github

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/forgeopt"
)

// Defaults of the limits; see [WithMaxPages] and [WithMaxResponseSize].
const (
	DefaultMaxPages        = 100
	DefaultMaxResponseSize = 8 << 20
)

// Defaults of [WithRetries], the same in every railyard package but
// gitops (whose retries also absorb lost push races).
const (
	// DefaultRetries is how many times a transient failure is retried
	// after the first try.
	DefaultRetries = 3
	// DefaultMinWait is the first backoff cap; it doubles per retry.
	DefaultMinWait = 200 * time.Millisecond
	// DefaultMaxWait caps every wait, a server's Retry-After included.
	DefaultMaxWait = 5 * time.Second
)

// Credentials are what a [CredentialsFunc] hands out for one host. Token,
// when set, is sent as "Authorization: Bearer"; otherwise Username and
// Password as basic auth. The zero value means anonymous.
type Credentials struct {
	Username, Password, Token string
}

// CredentialsFunc returns the credentials for host (the API's host[:port]).
// It is called for every request, so a rotating token stays fresh; it must
// be safe for concurrent use.
type CredentialsFunc func(ctx context.Context, host string) (Credentials, error)

// Option configures [New]. A nil Option is ignored.
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

type options struct {
	forgeopt.Options
	baseURL *url.URL
	app     *appConfig
}

type appConfig struct {
	appID, installationID int64
	key                   []byte
}

func newOptions(opts []Option) (*options, error) {
	base, _ := url.Parse("https://api.github.com/")
	o := &options{
		Options: forgeopt.New(DefaultRetries, DefaultMinWait, DefaultMaxWait, DefaultMaxPages, DefaultMaxResponseSize),
		baseURL: base,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("github: %w: "+format, append([]any{gitops.ErrInvalid}, args...)...)
}

// refused wraps a refusal of the shared option code (internal/forgeopt),
// which gives the reason only, as this package's invalid-input error; nil
// stays nil.
func refused(err error) error {
	if err == nil {
		return nil
	}
	return invalid("%v", err)
}

// WithBaseURL sets the REST API root, e.g.
// "https://ghe.example.com/api/v3/" for GitHub Enterprise Server.
// Credentials go only to its origin (scheme, host and port). The default is
// "https://api.github.com/".
func WithBaseURL(u string) Option {
	return optionFunc(func(o *options) error {
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" || parsed.User != nil {
			return invalid("base URL must be an http(s) URL without credentials")
		}
		if !strings.HasSuffix(parsed.Path, "/") {
			parsed.Path += "/"
		}
		parsed.RawQuery, parsed.Fragment = "", ""
		o.baseURL = parsed
		return nil
	})
}

// WithBearerToken authenticates with a personal access token (or any token
// GitHub accepts) sent as "Authorization: Bearer" to the API's origin only.
// It excludes the other credential options: two of [WithBearerToken],
// [WithCredentials] and [WithApp], or one twice, fail with
// [gitops.ErrInvalid] naming both. The default is no authentication, which
// only reads public repositories.
func WithBearerToken(token string) Option {
	return optionFunc(func(o *options) error { return refused(o.SetBearerToken(token)) })
}

// WithCredentials asks fn for the credentials of every request, with the
// API's host, so that rotating tokens stay fresh in a long-lived process.
// They go to the API's origin only. It excludes the other credential
// options: two of [WithBearerToken], [WithCredentials] and [WithApp], or
// one twice, fail with [gitops.ErrInvalid] naming both. The default is no
// authentication.
func WithCredentials(fn CredentialsFunc) Option {
	return optionFunc(func(o *options) error { return refused(forgeopt.SetCredentials(&o.Options, fn)) })
}

// WithApp authenticates as a GitHub App installation: a JWT signed with the
// App's PEM private key (PKCS#1 or PKCS#8 RSA) is exchanged for an
// installation token at the API's origin, cached and renewed a minute
// before it expires (installation tokens last an hour), so a long-lived
// PullRequests keeps working. It excludes the other credential options: two
// of [WithBearerToken], [WithCredentials] and [WithApp], or one twice, fail
// with [gitops.ErrInvalid] naming both. The default is no authentication.
func WithApp(appID, installationID int64, privateKeyPEM []byte) Option {
	return optionFunc(func(o *options) error {
		if appID <= 0 || installationID <= 0 {
			return invalid("App and installation IDs must be positive")
		}
		if len(privateKeyPEM) == 0 {
			return invalid("empty App private key")
		}
		if err := refused(o.SetCredential("WithApp")); err != nil {
			return err
		}
		o.app = &appConfig{appID: appID, installationID: installationID, key: append([]byte(nil), privateKeyPEM...)}
		return nil
	})
}

// WithHTTPClient sets the client whose Transport carries every request (its
// Timeout is kept; redirects follow railyard's policy). The default is a
// client on http.DefaultTransport.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(o *options) error { return refused(o.SetHTTPClient(c)) })
}

// WithRetries retries reads and body updates (which are idempotent) up to n
// times after the first try, on network errors and 408, 429, 500, 502, 503
// and 504, with full-jitter backoff from minWait doubling to maxWait and
// Retry-After honoured up to maxWait (a longer one ends the retries).
// Opening a pull request is never retried: a retry could open two. n must
// be in 0..999 (0 tries once) and 0 < minWait <= maxWait; otherwise New
// fails with [gitops.ErrInvalid]. The default is [DefaultRetries] (3),
// [DefaultMinWait] (200ms) and [DefaultMaxWait] (5s).
func WithRetries(n int, minWait, maxWait time.Duration) Option {
	return optionFunc(func(o *options) error { return refused(o.SetRetries(n, minWait, maxWait)) })
}

// WithLogger sets the logger: Debug lines for every round trip and API
// call, redacted. The default is to discard logs.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) error { return refused(o.SetLogger(l)) })
}

// WithMaxPages bounds the pages one listing follows (FindOpen); past it the
// call fails with a [gitops.LimitError]. The default is [DefaultMaxPages]
// (100).
func WithMaxPages(n int) Option {
	return optionFunc(func(o *options) error { return refused(o.SetMaxPages(n)) })
}

// WithMaxResponseSize bounds the bytes of any one answer, checked before it
// is decoded; past it the call fails with a [gitops.LimitError]. The
// default is [DefaultMaxResponseSize] (8 MiB).
func WithMaxResponseSize(bytes int64) Option {
	return optionFunc(func(o *options) error { return refused(o.SetMaxResponseSize(bytes)) })
}
