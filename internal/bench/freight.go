package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

func init() { benches["freight"] = runFreight }

// runFreight measures discovery on the demo world against the Kargo-style
// way, in one run: `git clone --bare --single-branch --no-tags` of the
// branch, `git log` of the window, the tag listing and one HEAD per tag.
func runFreight(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("freight", flag.ContinueOnError)
	preset := fs.String("preset", string(demo.Large), "demo world: small, medium or large")
	seed := fs.Int64("seed", demo.DefaultSeed, "demo world seed")
	window := fs.Int("commits", 5000, "discovery window (commits)")
	pageSize := fs.Int("page", 1000, "tags/list page size")
	jobs := fs.Int("jobs", 8, "parallel HEAD requests, for both ways")
	runs := fs.Int("runs", 3, "runs of each way, interleaved; the median run is reported")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Printf("building the %s demo world (cached after the first run)...\n", *preset)
	w, err := demo.BuildCached(demo.Preset(*preset), *seed)
	if err != nil {
		return err
	}
	s, err := demo.Serve(ctx, w)
	if err != nil {
		return err
	}
	defer s.Close()
	limit := min(*window, len(w.Commits))
	fmt.Printf("world: %d commits on %s, %d tags (%d candidates), %d files at the tip, %.0f MiB of blobs in history\n",
		len(w.Commits), w.Branch, len(w.Tags), len(w.Candidates()), w.Stats.Files, float64(w.Stats.BlobBytes)/(1<<20))

	ways := []func() (*measurement, error){
		// railyard, default: commits only.
		func() (*measurement, error) { return discover(ctx, s, w.Branch, limit, *pageSize, *jobs) },
		// railyard with includePaths: k8s/kustomize.
		func() (*measurement, error) {
			return discover(ctx, s, w.Branch, limit, *pageSize, *jobs, freight.WithIncludePaths(demo.DeployPath))
		},
		func() (*measurement, error) { return kargoStyle(ctx, s, w.Branch, limit, *pageSize, *jobs) },
	}
	results := make([][]*measurement, len(ways))
	for range max(*runs, 1) {
		for i, way := range ways {
			m, err := way()
			if err != nil {
				return err
			}
			results[i] = append(results[i], m)
		}
	}
	ry, ryPaths, ks := median(results[0]), median(results[1]), median(results[2])
	fmt.Printf("\nwall times of %d interleaved runs each:\n", max(*runs, 1))
	for i, label := range []string{"railyard", "railyard+paths", "kargo-style"} {
		var times []string
		for _, m := range results[i] {
			times = append(times, m.elapsed.Round(time.Millisecond).String())
		}
		fmt.Printf("  %-16s %s\n", label, strings.Join(times, " "))
	}

	fmt.Printf("\n%-34s %14s %14s %14s\n", "", "railyard", "railyard+paths", "kargo-style")
	row := func(label string, a, b, c any) { fmt.Printf("%-34s %14v %14v %14v\n", label, a, b, c) }
	row("wall time", ry.elapsed.Round(time.Millisecond), ryPaths.elapsed.Round(time.Millisecond), ks.elapsed.Round(time.Millisecond))
	row("git strategy", ry.strategy, ryPaths.strategy, "clone")
	row("git bytes received (server)", ry.gitBytes, ryPaths.gitBytes, ks.gitBytes)
	row("commits in window", ry.commits, ryPaths.commits, ks.commits)
	row("tags listed", ry.tags, ryPaths.tags, ks.tags)
	row("tags/list pages", ry.pages, ryPaths.pages, ks.pages)
	row("manifest HEADs", ry.heads, ryPaths.heads, ks.heads)
	row("registry requests (server, all)", ry.requests, ryPaths.requests, ks.requests)
	row("freight", ry.freight, ryPaths.freight, "-")

	fmt.Printf("\ntargets:\n")
	check := func(ok bool, format string, args ...any) {
		verdict := "MET"
		if !ok {
			verdict = "MISSED"
		}
		fmt.Printf("  [%s] %s\n", verdict, fmt.Sprintf(format, args...))
	}
	check(ry.requests <= int64(ry.pages+ry.freight)+1,
		"registry requests %d <= pages %d + paired tags %d (+1 for the /v2/ ping)", ry.requests, ry.pages, ry.freight)
	check(ry.gitBytes*20 <= ks.gitBytes, "git bytes %d = %.3f%% of a full single-branch clone (%d) <= 5%%",
		ry.gitBytes, 100*float64(ry.gitBytes)/float64(ks.gitBytes), ks.gitBytes)
	check(ryPaths.gitBytes*20 <= ks.gitBytes, "with includePaths: git bytes %d = %.3f%% of the clone <= 5%%",
		ryPaths.gitBytes, 100*float64(ryPaths.gitBytes)/float64(ks.gitBytes))
	check(ry.elapsed*10 <= ks.elapsed, "wall time ratio railyard/kargo-style = %.3f <= 0.1", float64(ry.elapsed)/float64(ks.elapsed))
	check(ryPaths.elapsed*10 <= ks.elapsed, "with includePaths: wall time ratio = %.3f <= 0.1", float64(ryPaths.elapsed)/float64(ks.elapsed))
	return nil
}

