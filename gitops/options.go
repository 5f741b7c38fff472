package gitops

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"text/template"
	"time"

	"github.com/railyard-gitops/railyard/internal/retry"
)

// Option configures a [Repo]. Options are applied in order by [NewRepo];
// an option that fails makes NewRepo fail, and a nil Option is ignored.
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

// identity names the author or committer of the commits a Repo writes.
type identity struct {
	Name  string
	Email string
}

type options struct {
	logger         *slog.Logger
	author         identity
	committer      *identity
	auth           *authConfig
	httpClient     *http.Client
	knownHosts     []string
	retry          retry.Policy
	signer         Signer
	message        *template.Template
	provenanceFile string
	createTarget   bool
	tempDir        string // parent of temporary object stores; "" for os.TempDir
	now            func() time.Time

	// The git side: rotating credentials and the limits on what a server
	// may send in one call.
	creds         CredentialsFunc
	maxTransfer   int64
	maxObjects    int64
	maxObjectSize int64
	maxInflated   int64
}

// Limits on what a git server may send in one [Repo.Commit] or
// [Repo.Propose] (all its attempts). Under them, a call whose answers
// total at most 1 MiB runs in under 128 MiB of memory, whatever they hold.
const (
	// DefaultMaxTransfer bounds the bytes received from the server.
	DefaultMaxTransfer = 1 << 30 // 1 GiB
	// DefaultMaxObjects bounds the objects one pack may declare.
	DefaultMaxObjects = 1_000_000
	// DefaultMaxObjectSize bounds any one object received, a delta's
	// result included; memory while a pack is read grows with it.
	DefaultMaxObjectSize = 16 << 20 // 16 MiB
	// DefaultMaxInflated bounds the bytes inflated from the server's
	// packs: the CPU and disk a server can make a call spend.
	DefaultMaxInflated = 2 << 30 // 2 GiB
)

// Credentials are HTTP credentials for one host: Token, when set, is sent
// as a bearer token; otherwise Username and Password as basic auth.
type Credentials struct {
	Username, Password, Token string
}

// CredentialsFunc returns the credentials for host (host[:port] of the
// repository's origin). It is called for each HTTP request, so a rotating
// token (a GitHub App installation token, say) keeps working in a
// long-lived Repo; it must be safe for concurrent use.
type CredentialsFunc func(ctx context.Context, host string) (Credentials, error)

type authConfig struct {
	option     string // the option that set it, e.g. "WithBasicAuth"
	kind       string // "basic", "bearer", "func" or "ssh"
	user       string
	secret     string
	privateKey []byte
}

const defaultMessageTemplate = `{{if .Message}}{{.Message}}{{else}}Render {{if .Dir}}{{.Dir}}{{else}}the tree{{end}} to {{.Branch}}{{end}}`

// DefaultProvenanceFile is the name, relative to Change.Dir, of the file that
// records a Change's provenance. It has no extension, so Argo CD's directory
// source, which applies every .yaml, .yml and .json file, leaves it alone.
const DefaultProvenanceFile = "PROVENANCE"

func newOptions(opts []Option) (*options, error) {
	o := &options{
		logger:         slog.New(slog.DiscardHandler),
		author:         identity{Name: "railyard", Email: "railyard@localhost"},
		retry:          retry.Policy{Retries: DefaultRetries, MinWait: DefaultMinWait, MaxWait: DefaultMaxWait},
		message:        template.Must(template.New("message").Parse(defaultMessageTemplate)),
		provenanceFile: DefaultProvenanceFile,
		now:            time.Now,
		maxTransfer:    DefaultMaxTransfer,
		maxObjects:     DefaultMaxObjects,
		maxObjectSize:  DefaultMaxObjectSize,
		maxInflated:    DefaultMaxInflated,
	}
	for _, opt := range opts {
		if opt == nil {
			continue // a nil Option is ignored, as in every railyard package
		}
		if err := opt.apply(o); err != nil {
			return nil, err
		}
	}
	if o.committer == nil {
		o.committer = &o.author
	}
	return o, nil
}

// WithLogger sets the logger. Round trips are logged at Debug with redacted
// URLs; each pushed commit is one Info line. The default is to discard
// logs.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return fmt.Errorf("gitops: %w: nil logger", ErrInvalid)
		}
		o.logger = l
		return nil
	})
}

// WithAuthor sets the author of new commits; it is also the committer
// unless [WithCommitter] is given. The default is "railyard
// <railyard@localhost>".
func WithAuthor(name, email string) Option {
	return optionFunc(func(o *options) error {
		s, err := newIdentity(name, email)
		o.author = s
		return err
	})
}

// WithCommitter sets the committer of new commits. The default is the
// author.
func WithCommitter(name, email string) Option {
	return optionFunc(func(o *options) error {
		s, err := newIdentity(name, email)
		o.committer = &s
		return err
	})
}

func newIdentity(name, email string) (identity, error) {
	if name == "" || email == "" || strings.ContainsAny(name+email, "<>\n\x00") {
		return identity{}, fmt.Errorf("gitops: %w: signature needs a name and an email without '<', '>' or line breaks", ErrInvalidChange)
	}
	return identity{Name: name, Email: email}, nil
}

