// Command promote runs railyard's whole promotion flow, as a platform
// engineer would compose it from the four packages:
//
//  1. freight: pair the monorepo's watched branch with the registry's
//     git-<sha> images and explain everything that did not pair;
//  2. for each non-review stage (staging, test, levelbuilder): sparse-fetch
//     the deploy package at the Freight's commit, load the deployment policy
//     from the GitOps repo's main, render it and commit it to stage/<d>;
//  3. for the review stage (production): check the legacy gate, push the
//     render as a pull request against stage/production and wait for the
//     merge;
//  4. print what happened per stage.
//
// With no flags it builds the embedded demo world (a small monorepo, a GitOps
// repo and a registry on loopback) and runs there; the demo's reviewer merges
// the pull request. The demo keeps its GitOps repository in -state, so a
// second run finds nothing to change and opens no pull request.
//
//	go run ./examples/promote
//
// With -monorepo, -gitops and -image it runs against real services; git
// credentials come from $GIT_TOKEN (user $GIT_USER, default x-access-token), registry credentials from $GITHUB_TOKEN
// (ghcr.io) or the Docker config, and the forge token from $GITHUB_TOKEN or
// $GITEA_TOKEN.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	"path"
	"slices"
	"strings"
	"testing/fstest"
	"time"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/render"
	"github.com/railyard-gitops/railyard/sparse"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Stderr, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "promote:", err)
		os.Exit(1)
	}
}

// plan is everything a promotion needs to know about the world around it.
type plan struct {
	MonorepoURL string // the monorepo, watched branch Branch
	Branch      string
	GitOpsURL   string // the GitOps repo: policy on main, output on stage/<d>
	ImageRepo   string // e.g. ghcr.io/code-dot-org/code-dot-org
	ImageName   string // the image name the manifests use, e.g. code-dot-org
	App         string // apps/<App>/ in the GitOps repo
	Warehouse   string // the Kargo Warehouse name (Freight origin)
	DeployPath  string // the deploy package in the monorepo
	Window      int    // how many commits of Branch to pair over
	Stages      []string
	Review      string // the stage promoted through a pull request

	Forge        gitops.PullRequests
	Approve      func(ctx context.Context, pr *gitops.PullRequest) // the demo's reviewer; nil for real forges
	Wait         time.Duration                                     // how long to wait for the merge; 0: do not wait
	Transport    http.RoundTripper
	GitUser      string // with GitToken: HTTP basic auth for both repositories
	GitToken     string
	gitFreight   []freight.Option // options of the monorepo's GitSource
	imageFreight []freight.Option // options of the ImageSource
}

func run(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fl := flag.NewFlagSet("promote", flag.ContinueOnError)
	fl.SetOutput(stderr)
	state := fl.String("state", defaultState(), "demo: directory that keeps the demo world between runs")
	fresh := fl.Bool("fresh", false, "demo: start from a new demo world")
	monorepo := fl.String("monorepo", "", "real: monorepo URL (enables real mode)")
	gitopsURL := fl.String("gitops", "", "real: GitOps repository URL")
	image := fl.String("image", "", "real: image repository, e.g. ghcr.io/org/app")
	branch := fl.String("branch", "main", "real: watched branch of the monorepo")
	app := fl.String("app", "codeai", "real: application directory under apps/")
	deployPath := fl.String("deploy-path", "k8s/kustomize", "real: deploy package in the monorepo")
	imageName := fl.String("image-name", "code-dot-org", "real: image name used in the manifests")
	forge := fl.String("forge", "github", "real: github or gitea")
	forgeURL := fl.String("forge-url", "", "real: forge API base URL (GitHub Enterprise or Gitea)")
	forgeRepo := fl.String("forge-repo", "", "real: owner/name of the GitOps repository on the forge")
	wait := fl.Duration("wait", 0, "real: how long to wait for the review pull request's merge (0: do not wait)")
	window := fl.Int("window", 100, "how many commits of the branch to pair over")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}

	var p plan
	if *monorepo == "" {
		if *gitopsURL != "" || *image != "" {
			return errors.New("-gitops and -image need -monorepo")
		}
		d, err := startDemo(ctx, *state, *fresh, stderr)
		if err != nil {
			return err
		}
		defer d.Close()
		p = d.plan
	} else {
		var err error
		p, err = realPlan(*monorepo, *gitopsURL, *image, *forge, *forgeURL, *forgeRepo)
		if err != nil {
			return err
		}
		p.Branch, p.App, p.Warehouse, p.DeployPath, p.ImageName, p.Wait = *branch, *app, *app, *deployPath, *imageName, *wait
	}
	p.Window = *window
	return promote(ctx, p, stdout, stderr)
}

