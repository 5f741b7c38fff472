package sparse

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/pathcheck"
	"github.com/railyard-gitops/railyard/internal/retry"
)

// Default limits. They are deliberately small for a deploy package: raise
// them with the corresponding options when a cone is legitimately bigger.
// Together they keep a fetch whose answers total at most 1 MiB under
// 128 MiB of peak memory.
const (
	DefaultMaxBlobSize = 16 << 20 // 16 MiB per file of the cone
	DefaultMaxFiles    = 10_000
	// DefaultMaxTotalSize bounds the cone held in memory by a [Checkout]:
	// its files' content and their paths. It was 256 MiB; a few KiB of
	// compressed answer can inflate to that, which a process sharing its
	// memory with others cannot afford.
	DefaultMaxTotalSize = 64 << 20 // 64 MiB
	// DefaultMaxTransfer bounds the bytes received from the server over a
	// fetch; only the fallback strategies come near it.
	DefaultMaxTransfer = 1 << 30 // 1 GiB
	// DefaultMaxObjects bounds the objects one pack may declare.
	DefaultMaxObjects = 1_000_000
	// DefaultMaxObjectSize bounds any one object received (a delta's
	// result included); it is raised to the blob size limit when that is
	// larger. Memory while a pack is read grows with it.
	DefaultMaxObjectSize = 16 << 20 // 16 MiB
	// DefaultMaxInflated bounds the bytes inflated over a fetch: the CPU
	// and disk a server can make it spend.
	DefaultMaxInflated = 2 << 30 // 2 GiB
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

// Option configures [Fetch] and [Resolve]. Each option says which of them
// it affects; given to the other, it is refused with an error wrapping
// [ErrInvalidRequest], so that a limit meant for a fetch is never silently
// ignored. Options are applied in order; a later option of the same kind
// replaces an earlier one, except that credential options exclude each
// other (see [WithBasicAuth]). A nil Option is ignored. An Option is
// immutable and may be shared between goroutines.
type Option interface {
	apply(*options) error
}

// target is a set of calls an option affects.
type target uint8

const (
	forFetch target = 1 << iota
	forResolve
	forAll = forFetch | forResolve
)

func (t target) String() string {
	switch t {
	case forFetch:
		return "Fetch"
	case forResolve:
		return "Resolve"
	}
	return "this call"
}

// option is an Option that affects the calls in to.
type option struct {
	name string
	to   target
	fn   func(*options) error
}

func (opt option) apply(o *options) error {
	if opt.to&o.target == 0 {
		return fmt.Errorf("%w: %s does not apply to %s", ErrInvalidRequest, opt.name, o.target)
	}
	return opt.fn(o)
}

// Progress is a snapshot of a running fetch, passed to the callback set
// with [WithProgress].
type Progress struct {
	BytesReceived int64 // bytes received from the server so far
	Objects       int   // objects received so far
	RoundTrips    int   // requests sent so far
}

// Credentials are HTTP credentials for one host: Token, when set, is sent
// as a bearer token; otherwise Username and Password as basic auth.
type Credentials struct {
	Username, Password, Token string
}

// CredentialsFunc returns the credentials for host (host[:port] of the
// repository's origin). It is called for each HTTP request, so a rotating
// token (a GitHub App installation token, say) stays fresh; it must be
// safe for concurrent use.
type CredentialsFunc func(ctx context.Context, host string) (Credentials, error)

type options struct {
	target        target // the call being configured
	credOption    string // the credential option given, for refusing a second
	logger        *slog.Logger
	httpClient    *http.Client
	creds         httpx.CredentialsFunc
	secrets       []string // static credentials, for redaction
	sshUser       string
	sshKey        []byte
	sshPass       string
	knownHosts    []string
	cacheDir      string
	tempDir       string
	maxBlob       int64
	maxFiles      int
	maxTotal      int64
	maxTransfer   int64
	maxObjects    int64
	maxObjectSize int64
	objectSizeSet bool
	maxInflated   int64
	retry         retry.Policy
	progress      func(Progress)
}

// newOptions returns the options of Fetch.
func newOptions(opts []Option) (*options, error) { return newOptionsFor(forFetch, opts) }

// newOptionsFor applies opts for the call t over the defaults and
// cross-checks the result.
func newOptionsFor(t target, opts []Option) (*options, error) {
	o := &options{
		target:        t,
		logger:        slog.New(slog.DiscardHandler),
		tempDir:       os.TempDir(),
		maxBlob:       DefaultMaxBlobSize,
		maxFiles:      DefaultMaxFiles,
		maxTotal:      DefaultMaxTotalSize,
		maxTransfer:   DefaultMaxTransfer,
		maxObjects:    DefaultMaxObjects,
		maxObjectSize: DefaultMaxObjectSize,
		maxInflated:   DefaultMaxInflated,
		retry:         retry.Policy{Retries: DefaultRetries, MinWait: DefaultMinWait, MaxWait: DefaultMaxWait},
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(o); err != nil {
			return nil, err
		}
	}
	if o.maxBlob > o.maxObjectSize {
		if o.objectSizeSet {
			return nil, fmt.Errorf("%w: max blob size %d above max object size %d", ErrInvalidRequest, o.maxBlob, o.maxObjectSize)
		}
		o.maxObjectSize = o.maxBlob
	}
	return o, nil
}

// setCredential records that the credential option name is applied, and
// refuses it when another one was: which should win is the caller's
// decision, not an accident of order.
func (o *options) setCredential(name string) error {
	if o.credOption != "" {
		return fmt.Errorf("%w: %s and %s both set credentials; give one", ErrInvalidRequest, o.credOption, name)
	}
	o.credOption = name
	return nil
}

func positive(name string, n int64) error {
	if n <= 0 {
		return fmt.Errorf("%w: %s must be positive, got %d", ErrInvalidRequest, name, n)
	}
	return nil
}

// WithLogger sets the logger for debug lines about round trips, strategy
// choices and fallbacks, with URLs and credentials redacted. A nil logger
// is refused. Affects Fetch and Resolve. The default is a logger that
// discards everything.
func WithLogger(l *slog.Logger) Option {
	return option{"WithLogger", forAll, func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidRequest)
		}
		o.logger = l
		return nil
	}}
}

