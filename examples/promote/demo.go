package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/demoforge"
)

// demoWorld is the embedded demo world, online.
type demoWorld struct {
	plan
	served *demo.Served
}

func (d *demoWorld) Close() { d.served.Close() }

// defaultState is where the demo keeps its world between runs.
func defaultState() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "railyard", "promote-demo")
}

// startDemo builds (or reuses) the small demo world under state and serves
// it on loopback. The programs address it by the public names it stands in
// for (github.com/code-dot-org/..., ghcr.io/code-dot-org/...); the demo's
// transport routes those to the local servers and refuses everything else.
func startDemo(ctx context.Context, state string, fresh bool, progress io.Writer) (*demoWorld, error) {
	if fresh {
		if err := os.RemoveAll(state); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	w, err := demo.Build(filepath.Join(state, "world"), demo.Small, demo.DefaultSeed)
	if err != nil {
		return nil, err
	}
	s, err := demo.ServeIn(ctx, w, filepath.Join(state, "served"))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "demo world: %d commits, %d tags, served on loopback in %s (state in %s)\n",
		len(w.Commits), len(w.Tags), time.Since(start).Round(time.Millisecond), state)

	forge := demoforge.New(s.GitOpsDir, demo.PublicGitOpsURL)
	return &demoWorld{served: s, plan: plan{
		MonorepoURL: demo.PublicMonorepoURL,
		Branch:      w.Branch,
		GitOpsURL:   demo.PublicGitOpsURL,
		ImageRepo:   demo.PublicImageRepo,
		ImageName:   demo.ImageName,
		App:         w.App,
		Warehouse:   w.App,
		DeployPath:  demo.DeployPath,
		Stages:      w.Deployments,
		Review:      "production",
		Forge:       forge,
		Transport:   s.Transport(),
		// The demo's reviewer approves every pull request after a moment.
		Approve: func(ctx context.Context, pr *gitops.PullRequest) {
			select {
			case <-time.After(200 * time.Millisecond):
				_, _ = forge.Merge(ctx, pr.Number)
			case <-ctx.Done():
			}
		},
	}}, nil
}
