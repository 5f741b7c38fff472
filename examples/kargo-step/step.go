package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/render"
	"github.com/railyard-gitops/railyard/sparse"
)

// ErrInvalidConfig means a step's configuration was rejected before any I/O.
// Retrying with the same configuration cannot help.
var ErrInvalidConfig = errors.New("kargo-step: invalid config")

// Config is the step's configuration, as a Stage's promotion template would
// pass it (the JSON keys follow Kargo's built-in steps where one exists; see
// README.md for the mapping). Its zero value is invalid.
type Config struct {
	// RepoURL and Commit: the monorepo and the promoted commit, e.g.
	// ${{ commitFrom(vars.repoURL).ID }} (git-clone repoURL and
	// checkout[].commit).
	RepoURL string `json:"repoURL"`
	Commit  string `json:"commit"`
	// Branch optionally names the branch holding Commit, for servers that
	// refuse wants of exact commits (git-clone checkout[].branch).
	Branch string `json:"branch,omitempty"`
	// Paths is the deploy package (git-clone checkout[].sparse).
	Paths []string `json:"paths"`
	// Image is the promoted image, e.g. from imageFrom(...)
	// (kustomize-set-image images[]).
	Image Image `json:"image"`
	// GitOpsRepoURL is the GitOps repository: policy on Policy (default
	// "main"), rendered output on stage/<deployment>.
	GitOpsRepoURL string `json:"gitopsRepoURL"`
	Policy        string `json:"policyBranch,omitempty"`
	// App and Deployment select apps/<app>/deployments/<deployment>/.
	App        string `json:"app"`
	Deployment string `json:"deployment"`
	// Message is the commit message (git-commit message); a default names
	// the commit and the deployment.
	Message string `json:"message,omitempty"`
	// FreightID is recorded as provenance, e.g. ${{ ctx.targetFreight.name }}.
	FreightID string `json:"freightID,omitempty"`
	// Review sends the render through a pull request against the stage
	// branch instead of committing to it (git-push generateTargetBranch,
	// git-open-pr with createTargetBranch); WaitForMerge then blocks until
	// it is merged (git-wait-for-pr).
	Review       bool `json:"review,omitempty"`
	WaitForMerge bool `json:"waitForMerge,omitempty"`
}

// Image is one kustomize-set-image entry.
type Image struct {
	Name    string `json:"image"`   // the name the manifests use, e.g. code-dot-org
	RepoURL string `json:"newName"` // the registry repository, e.g. ghcr.io/org/app
	Tag     string `json:"tag"`     // must be git-<Commit>
	Digest  string `json:"digest"`  // sha256:...
}

