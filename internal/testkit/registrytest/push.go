package registrytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// RevisionKey is the OCI annotation (on indexes) and label (on image
// configs) that carries the source commit.
const RevisionKey = "org.opencontainers.image.revision"

// tagConcurrency bounds the PUTs in flight in [Registry.TagMany].
const tagConcurrency = 16

// layerSize is the size of the single random file in each image's layer.
const layerSize = 256

// maxManifestSize bounds the manifest TagMany reads back.
const maxManifestSize = 4 << 20

// tagPattern is the tag grammar of the OCI distribution spec, which
// go-containerregistry checks only loosely.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// parseTag checks repo and tag and returns the reference repo:tag on r.
func (r *pusher) parseTag(repo, tag string) (name.Tag, error) {
	if !tagPattern.MatchString(tag) {
		return name.Tag{}, fmt.Errorf("invalid tag %q", tag)
	}
	return name.NewTag(r.Ref(repo, tag), name.Insecure)
}

// pusher holds the push helpers shared by [Registry] and [External].
type pusher struct {
	url    string // "http://127.0.0.1:PORT"
	host   string // "127.0.0.1:PORT"
	auth   authn.Authenticator
	client *http.Client
}

// newPusher returns helpers for the registry at host, using auth.
func newPusher(host string, auth authn.Authenticator) pusher {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = tagConcurrency
	return pusher{url: "http://" + host, host: host, auth: auth, client: &http.Client{Transport: tr}}
}

// Ref returns the reference "127.0.0.1:PORT/repo:tag".
func (r *pusher) Ref(repo, tag string) string {
	return r.host + "/" + repo + ":" + tag
}

// Repo returns the repository reference "127.0.0.1:PORT/repo".
func (r *pusher) Repo(repo string) string {
	return r.host + "/" + repo
}

// IndexOptions describes the multi-arch index [Registry.PushIndex] builds.
// Its zero value is valid.
type IndexOptions struct {
	// Revision, when set, is the org.opencontainers.image.revision
	// annotation on the index and label in each image config.
	Revision string
	// Arches are the images' architectures, each "arch" or "arch/variant"
	// (os is linux). The default is amd64 and arm64.
	Arches []string
	// Seed determines the content: the same options give the same digest,
	// another Seed gives other content.
	Seed int64
}

