package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/sparse"
)

func init() { benches["sparse"] = runSparse }

// sparseWays are the ways of getting k8s/kustomize at one commit onto disk,
// each run in its own child process so that its peak RSS can be read.
var sparseWays = []struct{ name, label string }{
	{"railyard", "railyard sparse.Fetch+WriteTo"},
	{"railyard-blobless", "railyard, server refuses tree filters"},
	{"git-cli", "(a) git CLI best practice"},
	{"kargo", "(b) Kargo 1.9.5 git-clone"},
	{"go-git", "(c) go-git Fetch(Depth:1)+sparse checkout"},
	{"idle", "(idle child: this program's own footprint)"},
}

// sparseResult is what a child reports and the parent adds to.
type sparseResult struct {
	Way      string `json:"-"`
	Strategy string `json:"strategy,omitempty"`
	// Elapsed is measured inside a Go child, without process start-up: a
	// library is called in-process, the git CLI is not.
	Elapsed time.Duration `json:"elapsed,omitempty"`
	// SelfRSS is a Go child's own VmHWM read just before it exits, which
	// polling can miss for short-lived children.
	SelfRSS int64 `json:"self_rss,omitempty"`
	Files   int   `json:"-"`
	Bytes   int64 `json:"-"` // content bytes under the cone, as written

	elapsed   time.Duration
	maxRSS    int64 // bytes, the child and everything it waited for
	received  int64 // response bytes counted by the server
	requests  int64
	preset    string
	commitAge int
}

