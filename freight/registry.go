package freight

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
)

// RevisionKey is the OCI annotation (on an index or manifest) and label (on
// an image config) naming the commit an image was built from.
const RevisionKey = "org.opencontainers.image.revision"

// pathComponent is one component of a repository name in the OCI
// distribution spec.
var pathComponent = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)

// knownAuthOrigins are the token services of public registries that live
// on another origin than the registry; see WithTrustedAuthOrigins.
var knownAuthOrigins = map[string][]string{
	name.DefaultRegistry:   {"https://auth.docker.io"}, // index.docker.io
	"registry-1.docker.io": {"https://auth.docker.io"},
	"registry.gitlab.com":  {"https://gitlab.com"},
}

// ImageSource lists the tags of one registry repository and resolves
// digests, with one request per tags/list page and one per resolved tag
// (plus one ping and, for token auth, one token request per token).
// Registries are reached over HTTPS, or plain HTTP for loopback and private
// addresses (as go-containerregistry decides).
//
// An ImageSource is safe for concurrent use.
type ImageSource struct {
	repo    name.Repository
	auth    authn.Authenticator
	o       *options
	base    http.RoundTripper // httpx: origin policy, caps, retries, logs
	secrets *redact.Set
	log     *slog.Logger

	mu sync.Mutex
	rt http.RoundTripper // authenticated; set by the first successful ping
}

// NewImageSource returns a source for repo, a repository reference without
// tag or digest such as "ghcr.io/org/app". Credentials come, in this order,
// from [WithBasicAuth], [WithBearerToken] or [WithCredentials],
// [WithGitHubToken] (ghcr.io only), [WithDockerConfig]; otherwise access is
// anonymous. They go to the registry's origin and to its token service
// when that shares the origin or is trusted ([WithTrustedAuthOrigins]),
// nowhere else. Options: [WithPageSize], [WithMaxPages], [WithMaxTags],
// [WithMaxResponseSize], credentials, [WithTrustedAuthOrigins],
// [WithHTTPClient], [WithRetries], [WithLogger]; others are refused. It
// returns an error wrapping [ErrInvalid] for an invalid reference or
// option. It does no network I/O, but WithDockerConfig reads the Docker
// config here.
func NewImageSource(repo string, opts ...Option) (*ImageSource, error) {
	o, err := newOptionsFor(forImage, opts)
	if err != nil {
		return nil, err
	}
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil {
		return nil, invalid("image repository %q: %v", redact.URLs(repo), err)
	}
	if strings.Contains(repo, "://") {
		return nil, invalid("image repository %q: no scheme allowed", redact.URLs(repo))
	}
	for _, c := range strings.Split(r.RepositoryStr(), "/") {
		if !pathComponent.MatchString(c) {
			return nil, invalid("image repository %q: path component %q", repo, c)
		}
	}
	secrets := &redact.Set{}
	var creds CredentialsFunc
	switch {
	case o.username != "":
		creds = staticCredentials(Credentials{Username: o.username, Password: o.password})
	case o.bearer != "":
		creds = staticCredentials(Credentials{Token: o.bearer})
	case o.credentials != nil:
		creds = o.credentials
	case o.githubToken != "" && r.RegistryStr() == "ghcr.io":
		creds = staticCredentials(Credentials{Username: "x-access-token", Password: o.githubToken})
	}
	var auth authn.Authenticator = authn.Anonymous
	switch {
	case creds != nil:
		auth = &providerAuth{fn: creds, host: r.RegistryStr(), secrets: secrets}
	case o.dockerConfig:
		kc, err := authn.DefaultKeychain.Resolve(r)
		if err != nil {
			return nil, invalid("read docker config: %v", redact.URLs(err.Error()))
		}
		if kc != authn.Anonymous {
			auth = &recordingAuth{inner: kc, secrets: secrets}
		}
	}
	// Every request of the source goes through httpx: credentials
	// (Authorization headers set by go-containerregistry) reach only the
	// registry's origins and the trusted token services, writes go nowhere
	// else, answers are capped, redirects bounded, reads retried.
	trusted := []string{"https://" + r.RegistryStr()}
	if r.Scheme() == "http" { // go-containerregistry pings https, then http
		trusted = append(trusted, "http://"+r.RegistryStr())
	}
	trusted = append(trusted, knownAuthOrigins[r.RegistryStr()]...)
	trusted = append(trusted, o.trustedAuth...)
	logger := redact.Logger(o.logger, secrets)
	hc, _, err := httpx.New(httpx.Config{
		Client: o.httpClient, Origin: r.Scheme() + "://" + r.RegistryStr(), Trusted: trusted, Secrets: secrets,
		Retry: o.policy(), Logger: o.logger, Prefix: "freight", MaxResponseSize: o.maxResponse,
		ReadOnlyElsewhere: true,
	})
	if err != nil {
		return nil, invalid("image repository %q: %v", repo, err)
	}
	base := &pageBuffer{next: hc.Transport, o: o}
	return &ImageSource{repo: r, auth: auth, o: o, base: base, secrets: secrets, log: logger}, nil
}