// PushIndex pushes a multi-arch OCI image index of small deterministic
// images to repo under tag and returns the index digest "sha256:<hex>". It
// fails on an invalid repo, tag or arch, or when the registry refuses
// (e.g. an injected fault).
func (r *pusher) PushIndex(ctx context.Context, repo, tag string, o IndexOptions) (string, error) {
	ref, err := r.parseTag(repo, tag)
	if err != nil {
		return "", fmt.Errorf("registrytest: push index: %w", err)
	}
	idx, err := buildIndex(o)
	if err != nil {
		return "", fmt.Errorf("registrytest: push index %s: %w", ref, err)
	}
	if err := remote.WriteIndex(ref, idx, r.remoteOptions(ctx)...); err != nil {
		return "", fmt.Errorf("registrytest: push index %s: %w", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return "", fmt.Errorf("registrytest: push index %s: %w", ref, err)
	}
	return d.String(), nil
}

// PushIndexes pushes one multi-arch index per entry of revisions (tag →
// revision), each under its tag and annotated with its revision, and
// returns the digest of each tag's index (tag → "sha256:<hex>"). The
// indexes differ only in that annotation: their images, built once from
// o.Seed and o.Arches (o.Revision is ignored, and the image configs carry
// no revision label), are pushed once, then each index costs one PUT, a
// bounded number at a time. Use it for thousands of distinct git-<sha>
// digests; use [Registry.PushIndex] when image labels matter. It fails on an
// invalid repo, tag or arch (before any request) or on the first refused
// request (some tags may then be set).
func (r *pusher) PushIndexes(ctx context.Context, repo string, o IndexOptions, revisions map[string]string) (map[string]string, error) {
	o.Revision = ""
	base, err := buildIndex(o)
	if err != nil {
		return nil, fmt.Errorf("registrytest: push indexes: %w", err)
	}
	type manifest struct {
		tag, digest string
		body        []byte
	}
	manifests := make([]manifest, 0, len(revisions))
	for tag, rev := range revisions {
		if _, err := r.parseTag(repo, tag); err != nil {
			return nil, fmt.Errorf("registrytest: push indexes: %w", err)
		}
		idx := mutate.Annotations(base, map[string]string{RevisionKey: rev}).(v1.ImageIndex)
		body, err := idx.RawManifest()
		if err != nil {
			return nil, fmt.Errorf("registrytest: push indexes: %w", err)
		}
		d, err := idx.Digest()
		if err != nil {
			return nil, fmt.Errorf("registrytest: push indexes: %w", err)
		}
		manifests = append(manifests, manifest{tag, d.String(), body})
	}
	repoRef, err := name.NewRepository(r.Repo(repo), name.Insecure)
	if err != nil {
		return nil, fmt.Errorf("registrytest: push indexes: %w", err)
	}
	// The children go up with the unannotated base index, by digest only.
	baseDigest, err := base.Digest()
	if err != nil {
		return nil, fmt.Errorf("registrytest: push indexes: %w", err)
	}
	if err := remote.WriteIndex(repoRef.Digest(baseDigest.String()), base, r.remoteOptions(ctx)...); err != nil {
		return nil, fmt.Errorf("registrytest: push indexes to %s: %w", repoRef, err)
	}
	client, err := r.pushClient(ctx, repoRef)
	if err != nil {
		return nil, fmt.Errorf("registrytest: push indexes to %s: %w", repoRef, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tagConcurrency)
	digests := make(map[string]string, len(manifests))
	for _, m := range manifests {
		digests[m.tag] = m.digest
		g.Go(func() error {
			if err := putManifest(gctx, client, r.url+"/v2/"+repo+"/manifests/"+m.tag, string(types.OCIImageIndex), m.body); err != nil {
				return fmt.Errorf("registrytest: push index %s:%s: %w", repoRef, m.tag, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return digests, nil
}

// PushImage pushes a single-arch (linux/amd64) OCI image whose content is
// determined by seed to repo under tag, and returns its manifest digest. Use
// it for per-arch tags such as git-<sha>-amd64.
func (r *pusher) PushImage(ctx context.Context, repo, tag string, seed int64) (string, error) {
	ref, err := r.parseTag(repo, tag)
	if err != nil {
		return "", fmt.Errorf("registrytest: push image: %w", err)
	}
	img, err := buildImage(rand.New(rand.NewSource(seed)), v1.Platform{OS: "linux", Architecture: "amd64"}, "")
	if err != nil {
		return "", fmt.Errorf("registrytest: push image %s: %w", ref, err)
	}
	if err := remote.Write(ref, img, r.remoteOptions(ctx)...); err != nil {
		return "", fmt.Errorf("registrytest: push image %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("registrytest: push image %s: %w", ref, err)
	}
	return d.String(), nil
}

// Tag adds tag to the manifest digest (already in repo).
func (r *pusher) Tag(ctx context.Context, repo, digest, tag string) error {
	return r.TagMany(ctx, repo, digest, []string{tag})
}

// TagMany adds every tag in tags to the manifest digest (already in repo):
// it reads the manifest once, then PUTs its bytes under each tag, one
// request per tag, a bounded number at a time. Tags already present are
// moved. It fails on an invalid repo, digest or tag (before any request),
// on an unknown digest, or on the first refused PUT (some tags may then be
// set).
func (r *pusher) TagMany(ctx context.Context, repo, digest string, tags []string) error {
	dref, err := name.NewDigest(r.Repo(repo)+"@"+digest, name.Insecure)
	if err != nil {
		return fmt.Errorf("registrytest: tag: %w", err)
	}
	for _, t := range tags {
		if _, err := r.parseTag(repo, t); err != nil {
			return fmt.Errorf("registrytest: tag: %w", err)
		}
	}
	client, err := r.pushClient(ctx, dref.Context())
	if err != nil {
		return fmt.Errorf("registrytest: tag %s: %w", dref, err)
	}
	body, mediaType, err := getManifest(ctx, client, r.url+"/v2/"+repo+"/manifests/"+digest)
	if err != nil {
		return fmt.Errorf("registrytest: tag %s: %w", dref, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tagConcurrency)
	for _, t := range tags {
		g.Go(func() error {
			if err := putManifest(gctx, client, r.url+"/v2/"+repo+"/manifests/"+t, mediaType, body); err != nil {
				return fmt.Errorf("registrytest: tag %s as %s: %w", dref, t, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// pushClient returns an HTTP client authorized to push to repo.
func (r *pusher) pushClient(ctx context.Context, repo name.Repository) (*http.Client, error) {
	rt, err := transport.NewWithContext(ctx, repo.Registry, r.auth, r.client.Transport,
		[]string{repo.Scope(transport.PushScope)})
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt}, nil
}

// manifestAccept lists the manifest media types TagMany accepts.
var manifestAccept = strings.Join([]string{
	string(types.OCIImageIndex), string(types.OCIManifestSchema1),
	string(types.DockerManifestList), string(types.DockerManifestSchema2),
}, ", ")

// getManifest reads a manifest and its media type.
func getManifest(ctx context.Context, client *http.Client, u string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", manifestAccept)
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, "", err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, "", err
	}
	if len(body) > maxManifestSize {
		return nil, "", errors.New("manifest too large")
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// putManifest uploads a manifest under a tag.
func putManifest(ctx context.Context, client *http.Client, u, mediaType string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mediaType)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusCreated); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// remoteOptions are the go-containerregistry options of the push helpers.
func (r *pusher) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(r.auth),
		remote.WithTransport(r.client.Transport),
	}
}

// buildIndex builds the index o describes.
func buildIndex(o IndexOptions) (v1.ImageIndex, error) {
	arches := o.Arches
	if len(arches) == 0 {
		arches = []string{"amd64", "arm64"}
	}
	rng := rand.New(rand.NewSource(o.Seed))
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, a := range arches {
		p, err := parseArch(a)
		if err != nil {
			return nil, err
		}
		img, err := buildImage(rng, p, o.Revision)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	if o.Revision != "" {
		idx = mutate.Annotations(idx, map[string]string{RevisionKey: o.Revision}).(v1.ImageIndex)
	}
	return idx, nil
}

// parseArch reads "arch" or "arch/variant" as a linux platform.
func parseArch(s string) (v1.Platform, error) {
	arch, variant, _ := strings.Cut(s, "/")
	if arch == "" || strings.Contains(variant, "/") {
		return v1.Platform{}, fmt.Errorf("invalid arch %q: want arch or arch/variant", s)
	}
	return v1.Platform{OS: "linux", Architecture: arch, Variant: variant}, nil
}

// buildImage builds a one-layer OCI image for platform p with content drawn
// from rng, labelled with revision when set.
func buildImage(rng *rand.Rand, p v1.Platform, revision string) (v1.Image, error) {
	layer, err := random.Layer(layerSize, types.OCILayer, random.WithSource(rand.NewSource(rng.Int63())))
	if err != nil {
		return nil, err
	}
	cfg := &v1.ConfigFile{
		Architecture: p.Architecture,
		Variant:      p.Variant,
		OS:           p.OS,
		RootFS:       v1.RootFS{Type: "layers"},
	}
	if revision != "" {
		cfg.Config.Labels = map[string]string{RevisionKey: revision}
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	return mutate.AppendLayers(img, layer)
}
