package freight

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/railyard-gitops/railyard/internal/redact"
	"github.com/railyard-gitops/railyard/internal/retry"
)

// Option configures a [GitSource], an [ImageSource] or a [Warehouse]. Each
// option says which of them it affects; given to another constructor it is
// refused with an error wrapping [ErrInvalid]. A nil Option is ignored.
// Options are applied in order, so a later option overrides an earlier
// one. An Option is immutable and may be shared between goroutines.
type Option interface {
	apply(*options) error
}

// target is a set of constructors an option affects.
type target uint8

const (
	forGit target = 1 << iota
	forImage
	forWarehouse
	forAll = forGit | forImage | forWarehouse
)

func (t target) String() string {
	switch t {
	case forGit:
		return "NewGitSource"
	case forImage:
		return "NewImageSource"
	case forWarehouse:
		return "NewWarehouse"
	}
	return "this constructor"
}

// option is an Option that affects the constructors in to.
type option struct {
	name string
	to   target
	fn   func(*options) error
}

func (opt option) apply(o *options) error {
	if opt.to&o.target == 0 {
		return invalid("%s does not apply to %s", opt.name, o.target)
	}
	return opt.fn(o)
}

// optionFunc is an Option that affects every constructor.
type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

type options struct {
	target       target // the constructor being configured
	logger       *slog.Logger
	httpClient   *http.Client
	transport    http.RoundTripper // httpClient's, or http.DefaultTransport
	retryPolicy  retry.Policy
	credOption   string // the credential option given, for refusing a second
	tempDir      string // parent of the temporary object store; "" for os.TempDir
	username     string
	password     string
	bearer       string
	githubToken  string
	dockerConfig bool
	pageSize     int
	limit        int
	includePaths []string
	format       objectFormat
	concurrency  int
	gates        []Gate
	issued       []Freight
	revision     bool

	// The git side (GitSource): the limits on what a git server may send
	// in one History.
	maxTransfer   int64
	maxObjects    int64
	maxObjectSize int64
	maxInflated   int64

	// The registry side (ImageSource).
	credentials CredentialsFunc
	trustedAuth []string
	maxPages    int
	maxTags     int
	maxResponse int64
}

// Defaults of the registry limits; see [WithMaxPages], [WithMaxTags] and
// [WithMaxResponseSize].
const (
	DefaultMaxPages        = 1000
	DefaultMaxTags         = 100_000
	DefaultMaxResponseSize = 16 << 20
)

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

// newOptions returns the options of NewGitSource.
func newOptions(opts []Option) (*options, error) { return newOptionsFor(forGit, opts) }

