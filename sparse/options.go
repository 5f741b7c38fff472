package sparse

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// Default limits. They are deliberately small for a deploy package: raise
// them with the corresponding options when a cone is legitimately bigger.
const (
	DefaultMaxBlobSize  = 16 << 20 // 16 MiB per file
	DefaultMaxFiles     = 10_000
	DefaultMaxTotalSize = 256 << 20 // 256 MiB for all files of the cone
	DefaultMaxTransfer  = 4 << 30   // 4 GiB received from the server
	DefaultRetries      = 3
)

// Option configures [Fetch] and [Resolve]. Options are applied in order; a
// later option of the same kind replaces an earlier one.
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

// Progress is a snapshot of a running fetch, passed to the callback set
// with [WithProgress].
type Progress struct {
	BytesReceived int64 // bytes received from the server so far
	Objects       int   // objects received so far
	RoundTrips    int   // requests sent so far
}

type options struct {
	logger      *slog.Logger
	httpClient  *http.Client
	httpAuth    transport.AuthMethod
	sshUser     string
	sshKey      []byte
	sshPass     string
	knownHosts  []string
	cacheDir    string
	tempDir     string
	maxBlob     int64
	maxFiles    int
	maxTotal    int64
	maxTransfer int64
	retries     int
	progress    func(Progress)
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		tempDir:     os.TempDir(),
		maxBlob:     DefaultMaxBlobSize,
		maxFiles:    DefaultMaxFiles,
		maxTotal:    DefaultMaxTotalSize,
		maxTransfer: DefaultMaxTransfer,
		retries:     DefaultRetries,
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidRequest)
		}
		if err := opt.apply(o); err != nil {
			return nil, err
		}
	}
	if o.httpAuth != nil && o.sshKey != nil {
		return nil, fmt.Errorf("%w: both HTTP and SSH credentials given", ErrInvalidRequest)
	}
	return o, nil
}

func positive(name string, n int64) error {
	if n <= 0 {
		return fmt.Errorf("%w: %s must be positive, got %d", ErrInvalidRequest, name, n)
	}
	return nil
}

// WithLogger sets the logger for debug lines about round trips, strategy
// choices and fallbacks, with URLs redacted. A nil logger is refused. The
// default is a logger that discards everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidRequest)
		}
		o.logger = l
		return nil
	})
}

// WithHTTPClient sets the HTTP client used for http and https URLs, for
// example to trust a private CA or to go through a proxy. The client's
// Transport is wrapped to count bytes; its redirect policy is kept. The
// default is a client using [http.DefaultTransport].
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(o *options) error {
		if c == nil {
			return fmt.Errorf("%w: nil HTTP client", ErrInvalidRequest)
		}
		o.httpClient = c
		return nil
	})
}

// WithBasicAuth sends HTTP basic credentials, for example a user name and a
// personal access token. Credentials never appear in errors or logs. The
// default is no credentials.
func WithBasicAuth(user, password string) Option {
	return optionFunc(func(o *options) error {
		if user == "" && password == "" {
			return fmt.Errorf("%w: empty basic credentials", ErrInvalidRequest)
		}
		o.httpAuth = &githttp.BasicAuth{Username: user, Password: password}
		return nil
	})
}

// WithBearerToken sends an HTTP "Authorization: Bearer" token. The token
// never appears in errors or logs. The default is no credentials.
func WithBearerToken(token string) Option {
	return optionFunc(func(o *options) error {
		if token == "" {
			return fmt.Errorf("%w: empty token", ErrInvalidRequest)
		}
		o.httpAuth = &githttp.TokenAuth{Token: token}
		return nil
	})
}

// WithSSHKey authenticates ssh:// and scp-like URLs with a PEM-encoded
// private key, optionally protected by passphrase. The key is parsed when
// [Fetch] starts; a key that does not parse is an [ErrInvalidRequest]. The
// default is no key (ssh URLs then fail with [ErrTransfer]).
func WithSSHKey(user string, privateKeyPEM []byte, passphrase string) Option {
	return optionFunc(func(o *options) error {
		if user == "" || len(privateKeyPEM) == 0 {
			return fmt.Errorf("%w: SSH key needs a user and a key", ErrInvalidRequest)
		}
		if _, err := gitssh.NewPublicKeys(user, privateKeyPEM, passphrase); err != nil {
			return fmt.Errorf("%w: SSH key does not parse", ErrInvalidRequest)
		}
		o.sshUser, o.sshKey, o.sshPass = user, privateKeyPEM, passphrase
		return nil
	})
}