// runSparse measures fetching the deploy package at a non-tip commit of
// the demo monorepo, in one run, railyard against the git CLI, Kargo
// 1.9.5's way and go-git's high-level API.
func runSparse(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("sparse", flag.ContinueOnError)
	presets := fset.String("presets", "medium,large", "demo worlds to measure, comma-separated; all ways run on each")
	seed := fset.Int64("seed", demo.DefaultSeed, "demo world seed")
	age := fset.Int("commit", 10, "fetch the commit this many commits below the tip")
	runs := fset.Int("runs", 3, "interleaved runs of each way; the median wall time is reported")
	skip := fset.String("skip", "", "ways to leave out, comma-separated (e.g. kargo)")
	child := fset.String("child", "", "internal: run one way in this process")
	url := fset.String("url", "", "internal: repository URL for -child")
	commit := fset.String("id", "", "internal: commit id for -child")
	dir := fset.String("dir", "", "internal: output directory for -child")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *child != "" {
		return sparseChild(ctx, *child, *url, *commit, *dir)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var all []*sparseResult
	for _, p := range strings.Split(*presets, ",") {
		results, err := sparsePreset(ctx, self, demo.Preset(p), *seed, *age, max(*runs, 1), strings.Split(*skip, ","))
		if err != nil {
			return err
		}
		all = append(all, results...)
	}
	sparseVerdicts(all)
	return nil
}

func sparsePreset(ctx context.Context, self string, p demo.Preset, seed int64, age, runs int, skip []string) ([]*sparseResult, error) {
	fmt.Printf("building the %s demo world (cached after the first run)...\n", p)
	w, err := demo.BuildCached(p, seed)
	if err != nil {
		return nil, err
	}
	s, err := demo.Serve(ctx, w)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if age >= len(w.Commits) {
		return nil, fmt.Errorf("-commit %d: the %s world has %d commits", age, p, len(w.Commits))
	}
	c := w.Commits[age]
	fmt.Printf("world %s: %d commits, %d files and %.0f MiB of blobs at the tip; fetching %s at %s (tip~%d, deploy changed: %v)\n",
		p, w.Stats.Commits, w.Stats.Files, float64(w.Stats.TipBytes)/(1<<20), demo.DeployPath, c.ID[:12], age, c.DeployChanged)

	work, err := os.MkdirTemp("", "railyard-bench-sparse-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	byWay := map[string][]*sparseResult{}
	for run := range runs {
		for _, way := range sparseWays {
			if slices.Contains(skip, way.name) {
				continue
			}
			s.Git.ResetStats()
			undo, err := sparseServerSetup(s, way.name)
			if err != nil {
				return nil, err
			}
			r, err := sparseRunChild(ctx, self, way.name, s.MonorepoURL, c.ID, filepath.Join(work, fmt.Sprintf("%s-%d", way.name, run)))
			if uerr := undo(); err == nil {
				err = uerr
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", way.name, err)
			}
			total := s.Git.Total(demo.MonorepoName)
			r.received, r.requests, r.preset, r.commitAge = total.ResponseBytes, total.Requests, string(p), age
			byWay[way.name] = append(byWay[way.name], r)
			fmt.Printf("  run %d %-9s %10v  %12d B received  %5d MiB peak RSS\n", run+1, way.name, r.elapsed.Round(time.Millisecond), r.received, r.maxRSS>>20)
		}
	}
	fmt.Printf("\n%s preset (median of %d runs):\n%-44s %12s %14s %10s %13s %8s %s\n", p, runs,
		"way", "wall time", "bytes recv", "requests", "peak RSS MiB", "files", "strategy")
	var out []*sparseResult
	for _, way := range sparseWays {
		rs := byWay[way.name]
		if len(rs) == 0 {
			continue
		}
		slices.SortFunc(rs, func(a, b *sparseResult) int { return int(a.elapsed - b.elapsed) })
		m := rs[len(rs)/2]
		for _, r := range rs {
			m.maxRSS = max(m.maxRSS, r.maxRSS) // report the worst peak
		}
		fmt.Printf("%-44s %12v %14d %10d %13.1f %8d %s\n", way.label, m.elapsed.Round(time.Millisecond), m.received, m.requests,
			float64(m.maxRSS)/(1<<20), m.Files, m.Strategy)
		out = append(out, m)
	}
	fmt.Println()
	return out, nil
}

// sparseServerSetup switches the served monorepo's settings for ways that
// exercise a fallback, and returns how to switch them back.
func sparseServerSetup(s *demo.Served, way string) (undo func() error, err error) {
	if way != "railyard-blobless" {
		return func() error { return nil }, nil
	}
	if _, err := gittest.Git(s.MonorepoDir, "config", "uploadpackfilter.tree.allow", "false"); err != nil {
		return nil, err
	}
	return func() error {
		_, err := gittest.Git(s.MonorepoDir, "config", "--unset", "uploadpackfilter.tree.allow")
		return err
	}, nil
}

// sparseRunChild runs one way in a child process, measures it and counts
// the files it wrote under the cone. The git CLI ways run as a shell
// script, so that their peak RSS is git's and not this program's.
func sparseRunChild(ctx context.Context, self, way, url, id, dir string) (*sparseResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "checkout")
	var cmd *exec.Cmd
	switch way {
	case "git-cli":
		cmd = exec.CommandContext(ctx, "sh", "-ec", `git init --quiet "$OUT"; cd "$OUT"
git remote add origin "$URL"
git fetch --quiet --depth=1 --filter=blob:none origin "$ID"
git sparse-checkout set --cone "$CONE"
git checkout --quiet "$ID"`)
	case "kargo":
		cmd = exec.CommandContext(ctx, "sh", "-ec", `git clone --quiet --bare "$URL" "$DIR/repo.git"; cd "$DIR/repo.git"
git worktree add --quiet --detach "$OUT" "$ID"; cd "$OUT"
git sparse-checkout init --cone
git sparse-checkout set "$CONE"`)
	default:
		cmd = exec.CommandContext(ctx, self, "sparse", "-child", way, "-url", url, "-id", id, "-dir", out)
	}
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"OUT="+out, "URL="+url, "ID="+id, "DIR="+dir, "CONE="+demo.DeployPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	peak := watchPeakRSS(cmd.Process.Pid, done)
	err := cmd.Wait()
	elapsed := time.Since(start)
	close(done)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	r := sparseResult{Way: way, elapsed: elapsed, maxRSS: <-peak}
	if stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("child output %q: %w", stdout.String(), err)
		}
		r.elapsed = r.Elapsed
		r.maxRSS = max(r.maxRSS, r.SelfRSS)
	}
	err = filepath.WalkDir(filepath.Join(out, demo.DeployPath), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		r.Files++
		r.Bytes += info.Size()
		return err
	})
	return &r, err
}

// watchPeakRSS polls the high-water RSS (VmHWM) of pid and its
// descendants every few milliseconds until done is closed, and sends the
// largest one seen. rusage's ru_maxrss cannot be used: a child started by
// vfork+exec inherits its parent's high-water mark, i.e. this program's.
func watchPeakRSS(pid int, done <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, p := range processTree(pid) {
				peak = max(peak, vmHWM(p))
			}
			select {
			case <-done:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// processTree lists pid and its descendants (Linux /proc).
func processTree(pid int) []int {
	tree := []int{pid}
	for i := 0; i < len(tree); i++ {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", tree[i]))
		for _, t := range tasks {
			b, _ := os.ReadFile(t)
			for _, f := range strings.Fields(string(b)) {
				var c int
				if _, err := fmt.Sscan(f, &c); err == nil {
					tree = append(tree, c)
				}
			}
		}
	}
	return tree
}

// vmHWM returns the peak resident set size of process pid in bytes, or 0.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			_, _ = fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb << 10
		}
	}
	return 0
}

