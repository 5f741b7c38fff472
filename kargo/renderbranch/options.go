package renderbranch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/mail"
	"sync"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/kargo/internal/railyardapi"
)

// Credentials are the basic credentials for one repository: a user name
// and a password or access token. The zero value is "none". For a review
// deployment, the GitOps repository's Password is also the forge's token,
// as Kargo's git-open-pr uses it.
type Credentials struct {
	Username string
	Password string
}

// CredentialsFunc returns the credentials for a repository URL, or zero
// Credentials and a nil error when there are none. It is called once per
// repository per run and may be called concurrently. An error fails the
// run; it is retryable unless it says otherwise (has a Retryable method).
type CredentialsFunc func(ctx context.Context, repoURL string) (Credentials, error)

// PullRequestsFunc returns the forge holding the pull requests of cfg's
// GitOps repository; creds are that repository's credentials. It is called
// once per run of a review deployment and may be called concurrently.
type PullRequestsFunc func(ctx context.Context, cfg Config, creds Credentials) (gitops.PullRequests, error)

// Option configures a Runner. Options are sealed; a nil Option is ignored.
type Option interface{ apply(*options) error }

type options struct {
	client       *http.Client
	creds        CredentialsFunc
	pullRequests PullRequestsFunc
	locker       sync.Locker
	logger       *slog.Logger
	authorName   string
	authorEmail  string
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

// WithHTTPClient sets the client whose Transport carries every git and
// forge request (proxies, custom CAs, test routing). The default is a
// client on http.DefaultTransport.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(o *options) error {
		if c == nil {
			return fmt.Errorf("%w: WithHTTPClient(nil)", ErrInvalidConfig)
		}
		o.client = c
		return nil
	})
}

// WithCredentials sets where credentials come from, asked per repository
// URL (Kargo: its credentials database). The default is no credentials.
func WithCredentials(fn CredentialsFunc) Option {
	return optionFunc(func(o *options) error {
		if fn == nil {
			return fmt.Errorf("%w: WithCredentials(nil)", ErrInvalidConfig)
		}
		o.creds = fn
		return nil
	})
}

// WithPullRequests sets the forge for review deployments. The default
// builds one from Config.Provider and Config.ProviderURL: gitops/github or
// gitops/gitea for the GitOps repository's owner and name, authenticated
// with its credentials' Password as a token.
func WithPullRequests(fn PullRequestsFunc) Option {
	return optionFunc(func(o *options) error {
		if fn == nil {
			return fmt.Errorf("%w: WithPullRequests(nil)", ErrInvalidConfig)
		}
		o.pullRequests = fn
		return nil
	})
}

// WithLocker sets a lock held while kustomize runs, shared with the other
// kustomize users of the process (kustomize's global state is not safe for
// concurrent builds; Kargo's kustomize-build holds its own lock). The
// default is none beyond render's own serialization of its builds.
func WithLocker(l sync.Locker) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: WithLocker(nil)", ErrInvalidConfig)
		}
		o.locker = l
		return nil
	})
}

// WithLogger sets the logger: one Info line per effect (a commit pushed, a
// pull request opened, reused or merged), Debug for the steps of a run.
// Credentials never appear in it. The default discards logs.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: WithLogger(nil)", ErrInvalidConfig)
		}
		o.logger = l
		return nil
	})
}

// WithAuthor sets the author (and committer) of rendered commits. The
// default is "Kargo <no-reply@kargo.io>", Kargo's default git user.
func WithAuthor(name, email string) Option {
	return optionFunc(func(o *options) error {
		if name == "" {
			return fmt.Errorf("%w: WithAuthor needs a name", ErrInvalidConfig)
		}
		if _, err := mail.ParseAddress(email); err != nil {
			return fmt.Errorf("%w: WithAuthor needs an e-mail address", ErrInvalidConfig)
		}
		o.authorName, o.authorEmail = name, email
		return nil
	})
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		client:      &http.Client{Transport: http.DefaultTransport},
		logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		authorName:  "Kargo",
		authorEmail: "no-reply@kargo.io",
	}
	var errs []error
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(o); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.pullRequests == nil {
		o.pullRequests = o.defaultPullRequests
	}
	return o, nil
}

// env is what every railyard call of a run shares.
func (o *options) env() railyardapi.Env {
	return railyardapi.Env{Client: o.client, Logger: o.logger}
}
