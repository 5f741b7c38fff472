package freight

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/railyard-gitops/railyard/internal/httpx"
)

// Option configures a [GitSource], an [ImageSource] or a [Warehouse]. Each
// option says which of them it affects; the others ignore it. Options are
// applied in order, so a later option overrides an earlier one. An Option
// is immutable and may be shared between constructors and goroutines.
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

type options struct {
	logger       *slog.Logger
	transport    http.RoundTripper
	retries      int
	minBackoff   time.Duration
	maxBackoff   time.Duration
	username     string
	password     string
	bearer       string
	githubToken  string
	dockerConfig bool
	pageSize     int
	limit        int
	includePaths []string
	format       ObjectFormat
	concurrency  int
	gates        []Gate
	issued       []Freight
	revision     bool

	// The git side: credentials asked per request, and the limits on what
	// a git server may send in one History.
	creds         httpx.CredentialsFunc
	maxTransfer   int64
	maxObjects    int64
	maxObjectSize int64
	maxInflated   int64
}

// Limits on what a git server may send in one [GitSource.History]. Under
// them, a history whose answers total at most 1 MiB is read in under
// 128 MiB of memory, whatever they hold.
const (
	// DefaultMaxTransfer bounds the bytes received from a git server in one
	// History, retries included.
	DefaultMaxTransfer = 1 << 30 // 1 GiB
	// DefaultMaxObjects bounds the objects one pack may declare.
	DefaultMaxObjects = 1_000_000
	// DefaultMaxObjectSize bounds any one object received, a delta's
	// result included; memory while a pack is read grows with it.
	DefaultMaxObjectSize = 16 << 20 // 16 MiB
	// DefaultMaxInflated bounds the bytes inflated in one History: the CPU
	// and disk a server can make it spend.
	DefaultMaxInflated = 2 << 30 // 2 GiB
)

// Credentials are HTTP credentials for one host: Token, when set, is sent
// as a bearer token; otherwise Username and Password as basic auth.
type Credentials struct {
	Username, Password, Token string
}

// CredentialsFunc returns the credentials for host (host[:port] of the
// origin asked). It is called per request, so a rotating token (a GitHub
// App installation token, say) stays fresh in a long-lived source; it must
// be safe for concurrent use.
type CredentialsFunc func(ctx context.Context, host string) (Credentials, error)

// newOptions applies opts over the defaults and cross-checks the result.
func newOptions(opts []Option) (*options, error) {
	o := &options{
		logger:      slog.New(slog.DiscardHandler),
		transport:   http.DefaultTransport,
		retries:     3,
		minBackoff:  250 * time.Millisecond,
		maxBackoff:  10 * time.Second,
		pageSize:    1000,
		limit:       100,
		format:      SHA1,
		concurrency: 8,

		maxTransfer:   DefaultMaxTransfer,
		maxObjects:    DefaultMaxObjects,
		maxObjectSize: DefaultMaxObjectSize,
		maxInflated:   DefaultMaxInflated,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(o); err != nil {
			return nil, err
		}
	}
	if o.bearer != "" && o.username != "" {
		return nil, fmt.Errorf("%w: use either basic auth or a bearer token, not both", ErrInvalid)
	}
	if o.minBackoff > o.maxBackoff {
		return nil, fmt.Errorf("%w: minimum backoff %s exceeds maximum %s", ErrInvalid, o.minBackoff, o.maxBackoff)
	}
	return o, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// WithLogger sends debug logs (one line per network round trip, with
// redacted URLs and timings) and info logs (one line per discovery) to l.
// Affects all. The default is to discard logs.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return invalid("nil logger")
		}
		o.logger = l
		return nil
	})
}

// WithTransport makes network requests through rt, for example to add a
// proxy or custom TLS roots. Retries, counting and logging wrap it. Affects
// GitSource and ImageSource. The default is http.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(o *options) error {
		if rt == nil {
			return invalid("nil transport")
		}
		o.transport = rt
		return nil
	})
}