// Validate checks c the way Kargo validates a step's config against its
// schema, before any I/O: every error wraps ErrInvalidConfig.
func (c Config) Validate() error {
	var problems []string
	need := func(ok bool, format string, args ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for key, url := range map[string]string{"repoURL": c.RepoURL, "gitopsRepoURL": c.GitOpsRepoURL} {
		need(strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://"), "%s must be an http(s) URL", key)
	}
	_, err := freight.TagForCommit(c.Commit)
	need(err == nil, "commit must be a full lowercase commit id")
	need(len(c.Paths) > 0, "paths must name the deploy package")
	for _, p := range c.Paths {
		need(fs.ValidPath(p) && p != ".", "path %q must be a clean relative path", p)
	}
	need(c.Image.Name != "" && c.Image.RepoURL != "", "image needs image and newName")
	need(freight.Matches(freight.Image{Tag: c.Image.Tag}, freight.Commit{ID: c.Commit}), "image tag must be git-<commit>")
	need(strings.HasPrefix(c.Image.Digest, "sha256:"), "image digest must be sha256:<hex>")
	for key, elem := range map[string]string{"app": c.App, "deployment": c.Deployment} {
		need(elem != "" && fs.ValidPath(elem) && !strings.Contains(elem, "/") && elem != ".", "%s must be one path element", key)
	}
	need(!c.WaitForMerge || c.Review, "waitForMerge needs review")
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	return nil
}

// Output is what the step reports back to Kargo, under the names Kargo's
// steps use for the same values.
type Output struct {
	Branch      string // git-push branch: the stage branch, or the review head
	Commit      string // git-push commit; "" when a review found nothing to change
	Changed     bool   // false: the stage already held this render
	PR          *gitops.PullRequest
	MergeCommit string // git-wait-for-pr: the merge commit
}

// Step is a promotion step runner backed by railyard. Its fields are the
// dependencies a Kargo extension injects once (a client with credentials
// and proxies, a forge); configuration comes per call. A Step is safe for
// concurrent use if its dependencies are.
type Step struct {
	// Client carries every git request; nil means http.DefaultClient.
	Client *http.Client
	// Token authenticates git requests, if set.
	Token string
	// PullRequests is the forge for review deployments.
	PullRequests gitops.PullRequests
}

// Run promotes cfg's commit and image to cfg's deployment: sparse-fetch the
// deploy package at the commit, render it with the deployment's policy from
// the GitOps repository, then commit it to the stage branch or propose it.
// Errors wrap ErrInvalidConfig or the railyard packages' errors (see their
// documentation for which a retry can help).
func (s *Step) Run(ctx context.Context, cfg Config) (Output, error) {
	if err := cfg.Validate(); err != nil {
		return Output{}, err
	}
	if cfg.Review && s.PullRequests == nil {
		return Output{}, fmt.Errorf("%w: review needs a forge", ErrInvalidConfig)
	}
	var sparseOpts []sparse.Option
	gitopsOpts := []gitops.Option{gitops.WithCreateTarget(true)}
	if s.Client != nil {
		sparseOpts = append(sparseOpts, sparse.WithHTTPClient(s.Client))
		gitopsOpts = append(gitopsOpts, gitops.WithHTTPClient(s.Client))
	}
	if s.Token != "" {
		sparseOpts = append(sparseOpts, sparse.WithBasicAuth("x-access-token", s.Token))
		gitopsOpts = append(gitopsOpts, gitops.WithBasicAuth("x-access-token", s.Token))
	}
	policyBranch := cmp.Or(cfg.Policy, "main")
	appDir := path.Join("apps", cfg.App)

	// git-clone (GitOps repo): the policy, pinned to one commit.
	policyCommit, err := sparse.Resolve(ctx, cfg.GitOpsRepoURL, policyBranch, sparseOpts...)
	if err != nil {
		return Output{}, err
	}
	policy, err := sparse.Fetch(ctx, sparse.Request{URL: cfg.GitOpsRepoURL, Commit: policyCommit, Paths: []string{appDir}}, sparseOpts...)
	if err != nil {
		return Output{}, err
	}
	dep, err := render.LoadDeployment(policy.FS, path.Join(appDir, "deployments", cfg.Deployment, "deployment.yaml"))
	if err != nil {
		return Output{}, err
	}

	// git-clone (monorepo, sparse): only the deploy package, at the commit.
	src, err := sparse.Fetch(ctx, sparse.Request{URL: cfg.RepoURL, Commit: cfg.Commit, Branch: cfg.Branch, Paths: cfg.Paths}, sparseOpts...)
	if err != nil {
		return Output{}, err
	}

	// kustomize-set-image + kustomize-build, in memory.
	resources := make([]string, len(cfg.Paths))
	for i, p := range cfg.Paths {
		resources[i] = path.Join("../../src", p)
	}
	res, err := render.Build(ctx, []render.Mount{{At: "src", FS: src.FS}, {At: "gitops", FS: policy.FS}}, render.Wrapper{
		Dir:        "render/deploy",
		Template:   path.Join("gitops", appDir, "kargo/templates/deploy/kustomization.yaml"),
		Resources:  resources,
		Components: []string{path.Join("../../gitops", appDir, "envTypes", dep.EnvType)},
		Namespace:  dep.Namespace,
		Images:     []render.Image{{Name: cfg.Image.Name, NewName: cfg.Image.RepoURL, Tag: cfg.Image.Tag, Digest: cfg.Image.Digest}},
	})
	if err != nil {
		return Output{}, err
	}

	// git-commit + git-push, without a clone.
	repo, err := gitops.NewRepo(cfg.GitOpsRepoURL, gitopsOpts...)
	if err != nil {
		return Output{}, err
	}
	change := gitops.Change{
		Branch:  dep.Branch,
		Dir:     path.Join(appDir, "deployments", cfg.Deployment, "deploy"),
		Files:   res.Files(),
		Message: cmp.Or(cfg.Message, fmt.Sprintf("Promote %s to %s", cfg.Commit[:12], cfg.Deployment)),
		Provenance: &gitops.Provenance{
			SourceRepo: cfg.RepoURL, SourceCommit: cfg.Commit, FreightID: cfg.FreightID, PolicyCommit: policyCommit,
			Images: []string{cfg.Image.RepoURL + ":" + cfg.Image.Tag + "@" + cfg.Image.Digest},
		},
	}
	if !cfg.Review {
		r, err := repo.Commit(ctx, change)
		return Output{Branch: r.Branch, Commit: r.Commit, Changed: r.Changed}, err
	}
	return s.review(ctx, cfg, repo, change)
}

// review is git-push (generateTargetBranch), git-open-pr (createTargetBranch)
// and, if asked, git-wait-for-pr.
func (s *Step) review(ctx context.Context, cfg Config, repo *gitops.Repo, change gitops.Change) (Output, error) {
	target := change.Branch
	change.Branch = ""
	p, err := repo.Propose(ctx, change, target, s.PullRequests)
	if err != nil {
		return Output{}, err
	}
	if !p.Changed { // Kargo: the step is Skipped
		return Output{Branch: target}, nil
	}
	pr := p.PullRequest
	out := Output{Branch: pr.Head, Changed: true, PR: pr}
	if cfg.WaitForMerge {
		out.MergeCommit, err = gitops.WaitForMerge(ctx, s.PullRequests, pr, gitops.WithPollInterval(50*time.Millisecond, 5*time.Second))
	}
	return out, err
}