// WithHTTPClient sets the HTTP client whose Transport carries every request
// for http and https URLs, for example to trust a private CA or to go
// through a proxy. Its Timeout and Jar are kept; its redirect policy is
// replaced by railyard's (bounded, never from https to http), and
// credentials are added per request, only for the repository's origin.
// Affects Fetch and Resolve. The default is a client on
// [http.DefaultTransport].
func WithHTTPClient(c *http.Client) Option {
	return option{"WithHTTPClient", forAll, func(o *options) error {
		if c == nil {
			return fmt.Errorf("%w: nil HTTP client", ErrInvalidRequest)
		}
		o.httpClient = c
		return nil
	}}
}

// WithBasicAuth sends HTTP basic credentials, for example a user name and a
// personal access token, to the repository's origin only. Credentials never
// appear in errors or logs. It excludes the other credential options: two of
// [WithBasicAuth], [WithBearerToken], [WithCredentials] and [WithSSHKey],
// or one twice, fail with [ErrInvalidRequest] naming both.
// Affects Fetch and Resolve. The default is no
// credentials (or those in the URL).
func WithBasicAuth(user, password string) Option {
	return option{"WithBasicAuth", forAll, func(o *options) error {
		if user == "" && password == "" {
			return fmt.Errorf("%w: empty basic credentials", ErrInvalidRequest)
		}
		if err := o.setCredential("WithBasicAuth"); err != nil {
			return err
		}
		o.creds = httpx.Static(httpx.Credentials{Username: user, Password: password})
		o.secrets = append(o.secrets, password)
		return nil
	}}
}

// WithBearerToken sends an HTTP "Authorization: Bearer" token to the
// repository's origin only. The token never appears in errors or logs. It excludes the other credential options: two of
// [WithBasicAuth], [WithBearerToken], [WithCredentials] and [WithSSHKey],
// or one twice, fail with [ErrInvalidRequest] naming both.
// Affects Fetch and Resolve. The default is no credentials (or those in the
// URL).
func WithBearerToken(token string) Option {
	return option{"WithBearerToken", forAll, func(o *options) error {
		if token == "" {
			return fmt.Errorf("%w: empty token", ErrInvalidRequest)
		}
		if err := o.setCredential("WithBearerToken"); err != nil {
			return err
		}
		o.creds = httpx.Static(httpx.Credentials{Token: token})
		o.secrets = append(o.secrets, token)
		return nil
	}}
}

