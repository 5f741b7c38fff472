package freight

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/railyard-gitops/railyard/internal/httpx"
	"golang.org/x/sync/errgroup"
)

// Reason says why an artifact did not become Freight. It is a plain string
// value.
type Reason string

// Reasons reported in [Unpaired.Reason].
const (
	// ReasonNoImage: a commit of the window has no git-<sha> tag yet in
	// one or more of the image repositories (Detail names them).
	ReasonNoImage Reason = "no image yet"
	// ReasonIncomplete: an image whose commit is in the window, waiting for
	// the images of the other repositories.
	ReasonIncomplete Reason = "waiting for companion images"
	// ReasonNotOnBranch: a git-<sha> tag whose commit is not among the
	// discovered commits of the branch (another branch, or older than the
	// window).
	ReasonNotOnBranch Reason = "image for a commit not on the branch"
	// ReasonDecoy: a tag that is not exactly git-<full id> (per-arch
	// suffixes, short or upper-case ids, aliases such as "staging").
	ReasonDecoy Reason = "decoy tag"
	// ReasonGateRefused: a Gate refused the pair (Detail has its words).
	ReasonGateRefused Reason = "refused by gate"
	// ReasonRevisionMismatch: with [WithRevisionCheck], the image's
	// org.opencontainers.image.revision is missing or names another commit.
	ReasonRevisionMismatch Reason = "revision annotation mismatch"
	// ReasonMovedTag: the tag's digest differs from the one in Freight
	// issued before (see [WithIssued]); Err holds the [*MovedTagError].
	ReasonMovedTag Reason = "immutable tag moved"
)

// Unpaired is an artifact that did not become Freight, with the reason. It
// is plain data.
// Commit is zero for an image-only entry and Image is zero for a
// commit-only entry; paired artifacts that were refused carry both.
type Unpaired struct {
	Reason Reason
	Commit Commit
	Image  Image
	Detail string
	Err    error // a *MovedTagError for ReasonMovedTag, else nil
}

// DiscoveryStats describes what one discovery cost. It is plain data.
type DiscoveryStats struct {
	Git              FetchStats
	Commits          int // commits in the window
	Tags             int // tags listed, all repositories
	TagPages         int // tags/list pages read
	Resolved         int // digests resolved (one HEAD each)
	RegistryRequests int // all registry requests made: pages, HEADs, the ping (and go-containerregistry's https probe of a loopback registry), tokens, retries
}

// Discovery is the result of [Warehouse.Discover]: plain data, safe for
// concurrent reads.
type Discovery struct {
	// Freight pairs, newest commit first, each with ID and Origin set and
	// every image's digest resolved.
	Freight []Freight
	// Unpaired lists every artifact that did not become Freight.
	Unpaired []Unpaired
	Stats    DiscoveryStats
}

// Err returns the errors among Unpaired (moved immutable tags, as
// [*MovedTagError]) joined, or nil. Callers that alert on a moved tag check
// it; the rest of the Discovery stays valid either way.
func (d *Discovery) Err() error {
	var errs []error
	for _, u := range d.Unpaired {
		if u.Err != nil {
			errs = append(errs, u.Err)
		}
	}
	return errors.Join(errs...)
}

// kubeName is a Kubernetes object name (DNS-1123 subdomain).
var kubeName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// Warehouse pairs the commits of a [GitSource] with the images of one or
// more [ImageSource]s built from them, like a Kargo Warehouse with the
// criteria imageFrom(IMG).Tag == 'git-' + commitFrom(GIT).ID, but over the
// whole window instead of the newest commit and image only.
//
// A Warehouse is safe for concurrent use.
type Warehouse struct {
	name   string
	git    CommitSource
	images []ImageLister
	byRepo map[string]ImageLister
	o      *options
}

// CommitSource is where a [Warehouse] learns the newest commits of the
// watched branch, newest first. [*GitSource] implements it; another source
// (a cache, a forge's API, a fake in a test) can too. Implementations must
// be safe for concurrent use and should return errors that answer
// [IsRetryable]. A source that also has a Branch() string method names its
// branch in the reasons of unpaired images.
type CommitSource interface {
	History(ctx context.Context) (*History, error)
}

// ImageLister is where a [Warehouse] lists the tags of one image
// repository and resolves the digests of the tags that pair. [*ImageSource]
// implements it; another registry client (an ECR or GCR auth flow, a
// fake) can too. Repository returns the name Freight records
// (Image.RepoURL); Resolve returns the image with its digest. An
// ImageLister used with [WithRevisionCheck] must also implement
// [RevisionReader]. Implementations must be safe for concurrent use.
type ImageLister interface {
	Repository() string
	Tags(ctx context.Context) ([]string, error)
	Resolve(ctx context.Context, tag string) (Image, error)
}

