// Package forgeopt holds the options the pull-request forge clients
// (gitops/github and gitops/gitea) share: the credential a client sends,
// its HTTP client, logger, retry policy and limits, with one validation of
// each. Each forge keeps its public Option type and With functions, whose
// bodies call the setters here and wrap a refusal in the forge's own
// gitops.ErrInvalid error; a refusal here carries the reason only.
package forgeopt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
	"github.com/railyard-gitops/railyard/internal/retry"
)

// Options is the option state both forges share. The zero value is not
// ready: start from [New].
type Options struct {
	credOption  string // the credential option given, for refusing a second
	Token       string
	Credentials httpx.CredentialsFunc
	HTTPClient  *http.Client
	Logger      *slog.Logger
	Retry       retry.Policy
	MaxPages    int
	MaxResponse int64
}

// New returns the defaults: no credential, no HTTP client (the caller's
// transport decides), logs discarded, the retry policy of retries,
// minWait and maxWait, and the limits maxPages and maxResponse.
func New(retries int, minWait, maxWait time.Duration, maxPages int, maxResponse int64) Options {
	return Options{
		Logger:   slog.New(slog.DiscardHandler),
		Retry:    retry.Policy{Retries: retries, MinWait: minWait, MaxWait: maxWait},
		MaxPages: maxPages, MaxResponse: maxResponse,
	}
}

// SetCredential records that the credential option name is applied, and
// refuses it when another one (the same one included) was: which should
// win is the caller's decision, not an accident of order.
func (o *Options) SetCredential(name string) error {
	if o.credOption != "" {
		return fmt.Errorf("%s and %s both set credentials; give one", o.credOption, name)
	}
	o.credOption = name
	return nil
}

// SetBearerToken is WithBearerToken: a non-empty token, excluding the
// other credential options.
func (o *Options) SetBearerToken(token string) error {
	if token == "" {
		return errors.New("empty bearer token")
	}
	if err := o.SetCredential("WithBearerToken"); err != nil {
		return err
	}
	o.Token = token
	return nil
}

// Creds is the shape of a forge's Credentials type, which converts to
// httpx.Credentials.
type Creds interface {
	~struct{ Username, Password, Token string }
}

// SetCredentials is WithCredentials: a non-nil function of a forge's
// CredentialsFunc type, excluding the other credential options.
func SetCredentials[C Creds, F ~func(context.Context, string) (C, error)](o *Options, fn F) error {
	if fn == nil {
		return errors.New("nil credentials function")
	}
	if err := o.SetCredential("WithCredentials"); err != nil {
		return err
	}
	o.Credentials = func(ctx context.Context, host string) (httpx.Credentials, error) {
		c, err := fn(ctx, host)
		return httpx.Credentials(c), err
	}
	return nil
}

// SetHTTPClient is WithHTTPClient: a non-nil client.
func (o *Options) SetHTTPClient(c *http.Client) error {
	if c == nil {
		return errors.New("nil HTTP client")
	}
	o.HTTPClient = c
	return nil
}

// SetRetries is WithRetries: the rule of [retry.NewPolicy].
func (o *Options) SetRetries(n int, minWait, maxWait time.Duration) error {
	p, err := retry.NewPolicy(n, minWait, maxWait)
	if err != nil {
		return err
	}
	o.Retry = p
	return nil
}

// SetLogger is WithLogger: a non-nil logger.
func (o *Options) SetLogger(l *slog.Logger) error {
	if l == nil {
		return errors.New("nil logger")
	}
	o.Logger = l
	return nil
}

// SetMaxPages is WithMaxPages: a positive number of pages.
func (o *Options) SetMaxPages(n int) error {
	if n <= 0 {
		return fmt.Errorf("max pages %d", n)
	}
	o.MaxPages = n
	return nil
}

// SetMaxResponseSize is WithMaxResponseSize: a positive number of bytes.
func (o *Options) SetMaxResponseSize(bytes int64) error {
	if bytes <= 0 {
		return fmt.Errorf("max response size %d", bytes)
	}
	o.MaxResponse = bytes
	return nil
}

// Auth returns the credentials the bearer token or credentials function
// set, nil when neither was; a static token is added to secrets, for
// redaction.
func (o *Options) Auth(secrets *redact.Set) httpx.CredentialsFunc {
	switch {
	case o.Token != "":
		secrets.Add(o.Token)
		return httpx.Static(httpx.Credentials{Token: o.Token})
	case o.Credentials != nil:
		return o.Credentials
	}
	return nil
}
