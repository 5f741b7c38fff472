package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/demoforge"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

func init() { benches["e2e"] = runE2E }

// The ways the e2e benchmark compares, in the order they run.
const (
	e2eRailyard = "railyard"
	e2eKargo195 = "kargo-1.9.5"
	e2eKargo111 = "kargo-1.11-blobless"
)

// e2eDefaultKustomize is where CI installs the kustomize CLI.
const e2eDefaultKustomize = "/root/.cache/railyard-ci/bin/kustomize"

// e2eOptions configures one run of the e2e benchmark.
type e2eOptions struct {
	Preset demo.Preset
	Seed   int64
	// Ways to run; railyard always runs first, since the CLI ways promote
	// the Freight it chose.
	Ways []string
	// RailyardRuns is how many times railyard runs (each on a fresh copy
	// of the world); the median run is reported. Less than 1 means 1.
	RailyardRuns int
	// Kustomize is the kustomize CLI the CLI ways use.
	Kustomize string
	// TempDir holds the CLI ways' workspaces; "" is the system default.
	TempDir string
	// Progress receives a line per stage and way.
	Progress io.Writer
}

// e2eResult is what promoting every stage cost one way.
type e2eResult struct {
	Way     string
	Elapsed time.Duration
	Runs    []time.Duration // wall time of every run, when there were several
	Phases  e2ePhases
	// Bytes the git server sent, per repository, and received (pushes).
	MonorepoBytes, GitOpsBytes, PushBytes int64
	GitRequests                           int64
	RegistryRequests                      int64
	// Outputs maps each stage branch to the sorted blob ids of the
	// rendered folder's files, provenance excluded: equal lists mean
	// byte-identical objects (file names differ: kustomize's `build -o`
	// leaves the namespace out, railyard's render.NamingKustomize keeps it).
	Outputs map[string][]string
}

// Received is every byte the git server sent.
func (r *e2eResult) Received() int64 { return r.MonorepoBytes + r.GitOpsBytes }

// e2eTarget is one stage's promotion: what lands where.
type e2eTarget struct {
	Stage, Branch, EnvType, Namespace string
	Review                            bool
	Freight                           freight.Freight
}

// e2eEnv is what a way gets: a freshly served world and, for the CLI ways,
// the targets railyard chose.
type e2eEnv struct {
	world   *demo.World
	served  *demo.Served
	forge   *demoforge.Forge
	targets []e2eTarget
	opts    e2eOptions
	phases  *e2ePhases
}

// e2ePhases accumulates wall time per named phase, in first-seen order.
type e2ePhases struct {
	names []string
	d     map[string]time.Duration
}

// time runs fn and books its wall time under name.
func (p *e2ePhases) time(name string, fn func() error) error {
	start := time.Now()
	err := fn()
	if p.d == nil {
		p.d = map[string]time.Duration{}
	}
	if _, ok := p.d[name]; !ok {
		p.names = append(p.names, name)
	}
	p.d[name] += time.Since(start)
	return err
}