// RevisionReader reads the commit an image records in its
// org.opencontainers.image.revision annotation ([RevisionKey]).
// [*ImageSource] implements it.
type RevisionReader interface {
	Revision(ctx context.Context, tag string) (string, error)
}

// isNil reports a nil interface or a nil pointer inside one.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}

// NewWarehouse returns a Warehouse named name (a Kubernetes object name;
// it becomes Freight.Origin and enters [KargoID]) that requires, for every
// Freight, one image in each of images. git and images are usually a
// [*GitSource] and [*ImageSource]s; any [CommitSource] and [ImageLister]s
// will do. Options: [WithGates],
// [WithIssued], [WithRevisionCheck], [WithConcurrency],
// [WithLogger]. It returns an error wrapping
// [ErrInvalid] for an invalid name, nil or duplicate sources, or a
// rejected option.
func NewWarehouse(name string, git CommitSource, images []ImageLister, opts ...Option) (*Warehouse, error) {
	o, err := newOptionsFor(forWarehouse, opts)
	if err != nil {
		return nil, err
	}
	if !kubeName.MatchString(name) {
		return nil, invalid("warehouse name %q", name)
	}
	if isNil(git) || len(images) == 0 {
		return nil, invalid("a warehouse needs a git source and at least one image source")
	}
	byRepo := make(map[string]ImageLister, len(images))
	for _, s := range images {
		if isNil(s) || byRepo[s.Repository()] != nil {
			return nil, invalid("nil or duplicate image source")
		}
		if _, ok := s.(RevisionReader); o.revision && !ok {
			return nil, invalid("WithRevisionCheck: image source %s reads no revisions", s.Repository())
		}
		byRepo[s.Repository()] = s
	}
	return &Warehouse{name: name, git: git, images: slices.Clone(images), byRepo: byRepo, o: o}, nil
}

