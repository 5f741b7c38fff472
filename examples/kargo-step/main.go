// Command kargo-step shows how a Kargo extension wraps railyard as a
// promotion step runner: a Step with injected dependencies (an HTTP client,
// credentials, a forge) and one Run(ctx, Config), where Config carries what
// Kargo's git-clone, kustomize-set-image, kustomize-build, git-commit,
// git-push, git-open-pr and git-wait-for-pr steps would be configured with.
// README.md maps each of those steps and their keys to the railyard call.
//
// With no arguments it runs the step for every deployment of the small demo
// world (served on loopback under the public names it stands in for),
// promoting the newest commit that has an image; production goes through a
// pull request that the demo's reviewer merges:
//
//	go run ./examples/kargo-step
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/demoforge"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kargo-step:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stdout io.Writer, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	s, step, configs, err := startDemo(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, cfg := range configs {
		out, err := step.Run(ctx, cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.Deployment, err)
		}
		fmt.Fprintf(stdout, "%-13s %-40s changed=%-5t commit=%.12s", cfg.Deployment, out.Branch, out.Changed, out.Commit)
		if out.PR != nil {
			fmt.Fprintf(stdout, " pr=#%d merged=%.12s", out.PR.Number, out.MergeCommit)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// startDemo serves the small demo world and returns the Step as Kargo would
// set it up, and one Config per deployment for the newest commit that has
// an image: what a Stage's promotion template would pass.
func startDemo(ctx context.Context) (*demo.Served, *Step, []Config, error) {
	w, err := demo.BuildCached(demo.Small, demo.DefaultSeed)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := demo.Serve(ctx, w)
	if err != nil {
		return nil, nil, nil, err
	}
	// Kargo would inject these once, when it registers the step.
	step := &Step{
		Client:       &http.Client{Transport: s.Transport()},
		PullRequests: reviewer{demoforge.New(s.GitOpsDir, demo.PublicGitOpsURL)},
	}
	// What the Freight gives the promotion: commitFrom(...) and imageFrom(...).
	var commit string
	for _, c := range w.Commits {
		if c.HasImage {
			commit = c.ID
			break
		}
	}
	img := freight.Image{RepoURL: demo.PublicImageRepo, Tag: "git-" + commit, Digest: s.Digests["git-"+commit]}
	f := freight.Freight{Commit: freight.Commit{RepoURL: demo.PublicMonorepoURL, ID: commit}, Images: []freight.Image{img}}
	var configs []Config
	for _, d := range w.Deployments {
		review := d == "production"
		configs = append(configs, Config{
			RepoURL: demo.PublicMonorepoURL, Commit: commit, Branch: w.Branch, Paths: []string{demo.DeployPath + "/base"},
			Image:         Image{Name: demo.ImageName, RepoURL: img.RepoURL, Tag: img.Tag, Digest: img.Digest},
			GitOpsRepoURL: demo.PublicGitOpsURL, App: w.App, Deployment: d,
			FreightID: freight.KargoID(w.App, f), Review: review, WaitForMerge: review,
		})
	}
	return s, step, configs, nil
}

// reviewer is the demo's forge with a person who merges every pull request
// a moment after it is opened.
type reviewer struct{ *demoforge.Forge }

// Create opens the pull request and schedules its merge.
func (r reviewer) Create(ctx context.Context, n gitops.NewPullRequest) (*gitops.PullRequest, error) {
	pr, err := r.Forge.Create(ctx, n)
	if err == nil {
		go func() {
			time.Sleep(100 * time.Millisecond)
			_, _ = r.Merge(context.WithoutCancel(ctx), pr.Number)
		}()
	}
	return pr, err
}
