package gitea

import (
	"errors"
	"log/slog"
	"net/http"
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
	token      string
	httpClient *http.Client
	logger     *slog.Logger
	retry      forgehttp.Policy
}

func newOptions(opts []Option) (*options, error) {
	o := &options{logger: slog.New(slog.DiscardHandler), retry: forgehttp.DefaultPolicy}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("gitea: nil option")
		}
		if err := opt.apply(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithToken authenticates with a Gitea access token (scope
// write:repository). The default is no authentication, which only reads
// public repositories.
func WithToken(token string) Option {
	return optionFunc(func(o *options) error {
		if token == "" {
			return errors.New("gitea: empty token")
		}
		o.token = token
		return nil
	})
}

// WithHTTPClient sets the HTTP client; its transport is wrapped to retry
// reads. The default is a client with Go's default transport.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(o *options) error {
		if c == nil {
			return errors.New("gitea: nil HTTP client")
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
			return errors.New("gitea: retry needs attempts >= 1 and 0 < minWait <= maxWait")
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
			return errors.New("gitea: nil logger")
		}
		o.logger = l
		return nil
	})
}