// newOptionsFor applies opts for the constructors in t over the defaults
// and cross-checks the result.
func newOptionsFor(t target, opts []Option) (*options, error) {
	o := &options{
		target:        t,
		logger:        slog.New(slog.DiscardHandler),
		transport:     http.DefaultTransport,
		retryPolicy:   retry.Policy{Retries: DefaultRetries, MinWait: DefaultMinWait, MaxWait: DefaultMaxWait},
		pageSize:      1000,
		limit:         100,
		format:        formatSHA1,
		concurrency:   8,
		maxTransfer:   DefaultMaxTransfer,
		maxObjects:    DefaultMaxObjects,
		maxObjectSize: DefaultMaxObjectSize,
		maxInflated:   DefaultMaxInflated,
		maxPages:      DefaultMaxPages,
		maxTags:       DefaultMaxTags,
		maxResponse:   DefaultMaxResponseSize,
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

// setCredential records that the credential option name is applied, and
// refuses it when another one was: which should win is the caller's
// decision, not an accident of order.
func (o *options) setCredential(name string) error {
	if o.credOption != "" {
		return invalid("%s and %s both set credentials; give one", o.credOption, name)
	}
	o.credOption = name
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// WithLogger sends debug logs (one line per network round trip, with
// redacted URLs and timings) and info logs (one line per discovery) to l.
// Affects all. The default is to discard logs.
func WithLogger(l *slog.Logger) Option {
	return option{"WithLogger", forAll, func(o *options) error {
		if l == nil {
			return invalid("nil logger")
		}
		o.logger = l
		return nil
	}}
}

// WithHTTPClient makes every request through c's Transport, for example to
// add a proxy or custom TLS roots; its Timeout is kept. Retries, counting,
// logging, the credential policy and the response caps wrap it. Affects
// GitSource and ImageSource. The default is a client on
// http.DefaultTransport.
func WithHTTPClient(c *http.Client) Option {
	return option{"WithHTTPClient", forGit | forImage, func(o *options) error {
		if c == nil {
			return invalid("nil HTTP client")
		}
		o.httpClient = c
		o.transport = c.Transport
		if o.transport == nil {
			o.transport = http.DefaultTransport
		}
		return nil
	}}
}

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

// WithRetries retries idempotent reads (ref advertisement and history
// fetch, tag list pages, digest lookups) up to n times after the first
// attempt on transient failures: connection errors, truncated responses,
// 408, 429, 500, 502, 503 and 504. The wait is drawn with full jitter below
// a cap growing from minWait to maxWait, honours Retry-After up to maxWait
// (a longer one ends the retries), and stops when the context ends. Other
// 4xx answers are never retried. n must be in 0..999 (0 tries once) and 0 <
// minWait <= maxWait; otherwise the constructor fails with [ErrInvalid].
// Affects GitSource and ImageSource. The default is [DefaultRetries] (3),
// [DefaultMinWait] (200ms) and [DefaultMaxWait] (5s).
func WithRetries(n int, minWait, maxWait time.Duration) Option {
	return option{"WithRetries", forGit | forImage, func(o *options) error {
		p, err := retry.NewPolicy(n, minWait, maxWait)
		if err != nil {
			return invalid("%v", err)
		}
		o.retryPolicy = p
		return nil
	}}
}

// WithTempDir sets the directory under which a [GitSource.History] keeps
// its temporary object store (removed before History returns). Affects
// GitSource. The default is [os.TempDir].
func WithTempDir(dir string) Option {
	return option{"WithTempDir", forGit, func(o *options) error {
		if dir == "" {
			return invalid("empty temporary directory")
		}
		o.tempDir = dir
		return nil
	}}
}

// WithBasicAuth authenticates with a username and password (or token): to
// the git server's origin (GitSource), or to the registry and its token
// service when that shares the registry's origin or is trusted (see
// [WithTrustedAuthOrigins]) (ImageSource). Affects GitSource and
// ImageSource. It excludes [WithBearerToken] and [WithCredentials]: giving
// two of them, or one twice, fails with [ErrInvalid]. The default is
// anonymous access, unless another credential option applies.
func WithBasicAuth(username, password string) Option {
	return option{"WithBasicAuth", forGit | forImage, func(o *options) error {
		if username == "" || password == "" {
			return invalid("basic auth needs a username and a password")
		}
		if err := o.setCredential("WithBasicAuth"); err != nil {
			return err
		}
		o.username, o.password = username, password
		return nil
	}}
}

// WithBearerToken authenticates with "Authorization: Bearer <token>" (git)
// or uses token as the registry's bearer token. It excludes [WithBasicAuth]
// and [WithCredentials]: giving two of them, or one twice, fails with
// [ErrInvalid]. Affects GitSource and ImageSource. The default is anonymous
// access, unless another credential option applies.
func WithBearerToken(token string) Option {
	return option{"WithBearerToken", forGit | forImage, func(o *options) error {
		if token == "" {
			return invalid("empty bearer token")
		}
		if err := o.setCredential("WithBearerToken"); err != nil {
			return err
		}
		o.bearer = token
		return nil
	}}
}

// WithGitHubToken uses a GitHub token for ghcr.io (ImageSource) and
// github.com (GitSource) only; other hosts never see it. An empty token is
// ignored, so WithGitHubToken(os.Getenv("GITHUB_TOKEN")) is safe where the
// variable may be unset. Explicit basic or bearer credentials take
// precedence. The default is no GitHub token.
func WithGitHubToken(token string) Option {
	return option{"WithGitHubToken", forGit | forImage, func(o *options) error {
		o.githubToken = token
		return nil
	}}
}

// WithGitHubTokenFromEnv is WithGitHubToken(os.Getenv("GITHUB_TOKEN")),
// read when the option is applied. The default is no GitHub token.
func WithGitHubTokenFromEnv() Option {
	return option{"WithGitHubTokenFromEnv", forGit | forImage, func(o *options) error {
		o.githubToken = os.Getenv("GITHUB_TOKEN")
		return nil
	}}
}

// WithDockerConfig looks registry credentials up in the default keychain:
// the Docker config file ($DOCKER_CONFIG/config.json or
// ~/.docker/config.json) and the credential helpers it names. It applies
// when no explicit credential and no GitHub token matches the registry.
// Affects ImageSource. The default is not to read the Docker config.
func WithDockerConfig() Option {
	return option{"WithDockerConfig", forImage, func(o *options) error {
		o.dockerConfig = true
		return nil
	}}
}

// WithPageSize asks the registry for n tags per tags/list page (registries
// may return fewer). Affects ImageSource. The default is 1000.
func WithPageSize(n int) Option {
	return option{"WithPageSize", forImage, func(o *options) error {
		if n <= 0 {
			return invalid("page size %d", n)
		}
		o.pageSize = n
		return nil
	}}
}

// WithLimit sets the discovery window: the newest n commits of the branch.
// Affects GitSource. The default is 100.
func WithLimit(n int) Option {
	return option{"WithLimit", forGit, func(o *options) error {
		if n <= 0 {
			return invalid("limit %d", n)
		}
		o.limit = n
		return nil
	}}
}

// WithIncludePaths keeps only the commits of the window that changed
// something under one of paths (relative directory or file paths such as
// "k8s/kustomize", compared with the commit's first parent), like Kargo's
// includePaths. The history is then fetched with just the trees needed to
// see those paths where the server allows. Affects GitSource. The default
// is to keep every commit.
func WithIncludePaths(paths ...string) Option {
	return option{"WithIncludePaths", forGit, func(o *options) error {
		for _, p := range paths {
			if p != strings.Trim(path.Clean(p), "/") || p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.ContainsAny(p, "*?[\\") {
				return invalid("include path %q must be a clean relative path without globs", p)
			}
		}
		o.includePaths = append([]string(nil), paths...)
		return nil
	}}
}

// withObjectFormat declares the repository's object format: with formatSHA256,
// commit ids and git-<sha> tags have 64 hex digits. Affects GitSource and
// Warehouse. The default is formatSHA1.
// Unexported until the git side speaks SHA-256 end to end (v0.1.0 is
// SHA-1 only, as go-git v5's transport is).
func withObjectFormat(f objectFormat) Option {
	return option{"withObjectFormat", forGit | forWarehouse, func(o *options) error {
		if f.HexLen() == 0 {
			return invalid("object format %s", f)
		}
		o.format = f
		return nil
	}}
}

// WithConcurrency bounds parallel digest lookups. Affects Warehouse. The
// default is 8.
func WithConcurrency(n int) Option {
	return option{"WithConcurrency", forWarehouse, func(o *options) error {
		if n <= 0 {
			return invalid("concurrency %d", n)
		}
		o.concurrency = n
		return nil
	}}
}

// WithGates makes every paired Freight pass each gate, in order, before it
// is issued. Affects Warehouse. The default is no gates.
func WithGates(gates ...Gate) Option {
	return option{"WithGates", forWarehouse, func(o *options) error {
		for _, g := range gates {
			if g == nil {
				return invalid("nil gate")
			}
		}
		o.gates = append(o.gates, gates...)
		return nil
	}}
}

// WithIssued declares Freight issued earlier, so that a git-<sha> tag whose
// digest changed since is reported as a [MovedTagError] instead of becoming
// new Freight. Affects Warehouse. The default is no issued Freight.
func WithIssued(issued ...Freight) Option {
	return option{"WithIssued", forWarehouse, func(o *options) error {
		o.issued = append(o.issued, issued...)
		return nil
	}}
}

// WithRevisionCheck also reads each paired image's
// org.opencontainers.image.revision annotation (or, failing that, label)
// and refuses the pair when it names another commit. It costs one manifest
// read per paired image, more for single-arch images that carry the label
// only. Affects Warehouse. The default is not to check.
func WithRevisionCheck() Option {
	return option{"WithRevisionCheck", forWarehouse, func(o *options) error {
		o.revision = true
		return nil
	}}
}

// WithTrustedAuthOrigins lets the registry's token service (the realm of
// its WWW-Authenticate challenge) receive the ImageSource's credentials
// when it is on one of origins ("https://auth.example.com", scheme, host
// and port) rather than on the registry's own origin. A token service on
// any other origin gets the token request without credentials, so a lying
// registry cannot send them elsewhere (another host name such as localhost
// for 127.0.0.1, or another port, is another origin). Known public
// registries whose token service lives elsewhere are trusted without it:
// Docker Hub (https://auth.docker.io) and GitLab's registry
// (https://gitlab.com); GHCR, Quay, GCR, Artifact Registry, ECR and ACR
// serve tokens on their own origin. Affects ImageSource. The default is to
// trust only those.
func WithTrustedAuthOrigins(origins ...string) Option {
	return option{"WithTrustedAuthOrigins", forImage, func(o *options) error {
		for _, raw := range origins {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
				(u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				return invalid("trusted auth origin %q: want scheme://host[:port]", redact.URLs(raw))
			}
			o.trustedAuth = append(o.trustedAuth, raw)
		}
		return nil
	}}
}

// WithMaxPages bounds the tags/list pages one listing follows; past it
// [ImageSource.Tags] fails with a [LimitError]. Affects ImageSource. The
// default is [DefaultMaxPages] (1000).
func WithMaxPages(n int) Option {
	return option{"WithMaxPages", forImage, func(o *options) error {
		if n <= 0 {
			return invalid("max pages %d", n)
		}
		o.maxPages = n
		return nil
	}}
}

// WithMaxTags bounds the tags one listing returns; past it
// [ImageSource.Tags] fails with a [LimitError]. Affects ImageSource. The
// default is [DefaultMaxTags] (100,000).
func WithMaxTags(n int) Option {
	return option{"WithMaxTags", forImage, func(o *options) error {
		if n <= 0 {
			return invalid("max tags %d", n)
		}
		o.maxTags = n
		return nil
	}}
}

// WithMaxResponseSize bounds the bytes of any one registry answer (a
// tags/list page, a manifest, a config, a token), checked before it is
// decoded; past it the call fails with a [LimitError]. Affects ImageSource.
// The default is [DefaultMaxResponseSize] (16 MiB).
func WithMaxResponseSize(bytes int64) Option {
	return option{"WithMaxResponseSize", forImage, func(o *options) error {
		if bytes <= 0 {
			return invalid("max response size %d", bytes)
		}
		o.maxResponse = bytes
		return nil
	}}
}

// WithMaxTransfer limits the bytes a git server may send in one History,
// retries included; the fallbacks for servers without filters fetch trees
// and blobs and come near it. Affects GitSource. The default is
// [DefaultMaxTransfer] (1 GiB).
func WithMaxTransfer(n int64) Option {
	return option{"WithMaxTransfer", forGit, func(o *options) error {
		if n <= 0 {
			return invalid("max transfer %d", n)
		}
		o.maxTransfer = n
		return nil
	}}
}

// WithMaxObjects limits the objects one pack from a git server may declare
// (and so hold); a pack declaring more is refused before it is read.
// Affects GitSource. The default is [DefaultMaxObjects] (1,000,000).
func WithMaxObjects(n int) Option {
	return option{"WithMaxObjects", forGit, func(o *options) error {
		if n <= 0 {
			return invalid("max objects %d", n)
		}
		o.maxObjects = int64(n)
		return nil
	}}
}

// WithMaxObjectSize limits the inflated size of any one object a git server
// sends, a delta's result included, checked before it is inflated; memory
// while a pack is read grows with it. Affects GitSource. The default is
// [DefaultMaxObjectSize] (16 MiB).
func WithMaxObjectSize(n int64) Option {
	return option{"WithMaxObjectSize", forGit, func(o *options) error {
		if n <= 0 {
			return invalid("max object size %d", n)
		}
		o.maxObjectSize = n
		return nil
	}}
}

// WithMaxInflated limits the bytes inflated from a git server's packs in
// one History: a few KiB of compressed data may inflate to gigabytes.
// Affects GitSource. The default is [DefaultMaxInflated] (2 GiB).
func WithMaxInflated(n int64) Option {
	return option{"WithMaxInflated", forGit, func(o *options) error {
		if n <= 0 {
			return invalid("max inflated %d", n)
		}
		o.maxInflated = n
		return nil
	}}
}