// Discover fetches the branch's window and every repository's tags, pairs
// them, resolves digests for the paired tags only, applies the checks and
// gates, and reports both the Freight and every unpaired artifact.
//
// Errors are those of [GitSource.History], [ImageSource.Tags] and
// [ImageSource.Resolve] (a [*RemoteError]), and any gate error that does
// not wrap [ErrRefused]. A moved immutable tag is not an error of Discover:
// see [Discovery.Err].
func (w *Warehouse) Discover(ctx context.Context) (*Discovery, error) {
	// Registry requests count into regStats (internal/httpx counts the
	// requests of the context's counter); History counts its own, and its
	// context gets a counter of its own so they do not mix.
	ctx, regStats := httpx.WithStats(ctx)
	var hist *History
	tagLists := make([][]string, len(w.images))
	pages := make([]int, len(w.images))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		gitCtx, _ := httpx.WithStats(gctx)
		hist, err = w.git.History(gitCtx)
		return err
	})
	for i, src := range w.images {
		g.Go(func() (err error) {
			if is, ok := src.(*ImageSource); ok {
				tagLists[i], pages[i], err = is.tags(gctx)
			} else {
				tagLists[i], err = src.Tags(gctx)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	d := &Discovery{Stats: DiscoveryStats{Git: hist.Stats, Commits: len(hist.Commits)}}
	repos := make([]string, 0, len(w.images))
	var candidates []Image
	for i, src := range w.images {
		repos = append(repos, src.Repository())
		d.Stats.Tags += len(tagLists[i])
		d.Stats.TagPages += pages[i]
		for _, tag := range tagLists[i] {
			img := Image{RepoURL: src.Repository(), Tag: tag}
			if _, ok := w.o.format.CommitFromTag(tag); ok {
				candidates = append(candidates, img)
			} else {
				d.Unpaired = append(d.Unpaired, Unpaired{Reason: ReasonDecoy, Image: img,
					Detail: fmt.Sprintf("not %s followed by a full %s commit id", TagPrefix, w.o.format)})
			}
		}
	}
	pairs := pairAll(slices.Sorted(slices.Values(repos)), candidates, hist.Commits)
	d.Unpaired = append(d.Unpaired, w.unpaired(hist, repos, candidates, pairs)...)

	if err := w.resolve(ctx, pairs); err != nil {
		return nil, err
	}
	d.Stats.Resolved = len(pairs) * len(repos)
	kept, refused, err := w.check(ctx, pairs)
	if err != nil {
		return nil, err
	}
	d.Freight = kept
	d.Unpaired = append(d.Unpaired, refused...)
	d.Stats.RegistryRequests = int(regStats.Requests.Load())
	w.o.logger.InfoContext(ctx, "freight: discovered",
		"warehouse", w.name, "freight", len(d.Freight), "unpaired", len(d.Unpaired),
		"commits", d.Stats.Commits, "tags", d.Stats.Tags, "strategy", d.Stats.Git.Strategy)
	return d, nil
}

// unpaired explains the commits and candidate images that did not pair.
func (w *Warehouse) unpaired(hist *History, repos []string, candidates []Image, pairs []Freight) []Unpaired {
	paired := make(map[string]bool, len(pairs))
	for _, f := range pairs {
		paired[f.Commit.ID] = true
	}
	inWindow := make(map[string]bool, len(hist.Commits))
	for _, c := range hist.Commits {
		inWindow[c.ID] = true
	}
	have := make(map[string]map[string]bool, len(candidates)) // commit id -> repos
	for _, img := range candidates {
		id := strings.TrimPrefix(img.Tag, TagPrefix)
		if have[id] == nil {
			have[id] = map[string]bool{}
		}
		have[id][img.RepoURL] = true
	}
	var out []Unpaired
	for _, c := range hist.Commits {
		if paired[c.ID] {
			continue
		}
		var missing []string
		for _, r := range repos {
			if !have[c.ID][r] {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			out = append(out, Unpaired{Reason: ReasonNoImage, Commit: c,
				Detail: "no " + TagPrefix + c.ID + " tag in " + strings.Join(missing, ", ")})
		}
	}
	for _, img := range candidates {
		id := strings.TrimPrefix(img.Tag, TagPrefix)
		switch {
		case paired[id]:
		case inWindow[id]:
			out = append(out, Unpaired{Reason: ReasonIncomplete, Image: img,
				Detail: "commit " + id + " lacks images in other repositories"})
		default:
			out = append(out, Unpaired{Reason: ReasonNotOnBranch, Image: img,
				Detail: fmt.Sprintf("commit %s is not among the %d discovered commits of %s", id, len(hist.Commits), w.branch())})
		}
	}
	return out
}

// branch names the watched branch, when the source tells it.
func (w *Warehouse) branch() string {
	if b, ok := w.git.(interface{ Branch() string }); ok {
		return b.Branch()
	}
	return "the branch"
}

// resolve fills in the digest of every image of pairs, a bounded number of
// HEAD requests at a time.
func (w *Warehouse) resolve(ctx context.Context, pairs []Freight) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.o.concurrency)
	for i := range pairs {
		for j := range pairs[i].Images {
			img := &pairs[i].Images[j]
			g.Go(func() error {
				resolved, err := w.byRepo[img.RepoURL].Resolve(gctx, img.Tag)
				img.Digest = resolved.Digest
				return err
			})
		}
	}
	return g.Wait()
}

// check applies the revision check, the issued-Freight check and the
// gates, in that order, and names each Freight.
func (w *Warehouse) check(ctx context.Context, pairs []Freight) (kept []Freight, refused []Unpaired, err error) {
	type issuedImage struct{ digest, freight string }
	issued := map[Image]issuedImage{}
	for _, f := range w.o.issued {
		for _, img := range f.Images {
			issued[Image{RepoURL: img.RepoURL, Tag: img.Tag}] = issuedImage{img.Digest, f.ID}
		}
	}
next:
	for _, f := range pairs {
		for _, img := range f.Images {
			if prev, ok := issued[Image{RepoURL: img.RepoURL, Tag: img.Tag}]; ok && prev.digest != img.Digest {
				refused = append(refused, Unpaired{Reason: ReasonMovedTag, Commit: f.Commit, Image: img,
					Detail: "was " + prev.digest,
					Err:    &MovedTagError{Image: img, Previous: prev.digest, Freight: prev.freight}})
				continue next
			}
			if !w.o.revision {
				continue
			}
			rev, err := w.byRepo[img.RepoURL].(RevisionReader).Revision(ctx, img.Tag)
			if err != nil {
				return nil, nil, err
			}
			if rev != f.Commit.ID {
				refused = append(refused, Unpaired{Reason: ReasonRevisionMismatch, Commit: f.Commit, Image: img,
					Detail: fmt.Sprintf("%s is %q", RevisionKey, rev)})
				continue next
			}
		}
		f.Origin = w.name
		f.ID = KargoID(w.name, f)
		for _, gate := range w.o.gates {
			err := gate.Check(ctx, f)
			if errors.Is(err, ErrRefused) {
				refused = append(refused, Unpaired{Reason: ReasonGateRefused, Commit: f.Commit, Detail: err.Error()})
				continue next
			}
			if err != nil {
				return nil, nil, fmt.Errorf("freight: gate on %s: %w", f.Commit.ID, err)
			}
		}
		kept = append(kept, f)
	}
	return kept, refused, nil
}
