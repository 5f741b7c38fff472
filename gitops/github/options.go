package github

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/railyard-gitops/railyard/gitops/internal/forgehttp"
)

// Option configures [New].
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

type options struct {
	baseURL    *url.URL
	token      string
	app        *appAuth
	httpClient *http.Client
	logger     *slog.Logger
	retry      forgehttp.Policy
}

func newOptions(opts []Option) (*options, error) {
	base, _ := url.Parse("https://api.github.com/")
	o := &options{baseURL: base, logger: slog.New(slog.DiscardHandler), retry: forgehttp.DefaultPolicy}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("github: nil option")
		}
		if err := opt.apply(o); err != nil {
			return nil, err
		}
	}
	if o.token != "" && o.app != nil {
		return nil, errors.New("github: WithToken and WithApp both given")
	}
	return o, nil
}

// WithBaseURL sets the REST API root, e.g. "https://ghe.example.com/api/v3/"
// for GitHub Enterprise Server. The default is "https://api.github.com/".
func WithBaseURL(u string) Option {
	return optionFunc(func(o *options) error {
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" || parsed.User != nil {
			return errors.New("github: base URL must be an http(s) URL without credentials")
		}
		if !strings.HasSuffix(parsed.Path, "/") {
			parsed.Path += "/"
		}
		o.baseURL = parsed
		return nil
	})
}

// WithToken authenticates with a personal access token or any other
// token GitHub accepts as "Authorization: Bearer". The default is no
// authentication, which only reads public repositories.
func WithToken(token string) Option {
	return optionFunc(func(o *options) error {
		if token == "" {
			return errors.New("github: empty token")
		}
		o.token = token
		return nil
	})
}

// WithApp authenticates as a GitHub App installation: it signs a JWT with
// the App's PEM private key (PKCS#1 or PKCS#8 RSA) and exchanges it for an
// installation token, renewed before it expires. The default is no
// authentication.
func WithApp(appID, installationID int64, privateKeyPEM []byte) Option {
	return optionFunc(func(o *options) error {
		if appID <= 0 || installationID <= 0 {
			return errors.New("github: App and installation IDs must be positive")
		}
		key, err := parseRSAKey(privateKeyPEM)
		if err != nil {
			return err
		}
		o.app = &appAuth{appID: appID, installationID: installationID, key: key}
		return nil
	})
}

// WithHTTPClient sets the HTTP client; its transport is wrapped to retry
// reads. The default is a client with Go's default transport.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(o *options) error {
		if c == nil {
			return errors.New("github: nil HTTP client")
		}
		o.httpClient = c
		return nil
	})
}

// WithRetry sets how reads are retried on transient failures. The default
// is 4 attempts, waiting from 500ms doubling to at most 10s.
func WithRetry(attempts int, minWait, maxWait time.Duration) Option {
	return optionFunc(func(o *options) error {
		if attempts < 1 || minWait <= 0 || maxWait < minWait {
			return errors.New("github: retry needs attempts >= 1 and 0 < minWait <= maxWait")
		}
		o.retry = forgehttp.Policy{Attempts: attempts, MinWait: minWait, MaxWait: maxWait}
		return nil
	})
}

// WithLogger sets the logger: one Debug line per API call. The default is
// to discard logs.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return errors.New("github: nil logger")
		}
		o.logger = l
		return nil
	})
}

func parseRSAKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("github: App private key is not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("github: App private key does not parse")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("github: App private key is not RSA")
	}
	return rk, nil
}