// sparseChild runs one of the Go ways into out and prints how long it took
// and, for railyard, the strategy used. "idle" does nothing: its peak RSS
// is this program's own footprint.
func sparseChild(ctx context.Context, way, url, id, out string) error {
	start := time.Now()
	var r sparseResult
	switch way {
	case "railyard", "railyard-blobless":
		co, err := sparse.Fetch(ctx, sparse.Request{URL: url, Commit: id, Paths: []string{demo.DeployPath}})
		if err != nil {
			return err
		}
		if err := co.WriteTo(out); err != nil {
			return err
		}
		r.Strategy = co.Stats.Strategy
	case "go-git":
		if err := goGitSparse(ctx, url, id, out); err != nil {
			return err
		}
	case "idle":
		if err := os.MkdirAll(filepath.Join(out, demo.DeployPath), 0o755); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown way %q", way)
	}
	r.Elapsed = time.Since(start)
	r.SelfRSS = vmHWM(os.Getpid())
	return json.NewEncoder(os.Stdout).Encode(r)
}

// goGitSparse is go-git's high-level way: a depth-1 fetch of the exact
// commit, then a checkout with SparseCheckoutDirectories.
func goGitSparse(ctx context.Context, url, id, out string) error {
	repo, err := git.PlainInit(out, false)
	if err != nil {
		return err
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}}); err != nil {
		return err
	}
	if err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{config.RefSpec(id + ":refs/heads/pinned")},
		Depth:      1,
		Tags:       git.NoTags,
	}); err != nil {
		return err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	return wt.Checkout(&git.CheckoutOptions{Hash: plumbing.NewHash(id), SparseCheckoutDirectories: []string{demo.DeployPath}})
}

// sparseVerdicts checks the targets on the measured results.
func sparseVerdicts(all []*sparseResult) {
	get := func(preset, way string) *sparseResult {
		for _, r := range all {
			if r.preset == preset && r.Way == way {
				return r
			}
		}
		return nil
	}
	check := func(ok bool, format string, args ...any) {
		verdict := "MET"
		if !ok {
			verdict = "MISSED"
		}
		fmt.Printf("  [%s] %s\n", verdict, fmt.Sprintf(format, args...))
	}
	fmt.Println("targets:")
	presets := []string{}
	for _, r := range all {
		if !slices.Contains(presets, r.preset) {
			presets = append(presets, r.preset)
		}
	}
	for _, p := range presets {
		ry, cli, kargo := get(p, "railyard"), get(p, "git-cli"), get(p, "kargo")
		if ry == nil {
			continue
		}
		if cli != nil {
			check(ry.elapsed*2 <= cli.elapsed, "%s: wall time %v <= 0.5x git CLI %v (ratio %.3f)", p,
				ry.elapsed.Round(time.Millisecond), cli.elapsed.Round(time.Millisecond), float64(ry.elapsed)/float64(cli.elapsed))
			check(ry.received*2 <= cli.received, "%s: bytes received %d <= 0.5x git CLI %d (ratio %.4f)", p,
				ry.received, cli.received, float64(ry.received)/float64(cli.received))
			check(ry.Files == cli.Files && ry.Bytes == cli.Bytes, "%s: same files as the git CLI (%d files, %d bytes)", p, ry.Files, ry.Bytes)
		}
		if kargo != nil {
			check(ry.elapsed*50 <= kargo.elapsed, "%s: wall time %v <= 0.02x Kargo %v (ratio %.4f)", p,
				ry.elapsed.Round(time.Millisecond), kargo.elapsed.Round(time.Millisecond), float64(ry.elapsed)/float64(kargo.elapsed))
		}
		check(ry.maxRSS <= 100<<20, "%s: peak RSS %.1f MiB <= 100 MiB", p, float64(ry.maxRSS)/(1<<20))
	}
	if m, l := get("medium", "railyard"), get("large", "railyard"); m != nil && l != nil {
		ratio := float64(l.maxRSS) / float64(m.maxRSS)
		check(ratio <= 1.2 && ratio >= 1/1.2, "peak RSS large/medium = %.3f within 20%%", ratio)
	}
}