// WithCredentials asks fn for HTTP credentials before each request to the
// repository's origin, with the origin's host; other origins (a redirect
// elsewhere) never receive them. Every credential fn hands out is kept out
// of errors and logs. A failing fn fails the fetch with [ErrUnauthorized]. It excludes the other credential options: two of
// [WithBasicAuth], [WithBearerToken], [WithCredentials] and [WithSSHKey],
// or one twice, fail with [ErrInvalidRequest] naming both.
// Affects Fetch and Resolve. The default is no credentials (or those in the
// URL).
func WithCredentials(fn CredentialsFunc) Option {
	return option{"WithCredentials", forAll, func(o *options) error {
		if fn == nil {
			return fmt.Errorf("%w: nil credentials function", ErrInvalidRequest)
		}
		if err := o.setCredential("WithCredentials"); err != nil {
			return err
		}
		o.creds = func(ctx context.Context, host string) (httpx.Credentials, error) {
			c, err := fn(ctx, host)
			return httpx.Credentials(c), err
		}
		return nil
	}}
}

// WithSSHKey authenticates ssh:// and scp-like URLs with a PEM-encoded
// private key, optionally protected by passphrase. A key that does not
// parse is an [ErrInvalidRequest]. It excludes the other credential options: two of
// [WithBasicAuth], [WithBearerToken], [WithCredentials] and [WithSSHKey],
// or one twice, fail with [ErrInvalidRequest] naming both.
// Affects Fetch and Resolve. The default
// is no key: ssh URLs then authenticate through ssh-agent.
func WithSSHKey(user string, privateKeyPEM []byte, passphrase string) Option {
	return option{"WithSSHKey", forAll, func(o *options) error {
		if user == "" || len(privateKeyPEM) == 0 {
			return fmt.Errorf("%w: SSH key needs a user and a key", ErrInvalidRequest)
		}
		if _, err := gitssh.NewPublicKeys(user, privateKeyPEM, passphrase); err != nil {
			return fmt.Errorf("%w: SSH key does not parse", ErrInvalidRequest)
		}
		if err := o.setCredential("WithSSHKey"); err != nil {
			return err
		}
		o.sshUser, o.sshKey, o.sshPass = user, privateKeyPEM, passphrase
		return nil
	}}
}

// WithSSHKnownHosts sets the known_hosts files against which SSH host keys
// are checked (with a key or through ssh-agent). Affects Fetch and Resolve.
// The default is the files named by $SSH_KNOWN_HOSTS, else
// ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.
func WithSSHKnownHosts(files ...string) Option {
	return option{"WithSSHKnownHosts", forAll, func(o *options) error {
		if len(files) == 0 {
			return fmt.Errorf("%w: no known_hosts files", ErrInvalidRequest)
		}
		o.knownHosts = append([]string(nil), files...)
		return nil
	}}
}

// WithCache keeps fetched objects in dir so that a later [Fetch] of another
// commit downloads only the objects it lacks. Several processes may share
// dir: each fetch holds an exclusive file lock on it while it runs. Objects
// are kept apart per repository URL, so one repository's objects never
// answer for a commit another repository does not have. Every object read
// from the cache is verified against its id; a corrupt cache is emptied and
// the fetch redone from the network. The cache only grows (one pack per
// request); remove the directory to reclaim space. Affects Fetch. The
// default is no cache: a private temporary directory removed before Fetch
// returns.
func WithCache(dir string) Option {
	return option{"WithCache", forFetch, func(o *options) error {
		if dir == "" {
			return fmt.Errorf("%w: empty cache directory", ErrInvalidRequest)
		}
		o.cacheDir = dir
		return nil
	}}
}

// WithTempDir sets where the temporary object store of a fetch without
// [WithCache] lives. Affects Fetch. The default is [os.TempDir].
func WithTempDir(dir string) Option {
	return option{"WithTempDir", forFetch, func(o *options) error {
		if dir == "" {
			return fmt.Errorf("%w: empty temporary directory", ErrInvalidRequest)
		}
		o.tempDir = dir
		return nil
	}}
}

// WithMaxBlobSize limits the size of any one file of the cone, in bytes;
// blobs over it are not even downloaded where the server filters. It raises
// [WithMaxObjectSize]'s default when larger. Affects Fetch. The default is
// [DefaultMaxBlobSize] (16 MiB).
func WithMaxBlobSize(n int64) Option {
	return option{"WithMaxBlobSize", forFetch, func(o *options) error {
		o.maxBlob = n
		return positive("max blob size", n)
	}}
}

