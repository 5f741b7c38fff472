package renderbranch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/kargo/internal/railyardapi"
	"github.com/railyard-gitops/railyard/render"
	"github.com/railyard-gitops/railyard/sparse"
)

// Runner runs the step. Its dependencies are set once with options;
// configuration comes per call. A Runner is safe for concurrent use.
type Runner struct{ o *options }

// New returns a Runner. It does no I/O; it fails with [ErrInvalidConfig]
// on an invalid option.
func New(opts ...Option) (*Runner, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Runner{o: o}, nil
}

// Run renders cfg's commit and image for cfg's deployment and delivers the
// result: a commit on the deployment's stage branch, or, with cfg.Review,
// a pull request against it (the stage branch is created when missing).
// It does not wait for the pull request: the Output reports it open, and
// [Runner.CheckMerge] asks again later.
//
// Run is idempotent: the same cfg again finds the stage branch already
// holding the render (Output.Changed false, nothing pushed), or the same
// head branch and the same open pull request (reused, its body updated),
// or, once merged, nothing left to review.
//
// Errors wrap [ErrInvalidConfig] (before any I/O, or for an empty render),
// the errors of sparse (fetching the policy or the deploy package), render
// (LoadDeployment and Build), gitops (Commit, Propose) and of the forge, or
// ctx's error. [IsRetryable] tells whether running again may help.
func (r *Runner) Run(ctx context.Context, cfg Config) (Output, error) {
	if err := cfg.Validate(); err != nil {
		return Output{}, err
	}
	log := r.o.logger.With("deployment", cfg.Deployment, "commit", cfg.Commit)
	monoCreds, err := r.credentials(ctx, cfg.RepoURL)
	if err != nil {
		return Output{}, err
	}
	gitopsCreds, err := r.credentials(ctx, cfg.GitOpsRepoURL)
	if err != nil {
		return Output{}, err
	}
	env := r.o.env()
	monoOpts := railyardapi.SparseOptions(env, railyardapi.Creds(monoCreds))
	gitopsOpts := railyardapi.SparseOptions(env, railyardapi.Creds(gitopsCreds))
	appDir := path.Join("apps", cfg.App)

	// The policy (git-clone of the GitOps repository), pinned to one commit.
	policyBranch := cmp.Or(cfg.PolicyBranch, "main")
	policyCommit, err := sparse.Resolve(ctx, cfg.GitOpsRepoURL, policyBranch, gitopsOpts...)
	if err != nil {
		return Output{}, fmt.Errorf("renderbranch: resolve policy branch %s: %w", policyBranch, err)
	}
	policy, err := sparse.Fetch(ctx, sparse.Request{URL: cfg.GitOpsRepoURL, Commit: policyCommit, Branch: policyBranch, Paths: []string{appDir}}, gitopsOpts...)
	if err != nil {
		return Output{}, fmt.Errorf("renderbranch: fetch policy: %w", err)
	}
	dep, err := render.LoadDeployment(policy.FS, path.Join(appDir, "deployments", cfg.Deployment, "deployment.yaml"))
	if err != nil {
		return Output{}, fmt.Errorf("renderbranch: read policy of %s: %w", cfg.Deployment, err)
	}
	log.Debug("policy read", "policyCommit", policyCommit, "branch", dep.Branch, "envType", dep.EnvType)

	// The deploy package (git-clone of the monorepo, sparse), at the commit.
	src, err := sparse.Fetch(ctx, sparse.Request{URL: cfg.RepoURL, Commit: cfg.Commit, Branch: cfg.Branch, Paths: cfg.Paths}, monoOpts...)
	if err != nil {
		return Output{}, fmt.Errorf("renderbranch: fetch deploy package: %w", err)
	}
	log.Debug("deploy package fetched", "strategy", src.Stats.Strategy, "bytes", src.Stats.BytesReceived)

	// kustomize-set-image + kustomize-build, in memory.
	resources := make([]string, len(cfg.Paths))
	for i, p := range cfg.Paths {
		resources[i] = path.Join("../../src", p)
	}
	res, err := railyardapi.Build(ctx, r.o.locker, []render.Mount{{At: "src", FS: src.FS}, {At: "gitops", FS: policy.FS}}, render.Wrapper{
		Dir:        "render/deploy",
		Template:   path.Join("gitops", appDir, "kargo/templates/deploy/kustomization.yaml"),
		Resources:  resources,
		Components: []string{path.Join("../../gitops", appDir, "envTypes", dep.EnvType)},
		Namespace:  dep.Namespace,
		Images:     []render.Image{{Name: cfg.Image.Name, NewName: cfg.Image.RepoURL, Tag: cfg.Image.Tag, Digest: cfg.Image.Digest}},
	})
	if err != nil {
		return Output{}, fmt.Errorf("renderbranch: render %s: %w", cfg.Deployment, err)
	}
	files := res.Files()
	if len(files) == 0 {
		// An empty Files would delete the deploy folder, and Argo CD would
		// prune the application.
		return Output{}, fmt.Errorf("%w: the render of %s holds no objects", ErrInvalidConfig, cfg.Deployment)
	}

	// git-commit + git-push, without a clone.
	repo, err := gitops.NewRepo(cfg.GitOpsRepoURL, railyardapi.GitopsOptions(env, railyardapi.Creds(gitopsCreds), r.o.authorName, r.o.authorEmail)...)
	if err != nil {
		return Output{}, fmt.Errorf("renderbranch: %w", err)
	}
	change := gitops.Change{
		Branch:  dep.Branch,
		Dir:     path.Join(appDir, "deployments", cfg.Deployment, "deploy"),
		Files:   files,
		Message: cmp.Or(cfg.Message, fmt.Sprintf("Promote %s to %s", cfg.Commit[:12], cfg.Deployment)),
		Provenance: &gitops.Provenance{
			SourceRepo: cfg.RepoURL, SourceCommit: cfg.Commit, FreightID: cfg.FreightID, PolicyCommit: policyCommit,
			Images: []string{cfg.Image.RepoURL + ":" + cfg.Image.Tag + "@" + cfg.Image.Digest},
		},
	}
	out := Output{TargetBranch: dep.Branch, PolicyCommit: policyCommit, Objects: len(res.Objects())}
	if !cfg.Review {
		c, err := repo.Commit(ctx, change)
		if err != nil {
			return Output{}, fmt.Errorf("renderbranch: commit to %s: %w", dep.Branch, err)
		}
		out.Branch, out.Commit, out.Changed = c.Branch, c.Commit, c.Changed
		if c.Changed {
			log.Info("render committed", "branch", c.Branch, "newCommit", c.Commit, "attempts", c.Attempts)
		}
		return out, nil
	}

	// git-push to a generated branch + git-open-pr.
	prs, err := r.o.pullRequests(ctx, cfg, gitopsCreds)
	if err != nil {
		return Output{}, fmt.Errorf("renderbranch: forge: %w", err)
	}
	change.Branch = ""
	change.Summary = summary(res)
	p, err := repo.Propose(ctx, change, dep.Branch, prs)
	if err != nil {
		return Output{}, fmt.Errorf("renderbranch: propose to %s: %w", dep.Branch, err)
	}
	if !p.Changed {
		// The stage branch already holds the render: nothing to review.
		tip, err := sparse.Resolve(ctx, cfg.GitOpsRepoURL, dep.Branch, gitopsOpts...)
		if err != nil {
			return Output{}, fmt.Errorf("renderbranch: resolve %s: %w", dep.Branch, err)
		}
		out.Branch, out.Commit = dep.Branch, tip
		return out, nil
	}
	pr := p.PullRequest
	log.Info("pull request proposed", "number", pr.Number, "opened", p.Opened, "head", pr.Head, "base", pr.Base, "targetCreated", p.TargetCreated)
	out.Branch, out.Changed = p.Head, true
	// Propose opened the pull request or reused an open one: it is open.
	out.PR = &PullRequest{ID: pr.Number, URL: pr.URL, Open: true}
	return out, nil
}