// measurement is what one way of discovering cost.
type measurement struct {
	elapsed                     time.Duration
	strategy                    string
	gitBytes, requests          int64
	commits, tags, pages, heads int
	freight                     int
}

// median returns the run with the median wall time.
func median(ms []*measurement) *measurement {
	sorted := slices.Clone(ms)
	slices.SortFunc(sorted, func(a, b *measurement) int { return cmp.Compare(a.elapsed, b.elapsed) })
	return sorted[len(sorted)/2]
}

// serverCounts reads the servers' counters after a run. The git server
// books a response when its handler returns, which can be just after the
// client read the last byte: wait until the count settles.
func serverCounts(s *demo.Served, m *measurement) {
	for prev := int64(-1); m.gitBytes != prev; time.Sleep(50 * time.Millisecond) {
		prev, m.gitBytes = m.gitBytes, s.Git.Total(demo.MonorepoName).ResponseBytes
	}
	for _, n := range s.Registry.Stats() {
		m.requests += n
	}
	m.heads = int(s.Registry.Stats()["manifest HEAD"])
	m.pages = int(s.Registry.Stats()["tags/list"])
}

func discover(ctx context.Context, s *demo.Served, branch string, limit, pageSize, jobs int, opts ...freight.Option) (*measurement, error) {
	s.Git.ResetStats()
	s.Registry.ResetStats()
	start := time.Now()
	git, err := freight.NewGitSource(s.MonorepoURL, branch, append(opts, freight.WithLimit(limit))...)
	if err != nil {
		return nil, err
	}
	img, err := freight.NewImageSource(s.ImageRepo, freight.WithPageSize(pageSize))
	if err != nil {
		return nil, err
	}
	wh, err := freight.NewWarehouse(demo.App, git, []freight.ImageLister{img}, freight.WithConcurrency(jobs))
	if err != nil {
		return nil, err
	}
	d, err := wh.Discover(ctx)
	if err != nil {
		return nil, err
	}
	m := &measurement{elapsed: time.Since(start), strategy: d.Stats.Git.Strategy,
		commits: d.Stats.Commits, tags: d.Stats.Tags, freight: len(d.Freight)}
	serverCounts(s, m)
	return m, nil
}

// kargoStyle is what a Kargo Warehouse does for the same subscription: a
// bare single-branch clone, the log of the window, the tag list, and the
// metadata of every tag (NewestBuild needs each image's build time).
func kargoStyle(ctx context.Context, s *demo.Served, branch string, limit, pageSize, jobs int) (*measurement, error) {
	s.Git.ResetStats()
	s.Registry.ResetStats()
	dir, err := os.MkdirTemp("", "railyard-bench-clone-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	clone := exec.CommandContext(ctx, "git", "clone", "--quiet", "--bare", "--single-branch", "--no-tags",
		"--branch", branch, s.MonorepoURL, dir)
	if out, err := clone.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git clone: %w: %s", err, out)
	}
	log, err := gittest.Git(dir, "log", "--format=%H %ct %an %s", fmt.Sprintf("--max-count=%d", limit), branch)
	if err != nil {
		return nil, err
	}
	repo, err := name.NewRepository(s.ImageRepo)
	if err != nil {
		return nil, err
	}
	// One puller for everything, so the registry is pinged once, not per tag.
	puller, err := remote.NewPuller(remote.WithPageSize(pageSize))
	if err != nil {
		return nil, err
	}
	tags, err := puller.List(ctx, repo)
	if err != nil {
		return nil, err
	}
	var heads atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	var mu sync.Mutex
	digests := make(map[string]string, len(tags))
	for _, tag := range tags {
		g.Go(func() error {
			d, err := puller.Head(gctx, repo.Tag(tag))
			if err != nil {
				return err
			}
			heads.Add(1)
			mu.Lock()
			digests[tag] = d.Digest.String()
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	m := &measurement{elapsed: time.Since(start), commits: len(strings.Split(strings.TrimSpace(log), "\n")), tags: len(tags)}
	serverCounts(s, m)
	return m, nil
}
