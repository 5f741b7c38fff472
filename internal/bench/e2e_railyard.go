package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"time"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/render"
	"github.com/railyard-gitops/railyard/sparse"
)

// e2eRailyardWay promotes every stage the way examples/promote does:
// Freight discovery over the newest 100 commits, the policy from the GitOps
// repository's main, then per stage a sparse fetch of the deploy package
// at the Freight's commit (once per commit), render.Build and
// gitops.Repo.Commit; the review stage goes through the legacy gate,
// Repo.Propose, the demo forge's merge and gitops.WaitForMerge. It returns
// what it promoted where, for the CLI ways to promote the same.
func e2eRailyardWay(ctx context.Context, e *e2eEnv) ([]e2eTarget, error) {
	w, transport := e.world, e.served.Transport()
	client := &http.Client{Transport: transport}
	var found *freight.Discovery
	err := e.phases.time("discover", func() error {
		commits, err := freight.NewGitSource(demo.PublicMonorepoURL, w.Branch, freight.WithLimit(100), freight.WithHTTPClient(&http.Client{Transport: transport}))
		if err != nil {
			return err
		}
		images, err := freight.NewImageSource(demo.PublicImageRepo, freight.WithHTTPClient(&http.Client{Transport: transport}))
		if err != nil {
			return err
		}
		wh, err := freight.NewWarehouse(w.App, commits, []freight.ImageLister{images})
		if err != nil {
			return err
		}
		found, err = wh.Discover(ctx)
		if err == nil && len(found.Freight) == 0 {
			err = errors.New("no freight")
		}
		return err
	})
	if err != nil {
		return nil, err
	}

	sparseOpts := []sparse.Option{sparse.WithHTTPClient(client)}
	var policy *sparse.Checkout
	var policyCommit string
	err = e.phases.time("fetch policy", func() error {
		policyCommit, err = sparse.Resolve(ctx, demo.PublicGitOpsURL, w.Branch, sparseOpts...)
		if err != nil {
			return err
		}
		policy, err = sparse.Fetch(ctx, sparse.Request{URL: demo.PublicGitOpsURL, Commit: policyCommit,
			Paths: []string{"apps/" + w.App, "warehouses/" + w.App}}, sparseOpts...)
		return err
	})
	if err != nil {
		return nil, err
	}
	repo, err := gitops.NewRepo(demo.PublicGitOpsURL, gitops.WithHTTPClient(client), gitops.WithCreateTarget(true))
	if err != nil {
		return nil, err
	}

	var targets []e2eTarget
	checkouts := map[string]*sparse.Checkout{}
	for _, stage := range w.Deployments {
		dep, err := render.LoadDeployment(policy.FS, path.Join("apps", w.App, "deployments", stage, "deployment.yaml"))
		if err != nil {
			return nil, err
		}
		t := e2eTarget{Stage: stage, Branch: dep.Branch, EnvType: dep.EnvType, Namespace: dep.Namespace,
			Review: stage == "production", Freight: found.Freight[0]}
		if t.Review {
			gate := freight.LegacyGitflowGate{FS: policy.FS, Warehouse: w.App, Env: stage}
			if t.Freight, err = e2eAdmitted(ctx, gate, found.Freight); err != nil {
				return nil, err
			}
		}
		src := checkouts[t.Freight.Commit.ID]
		if src == nil {
			err = e.phases.time("sparse fetch", func() error {
				src, err = sparse.Fetch(ctx, sparse.Request{URL: demo.PublicMonorepoURL, Commit: t.Freight.Commit.ID,
					Branch: w.Branch, Paths: []string{demo.DeployPath}}, sparseOpts...)
				return err
			})
			if err != nil {
				return nil, err
			}
			checkouts[t.Freight.Commit.ID] = src
		}
		var res *render.Result
		img := t.Freight.Images[0]
		err = e.phases.time("render", func() error {
			res, err = render.Build(ctx, []render.Mount{{At: "src", FS: src.FS}, {At: "gitops", FS: policy.FS}}, render.Wrapper{
				Dir:        "render/deploy",
				Template:   path.Join("gitops/apps", w.App, "kargo/templates/deploy/kustomization.yaml"),
				Resources:  []string{path.Join("../../src", demo.DeployPath, "base")},
				Components: []string{path.Join("../../gitops/apps", w.App, "envTypes", dep.EnvType)},
				Namespace:  dep.Namespace,
				Images:     []render.Image{{Name: demo.ImageName, NewName: img.RepoURL, Tag: img.Tag, Digest: img.Digest}},
			})
			return err
		})
		if err != nil {
			return nil, err
		}
		change := gitops.Change{
			Branch: dep.Branch, Dir: path.Join("apps", w.App, "deployments", stage, "deploy"), Files: res.Files(),
			Message: fmt.Sprintf("Promote %s to %s", t.Freight.Commit.ID[:12], stage),
			Provenance: &gitops.Provenance{SourceRepo: demo.PublicMonorepoURL, SourceCommit: t.Freight.Commit.ID,
				Images: []string{img.RepoURL + ":" + img.Tag + "@" + img.Digest}, FreightID: t.Freight.ID, PolicyCommit: policyCommit},
		}
		if t.Review {
			err = e.phases.time("propose+merge", func() error { return e2eRailyardReview(ctx, e, repo, change) })
		} else {
			err = e.phases.time("commit+push", func() error { _, err := repo.Commit(ctx, change); return err })
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", stage, err)
		}
		fmt.Fprintf(e.opts.Progress, "  %s: %s at %.12s\n", e2eRailyard, stage, t.Freight.Commit.ID)
		targets = append(targets, t)
	}
	return targets, nil
}

// e2eRailyardReview creates the review stage branch if missing, proposes
// the change against it, merges the pull request as the demo's reviewer
// and waits for the merge.
func e2eRailyardReview(ctx context.Context, e *e2eEnv, repo *gitops.Repo, change gitops.Change) error {
	target := change.Branch
	change.Branch = ""
	p, err := repo.Propose(ctx, change, target, e.forge)
	if err != nil || !p.Changed {
		return err
	}
	pr := p.PullRequest
	if _, err := e.forge.Merge(ctx, pr.Number); err != nil {
		return err
	}
	_, err = gitops.WaitForMerge(ctx, e.forge, pr, gitops.WithPollInterval(10*time.Millisecond, time.Second))
	return err
}

// e2eAdmitted returns the newest Freight the gate admits.
func e2eAdmitted(ctx context.Context, gate freight.Gate, all []freight.Freight) (freight.Freight, error) {
	for _, f := range all {
		err := gate.Check(ctx, f)
		if err == nil || !errors.Is(err, freight.ErrRefused) {
			return f, err
		}
	}
	return freight.Freight{}, errors.New("no freight passes the legacy gate")
}