// promote runs the whole flow.
func promote(ctx context.Context, p plan, out, progress io.Writer) error {
	client := &http.Client{Transport: p.Transport}

	// 1. Freight: the commits and images that pair exactly on git-<sha>.
	fmt.Fprintln(progress, "discovering freight ...")
	gitOpts := append([]freight.Option{freight.WithLimit(p.Window), freight.WithHTTPClient(client)}, p.gitFreight...)
	if p.GitToken != "" {
		gitOpts = append(gitOpts, freight.WithBasicAuth(p.GitUser, p.GitToken))
	}
	commits, err := freight.NewGitSource(p.MonorepoURL, p.Branch, gitOpts...)
	if err != nil {
		return err
	}
	images, err := freight.NewImageSource(p.ImageRepo, append([]freight.Option{freight.WithHTTPClient(client)}, p.imageFreight...)...)
	if err != nil {
		return err
	}
	wh, err := freight.NewWarehouse(p.Warehouse, commits, []freight.ImageLister{images})
	if err != nil {
		return err
	}
	found, err := wh.Discover(ctx)
	if err != nil {
		return err
	}
	if len(found.Freight) == 0 {
		return errors.New("no freight: no commit of the window has its image yet")
	}
	fmt.Fprintf(out, "freight: %d paired, %d unpaired (%s)\n", len(found.Freight), len(found.Unpaired), reasons(found.Unpaired))
	fmt.Fprintf(out, "newest:  %s  commit %s  %q\n", found.Freight[0].ID[:12], found.Freight[0].Commit.ID[:12], found.Freight[0].Commit.Subject)

	// The GitOps repo's policy, pinned to one commit of main for the whole run.
	// Resolve takes the connection options only; a fetch also reports progress.
	sparseOpts := []sparse.Option{sparse.WithHTTPClient(client)}
	if p.GitToken != "" {
		sparseOpts = append(sparseOpts, sparse.WithBasicAuth(p.GitUser, p.GitToken))
	}
	fetchOpts := append(slices.Clip(sparseOpts), sparse.WithProgress(bytesProgress(progress)))
	policyCommit, err := sparse.Resolve(ctx, p.GitOpsURL, "main", sparseOpts...)
	if err != nil {
		return err
	}
	policy, err := sparse.Fetch(ctx, sparse.Request{
		URL: p.GitOpsURL, Commit: policyCommit, Branch: "main",
		Paths: []string{"apps/" + p.App, "warehouses/" + p.Warehouse},
	}, fetchOpts...)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	fmt.Fprintf(out, "policy:  %s at main %s\n", p.GitOpsURL, policyCommit[:12])

	// The review stage's branch is created on its first pull request.
	gitopsOpts := []gitops.Option{gitops.WithHTTPClient(client), gitops.WithCreateTarget(true)}
	if p.GitToken != "" {
		gitopsOpts = append(gitopsOpts, gitops.WithBasicAuth(p.GitUser, p.GitToken))
	}
	repo, err := gitops.NewRepo(p.GitOpsURL, gitopsOpts...)
	if err != nil {
		return err
	}

	// 2–4. Each stage in promotion order.
	checkouts := map[string]*sparse.Checkout{} // one sparse fetch per commit
	for _, stage := range p.Stages {
		f := found.Freight[0]
		if stage == p.Review {
			// The legacy git-flow gate: only a commit the old process has
			// recorded as merged for this environment may go.
			gate := freight.LegacyGitflowGate{FS: policy.FS, Warehouse: p.Warehouse, Env: stage}
			if f, err = firstAdmitted(ctx, gate, found.Freight); err != nil {
				return fmt.Errorf("%s: %w", stage, err)
			}
		}
		src, ok := checkouts[f.Commit.ID]
		if !ok {
			fmt.Fprintf(progress, "%s: fetching %s at %s ...\n", stage, p.DeployPath, f.Commit.ID[:12])
			src, err = sparse.Fetch(ctx, sparse.Request{
				URL: p.MonorepoURL, Commit: f.Commit.ID, Branch: p.Branch, Paths: []string{p.DeployPath},
			}, fetchOpts...)
			if err != nil {
				return fmt.Errorf("%s: %w", stage, err)
			}
			checkouts[f.Commit.ID] = src
		}
		dep, err := render.LoadDeployment(policy.FS, path.Join("apps", p.App, "deployments", stage, "deployment.yaml"))
		if err != nil {
			return fmt.Errorf("%s: %w", stage, err)
		}
		fmt.Fprintf(progress, "%s: rendering ...\n", stage)
		res, err := renderStage(ctx, p, dep, f, src, policy)
		if err != nil {
			return fmt.Errorf("%s: %w", stage, err)
		}
		change := gitops.Change{
			Branch:  dep.Branch,
			Dir:     path.Join("apps", p.App, "deployments", stage, "deploy"),
			Files:   res.Files(),
			Message: fmt.Sprintf("Promote %s to %s\n\nCommit %s: %s", f.Commit.ID[:12], stage, f.Commit.ID, f.Commit.Subject),
			Provenance: &gitops.Provenance{
				SourceRepo:   p.MonorepoURL,
				SourceCommit: f.Commit.ID,
				Images:       []string{imageRef(f.Images[0])},
				FreightID:    f.ID,
				PolicyCommit: policyCommit,
			},
		}
		if stage != p.Review {
			fmt.Fprintf(progress, "%s: committing to %s ...\n", stage, dep.Branch)
			r, err := repo.Commit(ctx, change)
			if err != nil {
				return fmt.Errorf("%s: %w", stage, err)
			}
			fmt.Fprintf(out, "%-13s %s  freight %s  %s %s  changed=%t  files=%d\n",
				stage, dep.Branch, f.ID[:12], "commit", r.Commit[:12], r.Changed, len(res.Files()))
			continue
		}
		if err := review(ctx, p, repo, change, res, dep, f, sparseOpts, out, progress); err != nil {
			return fmt.Errorf("%s: %w", stage, err)
		}
	}
	return nil
}

