package freight

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Regular expressions for a Kargo image subscription: only git-<sha> tags
// are candidates, and per-architecture variants are ignored even if a future
// allow expression were looser.
const (
	AllowTagsRegex  = `^git-[0-9a-f]{40}$`
	IgnoreTagsRegex = `^git-[0-9a-f]{40}-.+$`
)

// CriteriaExpression returns the expr-lang expression for a Kargo
// Warehouse's freightCreationCriteria that requires the newest image of each
// of imageRepos to carry the tag "git-" + the newest commit of gitURL, e.g.
//
//	imageFrom('ghcr.io/org/app').Tag == 'git-' + commitFrom('https://github.com/org/repo.git').ID
//
// Kargo evaluates it on the newest image and the newest commit only, so it
// blocks while a build lags; [Warehouse] pairs over the whole window instead.
// Quotes and backslashes in the URLs are escaped.
func CriteriaExpression(imageRepos []string, gitURL string) string {
	commit := "commitFrom(" + exprString(gitURL) + ").ID"
	terms := make([]string, 0, len(imageRepos))
	for _, repo := range imageRepos {
		terms = append(terms, "imageFrom("+exprString(repo)+").Tag == 'git-' + "+commit)
	}
	return strings.Join(terms, " && ")
}

// exprString quotes s as a single-quoted expr-lang string literal.
func exprString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// KargoWarehouse describes a Kargo Warehouse for [WarehouseYAML]. Zero
// fields get the defaults documented on each field. It is a plain value,
// safe for concurrent use.
type KargoWarehouse struct {
	Name    string // Warehouse name (required)
	Project string // Kargo project, the namespace (required)
	GitURL  string // watched repository (required)
	Branch  string // watched branch (required)
	// ImageRepos are the image repositories built from each commit
	// (at least one).
	ImageRepos []string
	// IncludePaths limits discovery to commits touching these paths.
	IncludePaths []string
	// DiscoveryLimit bounds commits and tags Kargo considers, 1 to 100
	// (Kargo's schema); 0 means 20, Kargo's default.
	DiscoveryLimit int
	// Interval between discoveries, in whole seconds; 0 means 5m.
	Interval time.Duration
	// Manual selects freightCreationPolicy Manual: Kargo discovers but
	// creates no Freight; the caller applies [FreightManifest] output.
	Manual bool
}

// WarehouseYAML renders a Warehouse manifest that works on Kargo 1.9 and
// later for the git-<sha> pattern: a NewestFromBranch git subscription, a
// NewestBuild image subscription per repository with [AllowTagsRegex] and
// [IgnoreTagsRegex] (the default SemVer strategy silently discovers nothing
// for git-<sha> tags), and the [CriteriaExpression] unless Manual is set.
// It returns an error wrapping [ErrInvalid] when a required field is
// missing or a value is outside what Kargo accepts.
func WarehouseYAML(w KargoWarehouse) ([]byte, error) {
	if w.Name == "" || w.Project == "" || w.GitURL == "" || w.Branch == "" || len(w.ImageRepos) == 0 {
		return nil, fmt.Errorf("%w: kargo warehouse needs name, project, git URL, branch and image repositories", ErrInvalid)
	}
	if w.DiscoveryLimit < 0 || w.DiscoveryLimit > 100 || w.Interval < 0 || w.Interval%time.Second != 0 {
		return nil, fmt.Errorf("%w: kargo warehouse discovery limit %d (1..100) or interval %s (whole seconds)",
			ErrInvalid, w.DiscoveryLimit, w.Interval)
	}
	limit := w.DiscoveryLimit
	if limit == 0 {
		limit = 20
	}
	interval := w.Interval
	if interval == 0 {
		interval = 5 * time.Minute
	}
	s := kargoWarehouseSpec{Interval: interval.String(), FreightCreationPolicy: "Automatic"}
	s.Subscriptions = append(s.Subscriptions, kargoSubscription{Git: &kargoGitSub{
		RepoURL: w.GitURL, Branch: w.Branch, CommitSelectionStrategy: "NewestFromBranch",
		DiscoveryLimit: limit, IncludePaths: w.IncludePaths,
	}})
	for _, repo := range w.ImageRepos {
		s.Subscriptions = append(s.Subscriptions, kargoSubscription{Image: &kargoImageSub{
			RepoURL: repo, ImageSelectionStrategy: "NewestBuild",
			AllowTagsRegexes: []string{AllowTagsRegex}, IgnoreTagsRegexes: []string{IgnoreTagsRegex},
			DiscoveryLimit: limit,
		}})
	}
	if w.Manual {
		s.FreightCreationPolicy = "Manual"
	} else {
		s.FreightCreationCriteria = &kargoCriteria{Expression: CriteriaExpression(w.ImageRepos, w.GitURL)}
	}
	return encodeKargo(kargoResource{
		Kind:     "Warehouse",
		Metadata: kargoMeta{Name: w.Name, Namespace: w.Project},
		Spec:     &s,
	})
}

