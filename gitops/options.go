package gitops

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"text/template"
	"time"
)

// Option configures a [Repo]. Options are applied in order by [NewRepo];
// an option that fails makes NewRepo fail.
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
	maxAttempts    int
	backoffMin     time.Duration
	backoffMax     time.Duration
	signer         Signer
	message        *template.Template
	provenanceFile string
	createTarget   bool
	now            func() time.Time
}

type authConfig struct {
	kind       string // "basic" or "ssh"
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
		maxAttempts:    8,
		backoffMin:     200 * time.Millisecond,
		backoffMax:     5 * time.Second,
		message:        template.Must(template.New("message").Parse(defaultMessageTemplate)),
		provenanceFile: DefaultProvenanceFile,
		now:            time.Now,
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
	if o.backoffMin > o.backoffMax {
		return nil, fmt.Errorf("gitops: %w: backoff minimum %v above maximum %v", ErrInvalid, o.backoffMin, o.backoffMax)
	}
	return o, nil
}

// WithLogger sets the logger. Round trips are logged at Debug with redacted
// URLs; each pushed commit is one Info line. The default is to discard logs.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return fmt.Errorf("gitops: %w: nil logger", ErrInvalid)
		}
		o.logger = l
		return nil
	})
}

// WithAuthor sets the author of new commits; it is also the committer unless
// [WithCommitter] is given. The default is "railyard <railyard@localhost>".
func WithAuthor(name, email string) Option {
	return optionFunc(func(o *options) error {
		s, err := newIdentity(name, email)
		o.author = s
		return err
	})
}

// WithCommitter sets the committer of new commits. The default is the author.
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
// same way when no auth option is given. The default is no authentication.
func WithBasicAuth(user, password string) Option {
	return setAuth(&authConfig{kind: "basic", user: user, secret: password})
}

// WithToken authenticates HTTP(S) git requests with an access token sent as
// the basic-auth password, as GitHub, GitLab and Gitea accept it. The
// default is no authentication.
func WithToken(token string) Option {
	return setAuth(&authConfig{kind: "basic", user: "x-access-token", secret: token})
}

// WithSSHKey authenticates ssh:// and scp-like URLs with a PEM private key
// (and its passphrase, or ""); host keys are checked against the user's
// known_hosts files. The default is no authentication.
func WithSSHKey(user string, privateKeyPEM []byte, passphrase string) Option {
	return setAuth(&authConfig{kind: "ssh", user: user, secret: passphrase, privateKey: privateKeyPEM})
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

func setAuth(a *authConfig) Option {
	return optionFunc(func(o *options) error {
		if o.auth != nil {
			return fmt.Errorf("gitops: %w: more than one auth option", ErrInvalid)
		}
		if a.kind == "basic" && a.secret == "" {
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

// WithMaxAttempts bounds how many times [Repo.Commit] reads the tip, applies
// the change and pushes, when pushes lose races against other writers or
// fail transiently. The default is 8.
func WithMaxAttempts(n int) Option {
	return optionFunc(func(o *options) error {
		if n < 1 || n > 1000 {
			return fmt.Errorf("gitops: %w: max attempts %d outside 1..1000", ErrInvalid, n)
		}
		o.maxAttempts = n
		return nil
	})
}

// WithBackoff sets the delay between attempts: it doubles from min up to
// max, and each wait is drawn at random from its upper half (jitter). The
// default is 200ms to 5s.
func WithBackoff(min, max time.Duration) Option {
	return optionFunc(func(o *options) error {
		if min <= 0 || max <= 0 {
			return fmt.Errorf("gitops: %w: backoff must be positive", ErrInvalid)
		}
		o.backoffMin, o.backoffMax = min, max
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

// WithMessageTemplate sets the text/template that renders the commit message
// from a [MessageData]; the provenance trailers are appended after it. The
// default renders Change.Message, or "Render <Dir> to <Branch>" when it is
// empty.
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

// WithProvenanceFile sets the name, relative to Change.Dir, of the file that
// records a Change's provenance; "" writes no file. A name ending in .yaml,
// .yml, .json or .jsonnet is refused: Argo CD would try to apply it. The
// default is [DefaultProvenanceFile].
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
