// Command warehouse prints the Kargo resources for railyard's git-<sha>
// pattern: the Warehouse to apply, and the Freight railyard would create for
// the newest commits that pair with an image.
//
// The Warehouse subscribes to the watched branch (NewestFromBranch) and to
// each image repository with imageSelectionStrategy NewestBuild, tags allowed
// by ^git-[0-9a-f]{40}$ and per-architecture variants ignored; with the
// default freightCreationPolicy Automatic it carries the criteria expression
// that makes Kargo create Freight only when the newest image's tag names the
// newest commit. With -manual, Kargo only discovers and the Freight
// manifests printed after it (named exactly as Kargo names them) are what
// railyard applies instead, paired over the whole window.
//
// With no flags it runs on the small demo world, served on loopback under
// the public names it stands in for:
//
//	go run ./examples/warehouse
//
// Against real services (registry credentials from $GITHUB_TOKEN for ghcr.io
// or the Docker config, git credentials from $GIT_TOKEN):
//
//	go run ./examples/warehouse -git https://github.com/org/app.git -image ghcr.io/org/app -manual
//
// Standard output is one YAML stream; progress goes to standard error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/internal/testkit/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Stderr, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "warehouse:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fl := flag.NewFlagSet("warehouse", flag.ContinueOnError)
	fl.SetOutput(stderr)
	gitURL := fl.String("git", "", "watched repository URL (enables real mode; default: the demo world)")
	images := fl.String("image", "", "image repositories built from each commit, comma-separated")
	branch := fl.String("branch", "main", "watched branch")
	name := fl.String("name", demo.App, "Warehouse name (the Freight origin)")
	project := fl.String("project", demo.App, "Kargo project (namespace)")
	include := fl.String("include-paths", "", "only commits touching these paths, comma-separated")
	manual := fl.Bool("manual", false, "freightCreationPolicy Manual: railyard creates the Freight")
	newest := fl.Int("n", 3, "how many of the newest Freight to print")
	window := fl.Int("window", 100, "how many commits of the branch to pair over")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	if *newest < 0 {
		return errors.New("-n must not be negative")
	}

	// Real mode reaches the network with credentials from the environment;
	// demo mode serves the demo world and routes its public names to
	// loopback.
	var gitOpts, imageOpts []freight.Option
	switch {
	case *gitURL == "" && *images != "":
		return errors.New("-image needs -git")
	case *gitURL == "":
		served, err := serveDemo(ctx, stderr)
		if err != nil {
			return err
		}
		defer served.Close()
		*gitURL, *images = demo.PublicMonorepoURL, demo.PublicImageRepo
		gitOpts = []freight.Option{freight.WithHTTPClient(&http.Client{Transport: served.Transport()})}
		imageOpts = gitOpts
	case *images == "":
		return errors.New("-git needs -image")
	default:
		gitOpts = []freight.Option{freight.WithGitHubTokenFromEnv()}
		if token := os.Getenv("GIT_TOKEN"); token != "" {
			gitOpts = []freight.Option{freight.WithBasicAuth("x-access-token", token)}
		}
		imageOpts = []freight.Option{freight.WithGitHubTokenFromEnv(), freight.WithDockerConfig()}
	}
	wh := freight.KargoWarehouse{
		Name: *name, Project: *project, GitURL: *gitURL, Branch: *branch,
		ImageRepos: splitList(*images), IncludePaths: splitList(*include), Manual: *manual,
	}

	// 1. The Warehouse.
	y, err := freight.WarehouseYAML(wh)
	if err != nil {
		return err
	}
	if _, err := stdout.Write(y); err != nil {
		return err
	}

	// 2. The Freight railyard finds: every commit of the window whose
	// git-<sha> image exists in each repository, newest first.
	found, err := discover(ctx, wh, *window, gitOpts, imageOpts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d Freight, %d unpaired artifacts in a window of %d commits\n", len(found.Freight), len(found.Unpaired), found.Stats.Commits)
	for _, f := range found.Freight[:min(*newest, len(found.Freight))] {
		m, err := freight.FreightManifest(wh.Project, wh.Name, f)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "---\n# commit %s: %s\n%s", f.Commit.ID[:12], oneLine(f.Commit.Subject), m); err != nil {
			return err
		}
	}
	return nil
}

// discover runs railyard's Warehouse for wh over the newest window commits.
func discover(ctx context.Context, wh freight.KargoWarehouse, window int, gitOpts, imageOpts []freight.Option) (*freight.Discovery, error) {
	gitOpts = append([]freight.Option{freight.WithLimit(window)}, gitOpts...)
	if len(wh.IncludePaths) > 0 {
		gitOpts = append(gitOpts, freight.WithIncludePaths(wh.IncludePaths...))
	}
	git, err := freight.NewGitSource(wh.GitURL, wh.Branch, gitOpts...)
	if err != nil {
		return nil, err
	}
	var sources []freight.ImageLister
	for _, repo := range wh.ImageRepos {
		src, err := freight.NewImageSource(repo, imageOpts...)
		if err != nil {
			return nil, err
		}
		sources = append(sources, src)
	}
	w, err := freight.NewWarehouse(wh.Name, git, sources)
	if err != nil {
		return nil, err
	}
	return w.Discover(ctx)
}

// serveDemo builds (or reuses) the small demo world in the user's cache and
// serves copies of it on loopback.
func serveDemo(ctx context.Context, progress io.Writer) (*demo.Served, error) {
	w, err := demo.BuildCached(demo.Small, demo.DefaultSeed)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "demo world: %d commits, %d tags, served on loopback as %s and %s\n",
		len(w.Commits), len(w.Tags), demo.PublicMonorepoURL, demo.PublicImageRepo)
	return demo.Serve(ctx, w)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// oneLine keeps a commit subject on one comment line.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}