// FreightManifest renders a Kargo Freight resource for f in project, named
// [KargoID](origin, f) with origin the Warehouse name, for Warehouses with
// freightCreationPolicy Manual. Every image must carry its digest; otherwise,
// or when project or origin is empty or f.Commit.ID is not a full id, it
// returns an error wrapping [ErrInvalid].
func FreightManifest(project, origin string, f Freight) ([]byte, error) {
	if project == "" || origin == "" || strings.Contains(origin, "/") {
		return nil, fmt.Errorf("%w: freight manifest needs a project and a warehouse name", ErrInvalid)
	}
	if !isFullID(f.Commit.ID) {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, &CommitIDError{ID: f.Commit.ID, format: formatSHA1})
	}
	images := make([]kargoImage, 0, len(f.Images))
	for _, img := range f.Images {
		if img.Digest == "" {
			return nil, fmt.Errorf("%w: image %s:%s has no digest", ErrInvalid, img.RepoURL, img.Tag)
		}
		images = append(images, kargoImage{RepoURL: img.RepoURL, Tag: img.Tag, Digest: img.Digest})
	}
	c := f.Commit
	return encodeKargo(kargoResource{
		Kind:     "Freight",
		Metadata: kargoMeta{Name: KargoID(origin, f), Namespace: project},
		Origin:   &kargoOrigin{Kind: "Warehouse", Name: origin},
		Commits:  []kargoCommit{{RepoURL: c.RepoURL, ID: c.ID, Branch: c.Branch, Message: c.Subject, Author: c.Author}},
		Images:   images,
	})
}

// kargoResource is the subset of a kargo.akuity.io/v1alpha1 resource that
// WarehouseYAML and FreightManifest render, in Kargo's field order.
type kargoResource struct {
	APIVersion string              `yaml:"apiVersion"`
	Kind       string              `yaml:"kind"`
	Metadata   kargoMeta           `yaml:"metadata"`
	Origin     *kargoOrigin        `yaml:"origin,omitempty"`
	Commits    []kargoCommit       `yaml:"commits,omitempty"`
	Images     []kargoImage        `yaml:"images,omitempty"`
	Spec       *kargoWarehouseSpec `yaml:"spec,omitempty"`
}

type kargoMeta struct {
	Name      string `yaml:"name"`
	Namespace string `yaml:"namespace"`
}

type kargoOrigin struct {
	Kind string `yaml:"kind"`
	Name string `yaml:"name"`
}

type kargoCommit struct {
	RepoURL string `yaml:"repoURL"`
	ID      string `yaml:"id"`
	Branch  string `yaml:"branch,omitempty"`
	Message string `yaml:"message,omitempty"`
	Author  string `yaml:"author,omitempty"`
}

type kargoImage struct {
	RepoURL string `yaml:"repoURL"`
	Tag     string `yaml:"tag"`
	Digest  string `yaml:"digest"`
}

type kargoWarehouseSpec struct {
	Interval                string              `yaml:"interval"`
	FreightCreationPolicy   string              `yaml:"freightCreationPolicy"`
	Subscriptions           []kargoSubscription `yaml:"subscriptions"`
	FreightCreationCriteria *kargoCriteria      `yaml:"freightCreationCriteria,omitempty"`
}

type kargoSubscription struct {
	Git   *kargoGitSub   `yaml:"git,omitempty"`
	Image *kargoImageSub `yaml:"image,omitempty"`
}

type kargoGitSub struct {
	RepoURL                 string   `yaml:"repoURL"`
	Branch                  string   `yaml:"branch"`
	CommitSelectionStrategy string   `yaml:"commitSelectionStrategy"`
	DiscoveryLimit          int      `yaml:"discoveryLimit"`
	IncludePaths            []string `yaml:"includePaths,omitempty"`
}

type kargoImageSub struct {
	RepoURL                string   `yaml:"repoURL"`
	ImageSelectionStrategy string   `yaml:"imageSelectionStrategy"`
	AllowTagsRegexes       []string `yaml:"allowTagsRegexes"`
	IgnoreTagsRegexes      []string `yaml:"ignoreTagsRegexes"`
	DiscoveryLimit         int      `yaml:"discoveryLimit"`
}

type kargoCriteria struct {
	Expression string `yaml:"expression"`
}

// encodeKargo renders r as YAML with two-space indentation.
func encodeKargo(r kargoResource) ([]byte, error) {
	r.APIVersion = "kargo.akuity.io/v1alpha1"
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("freight: encode %s %s: %w", r.Kind, r.Metadata.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("freight: encode %s %s: %w", r.Kind, r.Metadata.Name, err)
	}
	return buf.Bytes(), nil
}