// WithSSHKnownHosts sets the known_hosts files against which SSH host keys
// are checked. The default is the files named by $SSH_KNOWN_HOSTS, else
// ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.
func WithSSHKnownHosts(files ...string) Option {
	return optionFunc(func(o *options) error {
		if len(files) == 0 {
			return fmt.Errorf("%w: no known_hosts files", ErrInvalidRequest)
		}
		o.knownHosts = append([]string(nil), files...)
		return nil
	})
}

// WithCache keeps fetched objects in dir so that a later [Fetch] of another
// commit downloads only the objects it lacks. Several processes may share
// dir: each fetch holds an exclusive file lock on it while it runs. Objects
// are kept apart per repository URL, so one repository's objects never
// answer for a commit another repository does not have. Every
// object read from the cache is verified against its id; a corrupt cache is
// emptied and the fetch redone from the network. The cache only grows
// (one pack per request); remove the directory to reclaim space. The
// default is no cache: a
// private temporary directory removed before Fetch returns.
func WithCache(dir string) Option {
	return optionFunc(func(o *options) error {
		if dir == "" {
			return fmt.Errorf("%w: empty cache directory", ErrInvalidRequest)
		}
		o.cacheDir = dir
		return nil
	})
}

// WithTempDir sets where the temporary object store of a fetch without
// [WithCache] lives. The default is [os.TempDir].
func WithTempDir(dir string) Option {
	return optionFunc(func(o *options) error {
		if dir == "" {
			return fmt.Errorf("%w: empty temporary directory", ErrInvalidRequest)
		}
		o.tempDir = dir
		return nil
	})
}

// WithMaxBlobSize limits the size of any one file of the cone, in bytes.
// The default is [DefaultMaxBlobSize] (16 MiB).
func WithMaxBlobSize(n int64) Option {
	return optionFunc(func(o *options) error {
		o.maxBlob = n
		return positive("max blob size", n)
	})
}

// WithMaxFiles limits the number of files (including symbolic links) in
// the cone; its directories and its submodules are each held to the same
// bound. The default is [DefaultMaxFiles] (10,000).
func WithMaxFiles(n int) Option {
	return optionFunc(func(o *options) error {
		o.maxFiles = n
		return positive("max files", int64(n))
	})
}

// WithMaxTotalSize limits the summed size of all files of the cone, in
// bytes; the [Checkout] holds them in memory. The default is
// [DefaultMaxTotalSize] (256 MiB).
func WithMaxTotalSize(n int64) Option {
	return optionFunc(func(o *options) error {
		o.maxTotal = n
		return positive("max total size", n)
	})
}

// WithMaxTransfer limits the bytes received from the server over the whole
// fetch, retries included. It bounds the fallback strategies, which may
// download a whole tree or history. The default is [DefaultMaxTransfer]
// (4 GiB).
func WithMaxTransfer(n int64) Option {
	return optionFunc(func(o *options) error {
		o.maxTransfer = n
		return positive("max transfer", n)
	})
}

// WithRetries sets how many times a request that failed transiently (cut
// connection, HTTP 429, 502, 503 or 504) is retried, with exponential
// backoff and jitter, honouring Retry-After, bounded by the context. Zero
// disables retries. The default is [DefaultRetries] (3).
func WithRetries(n int) Option {
	return optionFunc(func(o *options) error {
		if n < 0 {
			return fmt.Errorf("%w: negative retries", ErrInvalidRequest)
		}
		o.retries = n
		return nil
	})
}

// WithProgress calls fn after each response from the server and about
// every MiB while one is received. fn runs on the fetching goroutine and
// must not block. The default is no callback.
func WithProgress(fn func(Progress)) Option {
	return optionFunc(func(o *options) error {
		if fn == nil {
			return fmt.Errorf("%w: nil progress callback", ErrInvalidRequest)
		}
		o.progress = fn
		return nil
	})
}