// Repository returns the repository as Image.RepoURL spells it, e.g.
// "ghcr.io/org/app" (Docker Hub names in full: "index.docker.io/library/x").
func (s *ImageSource) Repository() string { return s.repo.Name() }

// transport returns the authenticated round tripper, pinging the registry
// and fetching a token the first time. go-containerregistry renews the
// token (asking the credentials again) when the registry answers 401.
func (s *ImageSource) transport(ctx context.Context) (http.RoundTripper, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rt != nil {
		return s.rt, nil
	}
	rt, err := transport.NewWithContext(ctx, s.repo.Registry, s.auth, s.base,
		[]string{s.repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, registryErr(err)
	}
	s.rt = rt
	return rt, nil
}

// Tags lists every tag of the repository with go-containerregistry's
// lister, following the registry's Link headers page by page (see
// [WithPageSize]), each page retried on its own, within [WithMaxPages],
// [WithMaxTags] and [WithMaxResponseSize]. Errors, inside a
// [*RemoteError], wrap [ErrNotFound], [ErrUnauthorized], [ErrRejected],
// [ErrLimitExceeded] (a [LimitError]), [ErrUnsafeContent] (a Link or
// redirect the source refuses to follow), [ErrUnavailable] (only this one
// may heal: a later call may succeed) or the context's error.
func (s *ImageSource) Tags(ctx context.Context) ([]string, error) {
	tags, _, err := s.tags(ctx)
	return tags, err
}

// tags is Tags that also returns the number of pages read.
func (s *ImageSource) tags(ctx context.Context) ([]string, int, error) {
	var (
		tags  []string
		pages int
	)
	err := s.o.retry(ctx, func() error {
		rt, err := s.transport(ctx)
		if err != nil {
			return err
		}
		tags, pages, err = s.list(ctx, rt)
		return err
	})
	if err != nil {
		return nil, 0, s.fail("list tags", err)
	}
	return tags, pages, nil
}

// list reads the pages of the listing with go-containerregistry's Lister,
// within the page and tag bounds. Each page is read whole by pageBuffer
// (and retried there when cut) before the lister decodes it: the Lister
// cannot resume after a failed page.
func (s *ImageSource) list(ctx context.Context, rt http.RoundTripper) ([]string, int, error) {
	p, err := remote.NewPuller(remote.WithTransport(rt), remote.WithPageSize(s.o.pageSize))
	if err != nil {
		return nil, 0, err
	}
	lister, err := p.Lister(ctx, s.repo)
	if err != nil {
		return nil, 1, registryErr(err)
	}
	var tags []string
	pages := 0
	for lister.HasNext() {
		if pages >= s.o.maxPages {
			return nil, pages, &LimitError{Limit: "tags/list pages", Max: int64(s.o.maxPages)}
		}
		page, err := lister.Next(ctx)
		if err != nil {
			return nil, pages, registryErr(err)
		}
		pages++
		if len(tags)+len(page.Tags) > s.o.maxTags {
			return nil, pages, &LimitError{Limit: "tags", Max: int64(s.o.maxTags)}
		}
		tags = append(tags, page.Tags...)
	}
	return tags, pages, nil
}

// fail wraps err for the caller: a RemoteError, redacted of every
// credential the source handed out or saw.
func (s *ImageSource) fail(op string, err error) error {
	err = &RemoteError{Op: op, URL: s.Repository(), Err: s.secrets.Error(err)}
	s.log.Debug("freight: "+op, "repository", s.Repository(), "error", err)
	return err
}

// Resolve returns the image repo:tag with its digest, from one HEAD
// request; for a multi-arch tag the digest is the index's. Errors are those
// of [ImageSource.Tags].
func (s *ImageSource) Resolve(ctx context.Context, tag string) (Image, error) {
	var d *v1.Descriptor
	err := s.o.retry(ctx, func() error {
		rt, err := s.transport(ctx)
		if err != nil {
			return err
		}
		d, err = remote.Head(s.repo.Tag(tag), remote.WithContext(ctx), remote.WithTransport(rt))
		return registryErr(err)
	})
	if err != nil {
		return Image{}, s.fail("resolve digest of tag "+tag, err)
	}
	return Image{RepoURL: s.Repository(), Tag: tag, Digest: d.Digest.String()}, nil
}

// Revision returns the commit the image at tag says it was built from: the
// org.opencontainers.image.revision annotation of its index or manifest,
// else the label of its (first) image config; "" when it names none. It
// costs one manifest GET, plus a manifest and a config read when only the
// label carries it. Errors are those of [ImageSource.Resolve].
func (s *ImageSource) Revision(ctx context.Context, tag string) (string, error) {
	var rev string
	err := s.o.retry(ctx, func() error {
		rt, err := s.transport(ctx)
		if err != nil {
			return err
		}
		rev, err = s.revision(ctx, rt, tag)
		return registryErr(err)
	})
	if err != nil {
		return "", s.fail("read revision of tag "+tag, err)
	}
	return rev, nil
}

func (s *ImageSource) revision(ctx context.Context, rt http.RoundTripper, tag string) (string, error) {
	desc, err := remote.Get(s.repo.Tag(tag), remote.WithContext(ctx), remote.WithTransport(rt))
	if err != nil {
		return "", err
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return "", err
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return "", err
		}
		if rev := m.Annotations[RevisionKey]; rev != "" || len(m.Manifests) == 0 {
			return rev, nil
		}
		if img, err = idx.Image(m.Manifests[0].Digest); err != nil {
			return "", err
		}
	} else {
		if img, err = desc.Image(); err != nil {
			return "", err
		}
		m, err := img.Manifest()
		if err != nil {
			return "", err
		}
		if rev := m.Annotations[RevisionKey]; rev != "" {
			return rev, nil
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	return cfg.Config.Labels[RevisionKey], nil
}

// registryErr maps go-containerregistry's and httpx's errors onto the
// package's sentinels.
func registryErr(err error) error {
	var (
		te  *transport.Error
		big *httpx.TooLargeError
		re  *httpx.RetryError
	)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrUnauthorized):
		return err
	case errors.As(err, &re):
		// httpx spent the retries on it: the operation must not retry.
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case errors.As(err, &big):
		return &LimitError{Limit: "response size", Max: big.Max}
	case errors.As(err, &te):
		return statusErr(te.StatusCode, err)
	case errors.Is(err, httpx.ErrRedirect), errors.Is(err, httpx.ErrOffOrigin),
		strings.Contains(err.Error(), "pagination URL"), strings.Contains(err.Error(), "realm"):
		// A Link to another registry, a redirect that loops or leaves
		// https, a token service go-containerregistry refuses.
		return fmt.Errorf("%w: %w", ErrUnsafeContent, err)
	}
	return err
}