// CheckMerge asks the forge once about the pull request a previous Run
// for cfg reported in prev (prev.PR set), as Kargo's git-wait-for-pr does,
// and returns prev updated: the pull request still open, or merged with
// its merge commit as Output.Commit. It neither renders nor pushes.
//
// Errors wrap [ErrInvalidConfig] (cfg invalid, not a review, or prev
// without a pull request), [ErrClosed] when the pull request was closed
// without merge, the forge's errors (matching gitops.ErrNotFound for an
// unknown number, gitops.ErrUnavailable for a transient failure), or
// ctx's error.
func (r *Runner) CheckMerge(ctx context.Context, cfg Config, prev Output) (Output, error) {
	if err := cfg.Validate(); err != nil {
		return Output{}, err
	}
	if !cfg.Review || prev.PR == nil || prev.PR.ID <= 0 {
		return Output{}, fmt.Errorf("%w: CheckMerge needs review and a pull request", ErrInvalidConfig)
	}
	creds, err := r.credentials(ctx, cfg.GitOpsRepoURL)
	if err != nil {
		return Output{}, err
	}
	prs, err := r.o.pullRequests(ctx, cfg, creds)
	if err != nil {
		return Output{}, fmt.Errorf("renderbranch: forge: %w", err)
	}
	pr := *prev.PR
	prev.PR = &pr
	return r.mergeState(ctx, prs, prev)
}

// mergeState completes out with the state of its pull request (one
// gitops.CheckMerge).
func (r *Runner) mergeState(ctx context.Context, prs gitops.PullRequests, out Output) (Output, error) {
	number := out.PR.ID
	mergeCommit, merged, err := gitops.CheckMerge(ctx, prs, &gitops.PullRequest{Number: number, URL: out.PR.URL})
	if errors.Is(err, gitops.ErrClosed) {
		return Output{}, &closedError{number: number, err: err}
	}
	if err != nil {
		return Output{}, fmt.Errorf("renderbranch: pull request #%d: %w", number, err)
	}
	out.PR.Open, out.PR.Merged = !merged, merged
	if merged {
		out.Commit = mergeCommit
		r.o.logger.Info("pull request merged", "number", number, "mergeCommit", mergeCommit)
	}
	return out, nil
}

// credentials asks the CredentialsFunc; its errors are retryable unless
// they say otherwise.
func (r *Runner) credentials(ctx context.Context, repoURL string) (Credentials, error) {
	if r.o.creds == nil {
		return Credentials{}, nil
	}
	c, err := r.o.creds(ctx, repoURL)
	if err != nil {
		var known interface{ Retryable() bool }
		if !errors.As(err, &known) {
			err = &marked{err: err, retryable: true}
		}
		return Credentials{}, fmt.Errorf("renderbranch: credentials for %s: %w", repoURL, err)
	}
	return c, nil
}

// summary lists the rendered objects for the pull request body.
func summary(res *render.Result) string {
	var s string
	for _, o := range res.Objects() {
		s += fmt.Sprintf("%s/%s %s\n", o.APIVersion, o.Kind, o.Name)
	}
	return s
}