// WithRetries retries idempotent reads (ref advertisement and history
// fetch, tag list pages, digest lookups) up to n times after the first
// attempt on transient failures: connection errors, truncated responses,
// 408, 429, 502, 503 and 504. The wait grows exponentially from minWait to maxWait
// with full jitter, honours Retry-After up to maxWait, and stops when the
// context ends. Other 4xx answers are never retried. Affects GitSource and
// ImageSource. The default is 3 retries, 250ms to 10s.
func WithRetries(n int, minWait, maxWait time.Duration) Option {
	return optionFunc(func(o *options) error {
		if n < 0 || minWait < 0 || maxWait <= 0 {
			return invalid("retries %d, backoff %s..%s", n, minWait, maxWait)
		}
		o.retries, o.minBackoff, o.maxBackoff = n, minWait, maxWait
		return nil
	})
}

// WithBasicAuth authenticates with a username and password (or token) on
// every host of the source. Affects GitSource and ImageSource.
// The default is anonymous access, unless another credential option applies.
func WithBasicAuth(username, password string) Option {
	return optionFunc(func(o *options) error {
		if username == "" || password == "" {
			return invalid("basic auth needs a username and a password")
		}
		o.username, o.password = username, password
		return nil
	})
}

// WithBearerToken authenticates with "Authorization: Bearer <token>" (git)
// or uses token as the registry's bearer token. Affects GitSource and
// ImageSource. The default is anonymous access, unless another credential
// option applies.
func WithBearerToken(token string) Option {
	return optionFunc(func(o *options) error {
		if token == "" {
			return invalid("empty bearer token")
		}
		o.bearer = token
		return nil
	})
}

// WithGitHubToken uses a GitHub token for ghcr.io (ImageSource) and
// github.com (GitSource) only; other hosts never see it. An empty token is
// ignored, so WithGitHubToken(os.Getenv("GITHUB_TOKEN")) is safe where the
// variable may be unset. Explicit basic or bearer credentials take
// precedence. The default is no GitHub token.
func WithGitHubToken(token string) Option {
	return optionFunc(func(o *options) error {
		o.githubToken = token
		return nil
	})
}

// WithGitHubTokenFromEnv is WithGitHubToken(os.Getenv("GITHUB_TOKEN")),
// read when the option is applied. The default is no GitHub token.
func WithGitHubTokenFromEnv() Option {
	return optionFunc(func(o *options) error {
		o.githubToken = os.Getenv("GITHUB_TOKEN")
		return nil
	})
}

// WithDockerConfig looks registry credentials up in the default keychain:
// the Docker config file ($DOCKER_CONFIG/config.json or ~/.docker/config.json)
// and the credential helpers it names. It applies when no explicit credential
// and no GitHub token matches the registry. Affects ImageSource.
// The default is not to read the Docker config.
func WithDockerConfig() Option {
	return optionFunc(func(o *options) error {
		o.dockerConfig = true
		return nil
	})
}

// WithPageSize asks the registry for n tags per tags/list page (registries
// may return fewer). Affects ImageSource. The default is 1000.
func WithPageSize(n int) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return invalid("page size %d", n)
		}
		o.pageSize = n
		return nil
	})
}

// WithLimit sets the discovery window: the newest n commits of the branch.
// Affects GitSource. The default is 100.
func WithLimit(n int) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return invalid("limit %d", n)
		}
		o.limit = n
		return nil
	})
}

// WithIncludePaths keeps only the commits of the window that changed
// something under one of paths (relative directory or file paths such as
// "k8s/kustomize", compared with the commit's first parent), like Kargo's
// includePaths. The history is then fetched with just the trees needed to
// see those paths where the server allows. Affects GitSource. The default is
// to keep every commit.
func WithIncludePaths(paths ...string) Option {
	return optionFunc(func(o *options) error {
		for _, p := range paths {
			if p != strings.Trim(path.Clean(p), "/") || p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.ContainsAny(p, "*?[\\") {
				return invalid("include path %q must be a clean relative path without globs", p)
			}
		}
		o.includePaths = append([]string(nil), paths...)
		return nil
	})
}

