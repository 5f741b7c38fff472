package kargo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	kargoapi "github.com/akuity/kargo/api/v1alpha1"
	"github.com/akuity/kargo/pkg/credentials"
	"github.com/akuity/kargo/pkg/subscription"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/kargo/internal/railyardapi"
)

// SubscriptionType is the key of a Warehouse subscription served by
// railyard's pairing subscriber:
//
//	spec:
//	  freightCreationPolicy: Automatic
//	  subscriptions:
//	    - railyard-pairs:
//	        name: app
//	        discoveryLimit: 20
//	        config:
//	          repoURL: https://github.com/org/monorepo.git
//	          branch: main
//	          imageRepoURL: ghcr.io/org/app
//	          includePaths: [k8s/kustomize]   # optional
//
// The subscriber discovers the branch's newest discoveryLimit commits and
// the image repository's tags, and pairs them over the whole window
// (freight.Warehouse): an image git-<sha> pairs with commit <sha> only.
// Each pair is one generic artifact, newest commit first, so Kargo's
// automatic Freight creation (which takes the first artifact of each
// subscription) creates Freight for the newest commit that has an image —
// not for the newest commit, whose build may lag. A Promotion reads the
// pair with artifactFrom('app').Metadata: commit {repoURL, id, branch,
// subject, author, time} and image {repoURL, tag, digest}; Version is
// "git-<sha>@<digest>".
//
// What Kargo v1.11's API does not allow, and why the pair is a generic
// artifact: a subscriber sees one subscription and returns one result, and
// Kargo's Freight admission webhook accepts commits and images in Freight
// only for Warehouse git and image subscriptions — not for commits or
// images a generic subscriber returns. So the Freight holds the pair under
// "artifacts", commitFrom()/imageFrom() do not find it (use artifactFrom),
// and its name is Kargo's ID of that artifact, not freight.KargoID of the
// commit and image. Freight with real commits and images, named as Kargo
// names them, is what freightCreationPolicy: Manual with
// freight.FreightManifest gives (see README.md).
const SubscriptionType = "railyard-pairs"

// ArtifactType is the ArtifactType of the subscriber's artifacts.
const ArtifactType = "application/vnd.railyard.pair.v1+json"

// PairConfig is the config of a railyard-pairs subscription.
type PairConfig struct {
	// RepoURL is the monorepo, an http(s) URL without credentials.
	RepoURL string `json:"repoURL"`
	// Branch is the watched branch; "" means "main".
	Branch string `json:"branch,omitempty"`
	// ImageRepoURL is the image repository, e.g. ghcr.io/org/app.
	ImageRepoURL string `json:"imageRepoURL"`
	// IncludePaths keeps only commits that changed one of these paths.
	IncludePaths []string `json:"includePaths,omitempty"`
}

// SubscriberOption configures the subscriber.
type SubscriberOption interface {
	apply(*subscriberOptions) error
}

type subscriberOptions struct {
	client *http.Client
	logger *slog.Logger
}

type subscriberOptionFunc func(*subscriberOptions) error

func (f subscriberOptionFunc) apply(o *subscriberOptions) error { return f(o) }

// WithDiscoveryHTTPClient makes the subscriber's git and registry
// requests through c's Transport (a proxy, custom CAs). The default is a
// client on http.DefaultTransport.
func WithDiscoveryHTTPClient(c *http.Client) SubscriberOption {
	return subscriberOptionFunc(func(o *subscriberOptions) error {
		if c == nil {
			return errors.New("kargo: WithDiscoveryHTTPClient(nil)")
		}
		o.client = c
		return nil
	})
}

// WithDiscoveryLogger sets the subscriber's logger: Debug for round trips,
// one Info line per discovery. The default discards logs.
func WithDiscoveryLogger(l *slog.Logger) SubscriberOption {
	return subscriberOptionFunc(func(o *subscriberOptions) error {
		if l == nil {
			return errors.New("kargo: WithDiscoveryLogger(nil)")
		}
		o.logger = l
		return nil
	})
}

// RegisterSubscriber registers the railyard-pairs subscriber in Kargo's
// subscription.DefaultSubscriberRegistry, which Kargo's Warehouse
// controller and Warehouse webhook use. Call it once, from the main
// package of the Kargo build, before they start.
func RegisterSubscriber(opts ...SubscriberOption) error {
	return RegisterSubscriberIn(subscription.DefaultSubscriberRegistry, opts...)
}

// RegisterSubscriberIn is [RegisterSubscriber] for another registry.
func RegisterSubscriberIn(reg subscription.SubscriberRegistry, opts ...SubscriberOption) error {
	o := &subscriberOptions{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(o); err != nil {
			return err
		}
	}
	return reg.Register(subscription.SubscriberRegistration{
		Predicate: func(_ context.Context, sub kargoapi.RepoSubscription) (bool, error) {
			return sub.Subscription != nil && sub.Subscription.SubscriptionType == SubscriptionType, nil
		},
		Value: func(_ context.Context, db credentials.Database) (subscription.Subscriber, error) {
			return &pairSubscriber{db: db, opts: o}, nil
		},
	})
}

type pairSubscriber struct {
	db   credentials.Database // nil in Kargo's webhook, which only validates
	opts *subscriberOptions
}

// ApplySubscriptionDefaults implements subscription.Subscriber.
func (p *pairSubscriber) ApplySubscriptionDefaults(_ context.Context, sub *kargoapi.RepoSubscription) error {
	if sub.Subscription != nil && sub.Subscription.DiscoveryLimit == 0 {
		sub.Subscription.DiscoveryLimit = 20
	}
	return nil
}

