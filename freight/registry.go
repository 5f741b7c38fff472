package freight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// RevisionKey is the OCI annotation (on an index or manifest) and label (on
// an image config) naming the commit an image was built from.
const RevisionKey = "org.opencontainers.image.revision"

// Limits on what a registry may send.
const (
	maxTagPage  = 16 << 20 // bytes of one tags/list page
	maxTagPages = 100_000  // pages of one listing
)

// pathComponent is one component of a repository name in the OCI
// distribution spec.
var pathComponent = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)

// ImageSource lists the tags of one registry repository and resolves
// digests, with one request per tags/list page and one per resolved tag.
// Registries are reached over HTTPS, or plain HTTP for loopback and private
// addresses (as go-containerregistry decides).
//
// An ImageSource is safe for concurrent use.
type ImageSource struct {
	repo name.Repository
	auth authn.Authenticator
	o    *options

	mu sync.Mutex
	rt http.RoundTripper // authenticated; set by the first successful ping
}

// NewImageSource returns a source for repo, a repository reference without
// tag or digest such as "ghcr.io/org/app". Credentials come, in this order,
// from [WithBasicAuth] or [WithBearerToken], [WithGitHubToken] (ghcr.io
// only), [WithDockerConfig]; otherwise access is anonymous. Options:
// [WithPageSize], credentials, [WithTransport], [WithRetries],
// [WithLogger]. It returns an error wrapping [ErrInvalid] for an
// invalid reference or option. It does no network I/O, but WithDockerConfig
// reads the Docker config here.
func NewImageSource(repo string, opts ...Option) (*ImageSource, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil {
		return nil, invalid("image repository %q: %v", repo, err)
	}
	if strings.Contains(repo, "://") {
		return nil, invalid("image repository %q: no scheme allowed", repo)
	}
	for _, c := range strings.Split(r.RepositoryStr(), "/") {
		if !pathComponent.MatchString(c) {
			return nil, invalid("image repository %q: path component %q", repo, c)
		}
	}
	var auth authn.Authenticator = authn.Anonymous
	switch {
	case o.username != "":
		auth = &authn.Basic{Username: o.username, Password: o.password}
	case o.bearer != "":
		auth = &authn.Bearer{Token: o.bearer}
	case o.githubToken != "" && r.RegistryStr() == "ghcr.io":
		auth = &authn.Basic{Username: "x-access-token", Password: o.githubToken}
	case o.dockerConfig:
		if auth, err = authn.DefaultKeychain.Resolve(r); err != nil {
			return nil, invalid("read docker config: %v", err)
		}
	}
	return &ImageSource{repo: r, auth: auth, o: o}, nil
}

// Repository returns the repository as Image.RepoURL spells it, e.g.
// "ghcr.io/org/app" (Docker Hub names in full: "index.docker.io/library/x").
func (s *ImageSource) Repository() string { return s.repo.Name() }

// transport returns the authenticated round tripper, pinging the registry
// and fetching a token the first time.
func (s *ImageSource) transport(ctx context.Context) (http.RoundTripper, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rt != nil {
		return s.rt, nil
	}
	rt, err := transport.NewWithContext(ctx, s.repo.Registry, s.auth,
		&retryTransport{base: s.o.transport, o: s.o},
		[]string{s.repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, registryErr(err)
	}
	s.rt = rt
	return rt, nil
}

// Tags lists every tag of the repository, following the registry's Link
// headers page by page (see [WithPageSize]); each page is retried on its
// own. Errors, inside a [*RemoteError], wrap [ErrNotFound],
// [ErrUnauthorized], [ErrRejected], [ErrUnavailable] (only this one may
// heal: a later call may succeed) or the context's error.
func (s *ImageSource) Tags(ctx context.Context) ([]string, error) {
	tags, _, err := s.tags(ctx)
	return tags, err
}

// tags is Tags that also returns the number of pages read.
func (s *ImageSource) tags(ctx context.Context) ([]string, int, error) {
	fail := func(err error) ([]string, int, error) {
		return nil, 0, &RemoteError{Op: "list tags", URL: s.Repository(), Err: err}
	}
	var rt http.RoundTripper
	err := s.o.retry(ctx, func() (err error) {
		rt, err = s.transport(ctx)
		return err
	})
	if err != nil {
		return fail(err)
	}
	client := &http.Client{Transport: rt}
	next := &url.URL{
		Scheme:   s.repo.Scheme(),
		Host:     s.repo.RegistryStr(),
		Path:     fmt.Sprintf("/v2/%s/tags/list", s.repo.RepositoryStr()),
		RawQuery: fmt.Sprintf("n=%d", s.o.pageSize),
	}
	var tags []string
	seen := map[string]bool{}
	pages := 0
	for next != nil {
		if pages++; pages > maxTagPages || seen[next.String()] {
			return fail(fmt.Errorf("registry pagination does not end after %d pages", pages-1))
		}
		seen[next.String()] = true
		var page []string
		var link *url.URL
		err := s.o.retry(ctx, func() (err error) {
			page, link, err = s.tagPage(ctx, client, next)
			return err
		})
		if err != nil {
			return fail(err)
		}
		tags = append(tags, page...)
		next = link
	}
	return tags, pages, nil
}

// tagPage reads one tags/list page and the next page's URL, if any.
func (s *ImageSource) tagPage(ctx context.Context, client *http.Client, u *url.URL) ([]string, *url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, nil, registryErr(err)
	}
	var body struct {
		Tags []string `json:"tags"`
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTagPage+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxTagPage {
		return nil, nil, fmt.Errorf("%w: tags/list page exceeds %d bytes", ErrUnavailable, maxTagPage)
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, nil, fmt.Errorf("decode tags/list page: %w", err)
	}
	link, err := nextPage(resp.Header.Get("Link"), u)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return body.Tags, link, nil
}

// nextPage parses an RFC 5988 Link header `<url>; rel="next"` relative to
// the current page and refuses links to another host or scheme.
func nextPage(header string, current *url.URL) (*url.URL, error) {
	if header == "" {
		return nil, nil
	}
	for _, part := range strings.Split(header, ",") {
		target, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			return nil, fmt.Errorf("malformed Link header")
		}
		if !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) && !strings.Contains(strings.ReplaceAll(params, " ", ""), "rel=next") {
			continue
		}
		ref, err := url.Parse(target[1 : len(target)-1])
		if err != nil {
			return nil, fmt.Errorf("malformed Link header: %w", err)
		}
		u := current.ResolveReference(ref)
		if u.Host != current.Host || u.Scheme != current.Scheme || u.User != nil {
			return nil, fmt.Errorf("Link header points away from the registry")
		}
		return u, nil
	}
	return nil, nil
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
		return Image{}, &RemoteError{Op: "resolve digest of tag " + tag, URL: s.Repository(), Err: err}
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
		return "", &RemoteError{Op: "read revision of tag " + tag, URL: s.Repository(), Err: err}
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

// registryErr maps go-containerregistry's HTTP errors onto the package's
// sentinels.
func registryErr(err error) error {
	var te *transport.Error
	if err == nil || !errors.As(err, &te) {
		return err
	}
	return statusErr(te.StatusCode, err)
}