// WithBasicAuth authenticates HTTP(S) git requests with a user name and a
// password or token. Credentials in the URL given to [NewRepo] are used the
// same way when no auth option is given. It excludes the other credential
// options: two of [WithBasicAuth], [WithBearerToken], [WithCredentials] and
// [WithSSHKey], or one twice, fail with [ErrInvalid] naming both. The
// default is no authentication.
func WithBasicAuth(user, password string) Option {
	return setAuth("WithBasicAuth", &authConfig{kind: "basic", user: user, secret: password})
}

// WithBearerToken authenticates HTTP(S) git requests with an
// "Authorization: Bearer" token, sent only to the repository's origin. It
// excludes the other credential options: two of [WithBasicAuth],
// [WithBearerToken], [WithCredentials] and [WithSSHKey], or one twice, fail
// with [ErrInvalid] naming both. The default is no authentication.
func WithBearerToken(token string) Option {
	return setAuth("WithBearerToken", &authConfig{kind: "bearer", secret: token})
}

// WithCredentials asks fn for HTTP(S) credentials before each request to
// the repository's origin, with its host; a redirect to another origin
// never receives them. Every credential fn hands out is kept out of errors
// and logs; a failing fn fails the call with [ErrUnauthorized]. It excludes
// the other credential options: two of [WithBasicAuth], [WithBearerToken],
// [WithCredentials] and [WithSSHKey], or one twice, fail with [ErrInvalid]
// naming both. The default is no authentication.
func WithCredentials(fn CredentialsFunc) Option {
	return optionFunc(func(o *options) error {
		if fn == nil {
			return fmt.Errorf("gitops: %w: nil credentials function", ErrInvalid)
		}
		if err := setAuth("WithCredentials", &authConfig{kind: "func", secret: "-"}).apply(o); err != nil {
			return err
		}
		o.creds = fn
		return nil
	})
}

// WithMaxTransfer limits the bytes a git server may send in one call, every
// attempt included. The default is [DefaultMaxTransfer] (1 GiB).
func WithMaxTransfer(n int64) Option {
	return limit("max transfer", n, func(o *options) { o.maxTransfer = n })
}

// WithMaxObjects limits the objects one pack from the server may declare
// (and so hold); a pack declaring more is refused before it is read. The
// default is [DefaultMaxObjects] (1,000,000).
func WithMaxObjects(n int) Option {
	return limit("max objects", int64(n), func(o *options) { o.maxObjects = int64(n) })
}

// WithMaxObjectSize limits the inflated size of any one object the server
// sends, a delta's result included, checked before it is inflated; memory
// while a pack is read grows with it. The default is [DefaultMaxObjectSize]
// (16 MiB).
func WithMaxObjectSize(n int64) Option {
	return limit("max object size", n, func(o *options) { o.maxObjectSize = n })
}

// WithMaxInflated limits the bytes inflated from the server's packs in one
// call: a few KiB of compressed data may inflate to gigabytes. The default
// is [DefaultMaxInflated] (2 GiB).
func WithMaxInflated(n int64) Option {
	return limit("max inflated", n, func(o *options) { o.maxInflated = n })
}

func limit(name string, n int64, set func(*options)) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("gitops: %w: %s must be positive, got %d", ErrInvalid, name, n)
		}
		set(o)
		return nil
	})
}

// WithSSHKey authenticates ssh:// and scp-like URLs with a PEM private key
// (and its passphrase, or ""); host keys are checked against the user's
// known_hosts files. It excludes the other credential options: two of
// [WithBasicAuth], [WithBearerToken], [WithCredentials] and [WithSSHKey],
// or one twice, fail with [ErrInvalid] naming both. The default is no key:
// ssh URLs then authenticate through ssh-agent.
func WithSSHKey(user string, privateKeyPEM []byte, passphrase string) Option {
	return setAuth("WithSSHKey", &authConfig{kind: "ssh", user: user, secret: passphrase, privateKey: privateKeyPEM})
}

// WithSSHKnownHosts checks SSH host keys against these known_hosts files
// only. The default is the user's files: $SSH_KNOWN_HOSTS, else
// ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.
func WithSSHKnownHosts(files ...string) Option {
	return optionFunc(func(o *options) error {
		if len(files) == 0 {
			return fmt.Errorf("gitops: %w: no known_hosts file", ErrInvalid)
		}
		o.knownHosts = files
		return nil
	})
}

// setAuth returns the credential option name, which sets a. It refuses
// to follow another credential option (the same one included), naming
// both: which should win is the caller's decision, not an accident of
// order.
func setAuth(name string, a *authConfig) Option {
	a.option = name
	return optionFunc(func(o *options) error {
		if o.auth != nil {
			return fmt.Errorf("gitops: %w: %s and %s both set credentials; give one", ErrInvalid, o.auth.option, name)
		}
		if (a.kind == "basic" || a.kind == "bearer") && a.secret == "" {
			return fmt.Errorf("gitops: %w: empty password or token", ErrInvalid)
		}
		o.auth = a
		return nil
	})
}