// WithObjectFormat declares the repository's object format: with [SHA256],
// commit ids and git-<sha> tags have 64 hex digits. Affects GitSource and
// Warehouse. The default is [SHA1].
func WithObjectFormat(f ObjectFormat) Option {
	return optionFunc(func(o *options) error {
		if f.HexLen() == 0 {
			return invalid("object format %s", f)
		}
		o.format = f
		return nil
	})
}

// WithConcurrency bounds parallel digest lookups. Affects Warehouse.
// The default is 8.
func WithConcurrency(n int) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return invalid("concurrency %d", n)
		}
		o.concurrency = n
		return nil
	})
}

// WithGates makes every paired Freight pass each gate, in order, before it
// is issued. Affects Warehouse. The default is no gates.
func WithGates(gates ...Gate) Option {
	return optionFunc(func(o *options) error {
		for _, g := range gates {
			if g == nil {
				return invalid("nil gate")
			}
		}
		o.gates = append(o.gates, gates...)
		return nil
	})
}

// WithIssued declares Freight issued earlier, so that a git-<sha> tag whose
// digest changed since is reported as a [MovedTagError] instead of becoming
// new Freight. Affects Warehouse. The default is no issued Freight.
func WithIssued(issued ...Freight) Option {
	return optionFunc(func(o *options) error {
		o.issued = append(o.issued, issued...)
		return nil
	})
}

// WithRevisionCheck also reads each paired image's
// org.opencontainers.image.revision annotation (or, failing that, label)
// and refuses the pair when it names another commit. It costs one manifest
// read per paired image, more for single-arch images that carry the label
// only. Affects Warehouse. The default is not to check.
func WithRevisionCheck() Option {
	return optionFunc(func(o *options) error {
		o.revision = true
		return nil
	})
}

// WithCredentials asks fn for HTTP credentials before each request, with
// the host asked; a GitSource sends them only to its repository's origin
// (scheme, host and port), never to a host a redirect leads to. Every
// credential fn hands out is kept out of errors and logs; a failing fn
// fails the call with [ErrUnauthorized]. Affects GitSource. The default is
// anonymous access, unless another credential option applies.
func WithCredentials(fn CredentialsFunc) Option {
	return optionFunc(func(o *options) error {
		if fn == nil {
			return invalid("nil credentials function")
		}
		o.creds = func(ctx context.Context, host string) (httpx.Credentials, error) {
			c, err := fn(ctx, host)
			return httpx.Credentials(c), err
		}
		return nil
	})
}

// WithMaxTransfer limits the bytes a git server may send in one History,
// retries included; the fallbacks for servers without filters fetch trees
// and blobs and come near it. Affects GitSource. The default is
// [DefaultMaxTransfer] (1 GiB).
func WithMaxTransfer(n int64) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return invalid("max transfer %d", n)
		}
		o.maxTransfer = n
		return nil
	})
}

// WithMaxObjects limits the objects one pack from a git server may declare
// (and so hold); a pack declaring more is refused before it is read.
// Affects GitSource. The default is [DefaultMaxObjects] (1,000,000).
func WithMaxObjects(n int) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return invalid("max objects %d", n)
		}
		o.maxObjects = int64(n)
		return nil
	})
}

// WithMaxObjectSize limits the inflated size of any one object a git server
// sends, a delta's result included, checked before it is inflated; memory
// while a pack is read grows with it. Affects GitSource. The default is
// [DefaultMaxObjectSize] (16 MiB).
func WithMaxObjectSize(n int64) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return invalid("max object size %d", n)
		}
		o.maxObjectSize = n
		return nil
	})
}

// WithMaxInflated limits the bytes inflated from a git server's packs in
// one History: a few KiB of compressed data may inflate to gigabytes.
// Affects GitSource. The default is [DefaultMaxInflated] (2 GiB).
func WithMaxInflated(n int64) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return invalid("max inflated %d", n)
		}
		o.maxInflated = n
		return nil
	})
}