// renderStage builds one deployment: the GitOps repo's deploy template,
// filled in with the source package and the env-type Component, and the
// image pinned to the Freight's tag and digest.
func renderStage(ctx context.Context, p plan, dep render.Deployment, f freight.Freight, src, policy *sparse.Checkout) (*render.Result, error) {
	img := f.Images[0]
	return render.Build(ctx,
		[]render.Mount{{At: "src", FS: src.FS}, {At: "gitops", FS: policy.FS}},
		render.Wrapper{
			Dir:        "render/deploy",
			Template:   path.Join("gitops/apps", p.App, "kargo/templates/deploy/kustomization.yaml"),
			Resources:  []string{path.Join("../../src", p.DeployPath, "base")},
			Components: []string{path.Join("../../gitops/apps", p.App, "envTypes", dep.EnvType)},
			Namespace:  dep.Namespace,
			Images:     []render.Image{{Name: p.ImageName, NewName: img.RepoURL, Tag: img.Tag, Digest: img.Digest}},
		})
}

// review proposes the render as a pull request against the stage branch
// and waits for a person (in the demo: the demo's reviewer) to merge it.
func review(ctx context.Context, p plan, repo *gitops.Repo, change gitops.Change, res *render.Result,
	dep render.Deployment, f freight.Freight, sparseOpts []sparse.Option, out, progress io.Writer) error {
	// The pull request body shows which objects change, not just files.
	old, err := currentOutput(ctx, p.GitOpsURL, dep.Branch, change.Dir, sparseOpts)
	if err != nil {
		return err
	}
	summary, err := render.Diff(old, change.Dir, res)
	if err != nil {
		return err
	}
	change.Summary = summary.String()

	// The head branch is derived from the stage and the Freight ID, so a
	// second run finds (and reuses) the same pull request.
	change.Branch = ""
	fmt.Fprintf(progress, "%s: proposing against %s ...\n", dep.Name, dep.Branch)
	proposal, err := repo.Propose(ctx, change, dep.Branch, p.Forge)
	if err != nil {
		return err
	}
	if proposal.TargetCreated {
		fmt.Fprintf(out, "%-13s %s  created, empty\n", "", dep.Branch)
	}
	if !proposal.Changed {
		fmt.Fprintf(out, "%-13s %s  freight %s  up to date, no pull request\n", dep.Name, dep.Branch, f.ID[:12])
		return nil
	}
	pr := proposal.PullRequest
	fmt.Fprintf(out, "%-13s %s  freight %s  pull request #%d %s (%s)\n", dep.Name, dep.Branch, f.ID[:12], pr.Number, pr.URL, summaryLine(summary))
	if p.Approve != nil {
		go p.Approve(ctx, pr)
	} else if p.Wait == 0 {
		return nil
	}
	wctx := ctx
	if p.Wait > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, p.Wait)
		defer cancel()
	}
	fmt.Fprintf(progress, "%s: waiting for the merge of #%d ...\n", dep.Name, pr.Number)
	merge, err := gitops.WaitForMerge(wctx, p.Forge, pr, gitops.WithPollInterval(50*time.Millisecond, 2*time.Second))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%-13s %s  merged as %s\n", dep.Name, dep.Branch, merge[:12])
	return nil
}