// WithHTTPClient sets the HTTP client for git over HTTP(S); use it for
// proxies, custom CAs and timeouts. The default is a client with Go's
// default transport and no timeout (bound calls with their ctx).
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(o *options) error {
		if c == nil {
			return fmt.Errorf("gitops: %w: nil HTTP client", ErrInvalid)
		}
		o.httpClient = c
		return nil
	})
}

// Defaults of [WithRetries]. The waits are those of every railyard
// package; the retries are more than the others' 3 because here a retry
// also starts over after a push lost a race against another writer, which
// under a few concurrent writers to one stage branch happens more than
// three times in a row (a transient network failure alone would need no
// more than 3).
const (
	// DefaultRetries is how many times a call starts over after the
	// first attempt.
	DefaultRetries = 7
	// DefaultMinWait is the first backoff cap; it doubles per retry.
	DefaultMinWait = 200 * time.Millisecond
	// DefaultMaxWait caps every wait, a server's Retry-After included.
	DefaultMaxWait = 5 * time.Second
)

// WithRetries sets how many times [Repo.Commit] and [Repo.Propose] start
// over after the first attempt (read the tip, apply the change, push) when
// a push loses a race against another writer or a request fails transiently
// (cut connection, HTTP 408, 429, 5xx): n times, waiting a random duration
// up to minWait, doubling up to maxWait (full jitter), or the server's
// Retry-After when longer (up to maxWait), bounded by the context. n must
// be in 0..999 (0 disables retries) and 0 < minWait <= maxWait; otherwise
// NewRepo fails with [ErrInvalid]. The default is [DefaultRetries] (7, more
// than other packages' 3 to absorb lost push races), [DefaultMinWait]
// (200ms) and [DefaultMaxWait] (5s).
func WithRetries(n int, minWait, maxWait time.Duration) Option {
	return optionFunc(func(o *options) error {
		p, err := retry.NewPolicy(n, minWait, maxWait)
		if err != nil {
			return fmt.Errorf("gitops: %w: %v", ErrInvalid, err)
		}
		o.retry = p
		return nil
	})
}

// WithTempDir sets the directory under which [Repo.Commit] and
// [Repo.Propose] create the temporary object store of each tip they fetch
// (commits and trees, without blobs where the server filters them). A store
// is removed when the Repo no longer needs it: after the call, or, for the
// few recent tips a Repo keeps for reuse, when it evicts them. The default
// is [os.TempDir].
func WithTempDir(dir string) Option {
	return optionFunc(func(o *options) error {
		if dir == "" {
			return fmt.Errorf("gitops: %w: empty temporary directory", ErrInvalid)
		}
		o.tempDir = dir
		return nil
	})
}

// WithSigner signs every new commit, e.g. with [NewPGPSigner] or
// [NewSSHSigner]. The default is unsigned commits.
func WithSigner(s Signer) Option {
	return optionFunc(func(o *options) error {
		if s == nil {
			return fmt.Errorf("gitops: %w: nil signer", ErrInvalid)
		}
		o.signer = s
		return nil
	})
}

// WithMessageTemplate sets the text/template that renders the commit
// message from a [MessageData]; the provenance trailers are appended after
// it. The default renders Change.Message, or "Render <Dir> to <Branch>"
// when it is empty.
func WithMessageTemplate(text string) Option {
	return optionFunc(func(o *options) error {
		t, err := template.New("message").Option("missingkey=error").Parse(text)
		if err != nil {
			return fmt.Errorf("gitops: %w: message template: %v", ErrInvalid, err)
		}
		o.message = t
		return nil
	})
}

// WithProvenanceFile sets the name, relative to Change.Dir, of the file
// that records a Change's provenance; "" writes no file. A name ending in
// .yaml, .yml, .json or .jsonnet is refused: Argo CD would try to apply it.
// The default is [DefaultProvenanceFile].
func WithProvenanceFile(name string) Option {
	return optionFunc(func(o *options) error {
		if name != "" {
			if err := validatePath(name); err != nil {
				return err
			}
			if manifestLike(name) {
				return &PathError{Path: name, Reason: "Argo CD would apply a provenance file with this extension"}
			}
		}
		o.provenanceFile = name
		return nil
	})
}

// WithClock sets the clock for author and committer times. The default is
// [time.Now].
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) error {
		if now == nil {
			return fmt.Errorf("gitops: %w: nil clock", ErrInvalid)
		}
		o.now = now
		return nil
	})
}

func manifestLike(name string) bool {
	lower := strings.ToLower(name)
	for _, ext := range []string{".yaml", ".yml", ".json", ".jsonnet"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// WithCreateTarget makes [Repo.Propose] create a missing review target
// branch (as an orphan commit of the empty tree) instead of failing with
// [ErrBaseNotFound], so the first promotion to a reviewed stage needs no
// branch made by hand. The default is false: a missing target is an error,
// so that a misspelt target is not created.
func WithCreateTarget(create bool) Option {
	return optionFunc(func(o *options) error {
		o.createTarget = create
		return nil
	})
}