// WithMaxFiles limits the number of files (including symbolic links) in the
// cone; its directories and its submodules are each held to the same bound.
// Affects Fetch. The default is [DefaultMaxFiles] (10,000).
func WithMaxFiles(n int) Option {
	return option{"WithMaxFiles", forFetch, func(o *options) error {
		o.maxFiles = n
		return positive("max files", int64(n))
	}}
}

// WithMaxTotalSize limits what the [Checkout] holds in memory: the summed
// size of the cone's files and of their paths, in bytes. Paths are also
// held to 64 components and 4096 bytes each ([LimitError] "path depth",
// "path length"). Affects Fetch. The default is [DefaultMaxTotalSize] (64
// MiB).
func WithMaxTotalSize(n int64) Option {
	return option{"WithMaxTotalSize", forFetch, func(o *options) error {
		o.maxTotal = n
		return positive("max total size", n)
	}}
}

// WithMaxTransfer limits the bytes received from the server over the whole
// fetch, retries included. It bounds the fallback strategies, which may
// download a whole tree or history. Affects Fetch and Resolve. The default
// is [DefaultMaxTransfer] (1 GiB).
func WithMaxTransfer(n int64) Option {
	return option{"WithMaxTransfer", forAll, func(o *options) error {
		o.maxTransfer = n
		return positive("max transfer", n)
	}}
}

// WithMaxObjects limits the objects one pack from the server may declare
// (and so hold); a pack declaring more is refused before it is read.
// Affects Fetch. The default is [DefaultMaxObjects] (1,000,000).
func WithMaxObjects(n int) Option {
	return option{"WithMaxObjects", forFetch, func(o *options) error {
		o.maxObjects = int64(n)
		return positive("max objects", int64(n))
	}}
}

// WithMaxObjectSize limits the inflated size of any one object the server
// sends — a delta's result included — checked before it is inflated. Memory
// while a pack is read grows with it (about twice it). Affects Fetch. The
// default is [DefaultMaxObjectSize] (16 MiB), or the blob size limit when
// larger.
func WithMaxObjectSize(n int64) Option {
	return option{"WithMaxObjectSize", forFetch, func(o *options) error {
		o.maxObjectSize, o.objectSizeSet = n, true
		return positive("max object size", n)
	}}
}

// WithMaxInflated limits the bytes inflated from the server's packs over
// the whole fetch (every object, delta results included): it bounds the CPU
// and disk a server can make a fetch spend, as a few KiB of compressed data
// may inflate to gigabytes. Affects Fetch. The default is
// [DefaultMaxInflated] (2 GiB).
func WithMaxInflated(n int64) Option {
	return option{"WithMaxInflated", forFetch, func(o *options) error {
		o.maxInflated = n
		return positive("max inflated", n)
	}}
}

// WithRetries sets how many times a request that failed transiently (cut
// connection, HTTP 408, 429, 5xx) is retried after the first try: n times,
// waiting a random duration up to minWait, doubling up to maxWait (full
// jitter), or the server's Retry-After when longer (up to maxWait; a longer
// one ends the retries), bounded by the context. n must be in 0..999 (0
// disables retries) and 0 < minWait <= maxWait; otherwise the call fails
// with [ErrInvalidRequest]. Affects Fetch and Resolve. The default is
// [DefaultRetries] (3), [DefaultMinWait] (200ms) and [DefaultMaxWait] (5s).
func WithRetries(n int, minWait, maxWait time.Duration) Option {
	return option{"WithRetries", forAll, func(o *options) error {
		p, err := retry.NewPolicy(n, minWait, maxWait)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidRequest, err)
		}
		o.retry = p
		return nil
	}}
}

// WithProgress calls fn after each response from the server and about every
// MiB while one is received. fn runs on the fetching goroutine and must not
// block. Affects Fetch. The default is no callback.
func WithProgress(fn func(Progress)) Option {
	return option{"WithProgress", forFetch, func(o *options) error {
		if fn == nil {
			return fmt.Errorf("%w: nil progress callback", ErrInvalidRequest)
		}
		o.progress = fn
		return nil
	}}
}

// maxPathDepth and maxPathLen bound the paths of a cone, as git's own
// checks do on most systems.
const (
	maxPathDepth = pathcheck.MaxDepth
	maxPathLen   = pathcheck.MaxPathLen
)