// ValidateSubscription implements subscription.Subscriber.
func (p *pairSubscriber) ValidateSubscription(_ context.Context, f *field.Path, sub kargoapi.RepoSubscription) field.ErrorList {
	if sub.Subscription == nil {
		return field.ErrorList{field.Required(f, "a "+SubscriptionType+" subscription")}
	}
	_, errs := parsePairConfig(f.Child("config"), sub.Subscription.Config)
	return errs
}

func parsePairConfig(f *field.Path, raw *apiextensionsv1.JSON) (PairConfig, field.ErrorList) {
	var c PairConfig
	if raw == nil {
		return c, field.ErrorList{field.Required(f, "repoURL and imageRepoURL are required")}
	}
	dec := json.NewDecoder(strings.NewReader(string(raw.Raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, field.ErrorList{field.Invalid(f, "", "must be an object with repoURL, branch, imageRepoURL and includePaths")}
	}
	var errs field.ErrorList
	if _, err := freight.NewGitSource(c.RepoURL, branchOr(c.Branch), freight.WithIncludePaths(c.IncludePaths...)); err != nil || strings.Contains(c.RepoURL, "@") {
		errs = append(errs, field.Invalid(f.Child("repoURL"), "", "must be an http(s) URL without credentials, with a valid branch and include paths"))
	}
	if _, err := freight.NewImageSource(c.ImageRepoURL); err != nil || c.ImageRepoURL == "" {
		errs = append(errs, field.Invalid(f.Child("imageRepoURL"), c.ImageRepoURL, "must be an image repository without tag or digest"))
	}
	return c, errs
}

func branchOr(b string) string {
	if b == "" {
		return "main"
	}
	return b
}

// DiscoverArtifacts implements subscription.Subscriber: it returns a
// kargoapi.DiscoveryResult holding one artifact per pair, newest commit
// first. Credentials are the project's git credentials for RepoURL and
// image credentials for ImageRepoURL from Kargo's database.
func (p *pairSubscriber) DiscoverArtifacts(ctx context.Context, project string, sub kargoapi.RepoSubscription, _ any) (any, error) {
	if sub.Subscription == nil {
		return nil, fmt.Errorf("%s: not a %s subscription", SubscriptionType, SubscriptionType)
	}
	cfg, errs := parsePairConfig(field.NewPath("config"), sub.Subscription.Config)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s %q: %w", SubscriptionType, sub.Subscription.Name, errs.ToAggregate())
	}
	env := railyardapi.Env{Client: p.opts.client, Logger: p.opts.logger}
	var gitCreds, imageCreds railyardapi.Creds
	if p.db != nil {
		c, err := p.db.Get(ctx, project, credentials.TypeGit, cfg.RepoURL)
		if err != nil {
			return nil, fmt.Errorf("%s: git credentials: %w", SubscriptionType, err)
		}
		if c != nil {
			gitCreds = railyardapi.Creds{Username: c.Username, Password: c.Password}
		}
		if c, err = p.db.Get(ctx, project, credentials.TypeImage, cfg.ImageRepoURL); err != nil {
			return nil, fmt.Errorf("%s: image credentials: %w", SubscriptionType, err)
		}
		if c != nil {
			imageCreds = railyardapi.Creds{Username: c.Username, Password: c.Password}
		}
	}
	gitOpts := railyardapi.FreightGitOptions(env, limit(sub.Subscription.DiscoveryLimit), cfg.IncludePaths, gitCreds)
	imageOpts := railyardapi.FreightImageOptions(env, imageCreds)
	git, err := freight.NewGitSource(cfg.RepoURL, branchOr(cfg.Branch), gitOpts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SubscriptionType, err)
	}
	images, err := freight.NewImageSource(cfg.ImageRepoURL, imageOpts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SubscriptionType, err)
	}
	w, err := freight.NewWarehouse(sub.Subscription.Name, git, []freight.ImageLister{images})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SubscriptionType, err)
	}
	d, err := w.Discover(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", SubscriptionType, sub.Subscription.Name, err)
	}
	res := kargoapi.DiscoveryResult{SubscriptionName: sub.Subscription.Name, ArtifactReferences: []kargoapi.ArtifactReference{}}
	for _, f := range d.Freight {
		if len(f.Images) != 1 {
			continue
		}
		ref, err := pairArtifact(sub.Subscription.Name, f)
		if err != nil {
			return nil, err
		}
		res.ArtifactReferences = append(res.ArtifactReferences, ref)
	}
	return res, nil
}

func limit(n int32) int {
	if n <= 0 {
		return 20
	}
	return int(n)
}

// pairArtifact is one pair as a Kargo artifact.
func pairArtifact(subName string, f freight.Freight) (kargoapi.ArtifactReference, error) {
	img := f.Images[0]
	meta, err := json.Marshal(map[string]any{
		"commit": map[string]any{
			"repoURL": f.Commit.RepoURL, "id": f.Commit.ID, "branch": f.Commit.Branch,
			"subject": f.Commit.Subject, "author": f.Commit.Author, "time": f.Commit.Time.UTC().Format(time.RFC3339),
		},
		"image": map[string]any{"repoURL": img.RepoURL, "tag": img.Tag, "digest": img.Digest},
	})
	if err != nil {
		return kargoapi.ArtifactReference{}, fmt.Errorf("%s: %w", SubscriptionType, err)
	}
	return kargoapi.ArtifactReference{
		ArtifactType:     ArtifactType,
		SubscriptionName: subName,
		Version:          img.Tag + "@" + img.Digest,
		Metadata:         &apiextensionsv1.JSON{Raw: meta},
	}, nil
}