// currentOutput returns the rendered folder dir as branch holds it now;
// an empty tree when it has none yet.
func currentOutput(ctx context.Context, url, branch, dir string, opts []sparse.Option) (fs.FS, error) {
	tip, err := sparse.Resolve(ctx, url, branch, opts...)
	if errors.Is(err, sparse.ErrRefNotFound) {
		return fstest.MapFS{}, nil
	}
	if err != nil {
		return nil, err
	}
	co, err := sparse.Fetch(ctx, sparse.Request{URL: url, Commit: tip, Branch: branch, Paths: []string{dir}}, opts...)
	if errors.Is(err, sparse.ErrPathNotFound) {
		return fstest.MapFS{}, nil
	}
	if err != nil {
		return nil, err
	}
	return co.FS, nil
}

// firstAdmitted returns the newest Freight the gate admits.
func firstAdmitted(ctx context.Context, gate freight.Gate, all []freight.Freight) (freight.Freight, error) {
	for _, f := range all {
		err := gate.Check(ctx, f)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, freight.ErrRefused) {
			return freight.Freight{}, err
		}
	}
	return freight.Freight{}, errors.New("no freight passes the legacy gate")
}

func imageRef(img freight.Image) string { return img.RepoURL + ":" + img.Tag + "@" + img.Digest }

func reasons(us []freight.Unpaired) string {
	counts := map[freight.Reason]int{}
	var order []freight.Reason
	for _, u := range us {
		if counts[u.Reason] == 0 {
			order = append(order, u.Reason)
		}
		counts[u.Reason]++
	}
	var parts []string
	for _, r := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[r], r))
	}
	return strings.Join(parts, ", ")
}

func summaryLine(s render.Summary) string {
	return fmt.Sprintf("%d objects added, %d changed, %d removed", len(s.Added), len(s.Changed), len(s.Removed))
}

// bytesProgress reports long fetches on w, about every 4 MiB.
func bytesProgress(w io.Writer) func(sparse.Progress) {
	var last, next int64 = 0, 4 << 20
	return func(pr sparse.Progress) {
		if pr.BytesReceived < last { // a new fetch
			next = 4 << 20
		}
		last = pr.BytesReceived
		if pr.BytesReceived >= next {
			fmt.Fprintf(w, "  ... %d MiB, %d objects\n", pr.BytesReceived>>20, pr.Objects)
			next = pr.BytesReceived + 4<<20
		}
	}
}