// String lists the phases with their share of the total.
func (p *e2ePhases) String() string {
	var parts []string
	for _, n := range p.names {
		parts = append(parts, fmt.Sprintf("%s %s", n, p.d[n].Round(time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

// runE2E is `go run ./internal/bench e2e`: all four stages of the demo
// world promoted by railyard and by Kargo's git-clone/kustomize/git-push
// steps done with the git and kustomize CLIs, in one run.
func runE2E(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("e2e", flag.ContinueOnError)
	preset := fs.String("preset", string(demo.Large), "demo world: small, medium or large")
	seed := fs.Int64("seed", demo.DefaultSeed, "demo world seed")
	ways := fs.String("ways", strings.Join([]string{e2eRailyard, e2eKargo195, e2eKargo111}, ","), "ways to run, comma-separated")
	kustomize := fs.String("kustomize", e2eKustomizeCLI(), "kustomize CLI for the Kargo ways ($RAILYARD_KUSTOMIZE)")
	tmp := fs.String("tmp", "", "directory for the Kargo ways' workspaces (default: the system's)")
	runs := fs.Int("railyard-runs", 3, "runs of railyard (fast, so noisy under load); the median is reported")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := e2eOptions{
		Preset: demo.Preset(*preset), Seed: *seed, Ways: strings.Split(*ways, ","),
		Kustomize: *kustomize, TempDir: *tmp, Progress: os.Stderr, RailyardRuns: *runs,
	}
	results, err := e2eBench(ctx, opts)
	if err != nil {
		return err
	}
	e2eReport(os.Stdout, results)
	return nil
}

// e2eKustomizeCLI finds the kustomize CLI: $RAILYARD_KUSTOMIZE, CI's install
// path, or PATH.
func e2eKustomizeCLI() string {
	if p := os.Getenv("RAILYARD_KUSTOMIZE"); p != "" {
		return p
	}
	if _, err := os.Stat(e2eDefaultKustomize); err == nil {
		return e2eDefaultKustomize
	}
	return "kustomize"
}

// e2eBench builds (or reuses) the world and runs every way on its own
// fresh copy of it.
func e2eBench(ctx context.Context, opts e2eOptions) ([]*e2eResult, error) {
	if len(opts.Ways) == 0 || opts.Ways[0] != e2eRailyard {
		return nil, errors.New("e2e: the ways must start with railyard (the others promote the Freight it chose)")
	}
	for _, w := range opts.Ways[1:] {
		if w != e2eKargo195 && w != e2eKargo111 {
			return nil, fmt.Errorf("e2e: unknown way %q", w)
		}
		if _, err := exec.LookPath(opts.Kustomize); err != nil {
			return nil, fmt.Errorf("e2e: the %s way needs the kustomize CLI: %w", w, err)
		}
	}
	fmt.Fprintf(opts.Progress, "building the %s demo world (cached after the first run)...\n", opts.Preset)
	world, err := demo.BuildCached(opts.Preset, opts.Seed)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(opts.Progress, "world: %d commits, %d files at the tip (%.0f MiB), %.0f MiB of blobs in history\n",
		len(world.Commits), world.Stats.Files, float64(world.Stats.TipBytes)/(1<<20), float64(world.Stats.BlobBytes)/(1<<20))

	var results []*e2eResult
	var targets []e2eTarget
	for _, way := range opts.Ways {
		n := 1
		if way == e2eRailyard {
			n = max(opts.RailyardRuns, 1)
		}
		var runs []*e2eResult
		for range n {
			r, t, err := e2eRunWay(ctx, world, way, targets, opts)
			if err != nil {
				return nil, fmt.Errorf("e2e: %s: %w", way, err)
			}
			if way == e2eRailyard {
				targets = t
			}
			runs = append(runs, r)
		}
		results = append(results, e2eMedian(runs))
	}
	return results, nil
}

// e2eMedian returns the run with the median wall time, with every run's
// time in Runs when there were several.
func e2eMedian(runs []*e2eResult) *e2eResult {
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b *e2eResult) int { return cmp.Compare(a.Elapsed, b.Elapsed) })
	m := sorted[len(sorted)/2]
	if len(runs) > 1 {
		for _, r := range runs {
			m.Runs = append(m.Runs, r.Elapsed)
		}
	}
	return m
}

// e2eRunWay serves a fresh copy of the world, promotes every stage one way
// and reads the counters and the stage branches back.
func e2eRunWay(ctx context.Context, world *demo.World, way string, targets []e2eTarget, opts e2eOptions) (*e2eResult, []e2eTarget, error) {
	s, err := demo.Serve(ctx, world)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	env := &e2eEnv{world: world, served: s, targets: targets, opts: opts, phases: &e2ePhases{},
		forge: demoforge.New(s.GitOpsDir, demo.PublicGitOpsURL)}
	s.Git.ResetStats()
	s.Registry.ResetStats()
	fmt.Fprintf(opts.Progress, "%s: promoting %d stages ...\n", way, len(world.Deployments))
	start := time.Now()
	switch way {
	case e2eRailyard:
		targets, err = e2eRailyardWay(ctx, env)
	default:
		err = e2eKargoWay(ctx, env, way)
	}
	if err != nil {
		return nil, nil, err
	}
	r := &e2eResult{Way: way, Elapsed: time.Since(start), Phases: *env.phases}
	// The server books a response when its handler returns, which can be
	// just after the client read the last byte: wait for the count to settle.
	for prev := int64(-1); r.Received() != prev; time.Sleep(50 * time.Millisecond) {
		prev = r.Received()
		mono, gitops := s.Git.Total(demo.MonorepoName), s.Git.Total(demo.GitOpsName)
		r.MonorepoBytes, r.GitOpsBytes = mono.ResponseBytes, gitops.ResponseBytes
		r.PushBytes = s.Git.Stats(demo.GitOpsName)[gittest.EndpointReceivePack].RequestBytes
		r.GitRequests = mono.Requests + gitops.Requests
	}
	for _, n := range s.Registry.Stats() {
		r.RegistryRequests += n
	}
	fmt.Fprintf(opts.Progress, "%s: %s, %d bytes received (%s)\n", way, r.Elapsed.Round(time.Millisecond), r.Received(), &r.Phases)
	r.Outputs, err = e2eOutputs(s.GitOpsDir, world.App, targets)
	return r, targets, err
}

// e2eOutputs reads each stage branch's rendered folder with the git CLI and
// checks that the review stage's tip is a merge commit.
func e2eOutputs(gitopsDir, app string, targets []e2eTarget) (map[string][]string, error) {
	out := map[string][]string{}
	for _, t := range targets {
		dir := "apps/" + app + "/deployments/" + t.Stage + "/deploy/"
		list, err := gittest.Git(gitopsDir, "ls-tree", "-r", t.Branch, "--", dir)
		if err != nil {
			return nil, err
		}
		var files []string
		for _, line := range strings.Split(list, "\n") {
			meta, name, ok := strings.Cut(line, "\t")
			if f := strings.Fields(meta); ok && len(f) == 3 && !strings.HasSuffix(name, "/PROVENANCE") {
				files = append(files, f[2])
			}
		}
		slices.Sort(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("%s holds no render in %s", t.Branch, dir)
		}
		if t.Review {
			parents, err := gittest.Git(gitopsDir, "log", "-1", "--format=%P", t.Branch)
			if err != nil {
				return nil, err
			}
			if len(strings.Fields(parents)) != 2 {
				return nil, fmt.Errorf("%s: the tip is not the merge of the review pull request", t.Branch)
			}
		}
		out[t.Branch] = files
	}
	return out, nil
}

// e2eReport prints the comparison table, the ratios and the verdicts.
func e2eReport(w io.Writer, results []*e2eResult) {
	ry := results[0]
	fmt.Fprintf(w, "\n%-26s", "")
	for _, r := range results {
		fmt.Fprintf(w, " %22s", r.Way)
	}
	row := func(label string, cell func(r *e2eResult) string) {
		fmt.Fprintf(w, "\n%-26s", label)
		for _, r := range results {
			fmt.Fprintf(w, " %22s", cell(r))
		}
	}
	row("wall time", func(r *e2eResult) string { return r.Elapsed.Round(time.Millisecond).String() })
	row("bytes received (git)", func(r *e2eResult) string { return fmt.Sprint(r.Received()) })
	row("  from the monorepo", func(r *e2eResult) string { return fmt.Sprint(r.MonorepoBytes) })
	row("  from the GitOps repo", func(r *e2eResult) string { return fmt.Sprint(r.GitOpsBytes) })
	row("bytes pushed", func(r *e2eResult) string { return fmt.Sprint(r.PushBytes) })
	row("git requests", func(r *e2eResult) string { return fmt.Sprint(r.GitRequests) })
	row("registry requests", func(r *e2eResult) string { return fmt.Sprint(r.RegistryRequests) })
	row("time ratio railyard/way", func(r *e2eResult) string { return fmt.Sprintf("%.4f", e2eRatio(ry.Elapsed, r.Elapsed)) })
	row("bytes ratio railyard/way", func(r *e2eResult) string { return fmt.Sprintf("%.5f", e2eRatio(ry.Received(), r.Received())) })
	row("objects = railyard's", func(r *e2eResult) string { return fmt.Sprint(e2eSameOutputs(ry, r)) })
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\nphases:")
	for _, r := range results {
		fmt.Fprintf(w, "  %-20s %s\n", r.Way, &r.Phases)
		if len(r.Runs) > 1 {
			fmt.Fprintf(w, "  %-20s (median of %d runs: %s)\n", "", len(r.Runs), e2eDurations(r.Runs))
		}
	}
	fmt.Fprintln(w, "\ntargets:")
	for _, r := range results[1:] {
		limit := map[string]float64{e2eKargo195: 0.05, e2eKargo111: 0.3}[r.Way]
		got := e2eRatio(ry.Elapsed, r.Elapsed)
		verdict := "MET"
		if got > limit {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "  [%s] wall time railyard/%s = %.4f <= %.2f\n", verdict, r.Way, got, limit)
	}
}

// e2eDurations lists durations, rounded to the millisecond.
func e2eDurations(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.Round(time.Millisecond).String())
	}
	return strings.Join(parts, " ")
}

// e2eRatio is a/b as a float.
func e2eRatio[T int64 | time.Duration](a, b T) float64 { return float64(a) / float64(max(b, 1)) }

// e2eSameOutputs reports whether two ways left byte-identical renders on
// every stage branch.
func e2eSameOutputs(a, b *e2eResult) bool {
	return maps.EqualFunc(a.Outputs, b.Outputs, slices.Equal)
}
