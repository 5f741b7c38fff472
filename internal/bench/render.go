package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/railyard-gitops/railyard/render"
)

func init() { benches["render"] = runRender }

// renderDeployments are the four deployments of render's test world.
var renderDeployments = []string{"test", "staging", "levelbuilder", "production"}

// renderJob is one deployment's render: its inputs in memory and the same
// tree laid out on disk for the CLI.
type renderJob struct {
	name    string
	mounts  []render.Mount
	wrapper render.Wrapper
	diskDir string // the wrapper directory on disk
	want    []byte // the CLI's output, checked once
}

// runRender measures rendering the four deployments in one process with
// render.Build against four `kustomize build` runs of the CLI on the same
// trees laid out on disk, interleaved in one run, and the allocations of
// one build.
func runRender(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("render", flag.ContinueOnError)
	world := flags.String("world", "render/testdata/world", "render's test world (gitops/ and monorepo/)")
	cli := flags.String("kustomize", cmp.Or(os.Getenv("RAILYARD_KUSTOMIZE"), "kustomize"), "kustomize CLI")
	runs := flags.Int("runs", 7, "interleaved runs of each way; medians are reported")
	allocRuns := flags.Int("alloc-builds", 50, "builds averaged for the allocation count")
	corpus := flags.String("corpus", "render/testdata/corpus", "render's corpus of small trees, for the comparison with krusty")
	krustyRuns := flags.Int("krusty-runs", 30, "interleaved rounds of render.Build and krusty.Run per tree")
	onlyKrusty := flags.Bool("krusty-only", false, "only the comparison with in-process kustomize (no CLI needed)")
	krustyTrees := flags.String("krusty-trees", "", "only the trees of the comparison with in-process kustomize whose names (world/test, corpus/components, ...) match this regular expression")
	krustyProfile := flags.String("krusty-cpuprofile", "", "write a CPU profile of the comparison's measured rounds to this file")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *onlyKrusty {
		return compareKrusty(ctx, *world, *corpus, *krustyRuns, *krustyTrees, *krustyProfile)
	}
	version, err := exec.CommandContext(ctx, *cli, "version").Output()
	if err != nil {
		return fmt.Errorf("kustomize CLI %q: %w", *cli, err)
	}
	tmp, err := os.MkdirTemp("", "railyard-bench-render-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	jobs := make([]*renderJob, 0, len(renderDeployments))
	for _, d := range renderDeployments {
		job, err := newRenderJob(ctx, *world, d, filepath.Join(tmp, d), *cli)
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		jobs = append(jobs, job)
	}

	// The first builds of a process pay kustomize's one-time set-up (the
	// built-in OpenAPI schema); measure them apart.
	cold, err := timeInProcess(ctx, jobs)
	if err != nil {
		return err
	}
	// Wall time, and CPU time (less sensitive to a busy machine): this
	// process's for render.Build, the children's for the CLI.
	var inProcess, cliRuns []time.Duration
	var inProcessCPU, cliCPU time.Duration
	for range max(*runs, 1) {
		cpu := processCPU()
		d, err := timeInProcess(ctx, jobs)
		if err != nil {
			return err
		}
		inProcessCPU += processCPU() - cpu
		inProcess = append(inProcess, d)
		d, cpu, err = timeCLI(ctx, jobs, *cli)
		if err != nil {
			return err
		}
		cliCPU += cpu
		cliRuns = append(cliRuns, d)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range *allocRuns {
		job := jobs[i%len(jobs)]
		if _, err := render.Build(ctx, job.mounts, job.wrapper); err != nil {
			return err
		}
	}
	runtime.ReadMemStats(&after)
	n := uint64(max(*allocRuns, 1))

	fmt.Printf("kustomize CLI: %s", version)
	fmt.Printf("4 deployments (%s), %d interleaved runs, %d CPUs\n", strings.Join(renderDeployments, ", "), len(inProcess), runtime.NumCPU())
	fmt.Printf("  render.Build, in process:   %s  (first, cold: %s)\n", durations(inProcess), cold.Round(time.Microsecond))
	fmt.Printf("  kustomize build, 4 runs:    %s\n", durations(cliRuns))
	mi, mc := medianDuration(inProcess), medianDuration(cliRuns)
	ratio := float64(mi) / float64(mc)
	fmt.Printf("median: %s vs %s, ratio %.4f (cold first: %.4f)\n", mi.Round(time.Microsecond), mc.Round(time.Millisecond),
		ratio, float64(cold)/float64(mc))
	fmt.Printf("CPU time, all runs: %s vs %s, ratio %.4f\n", inProcessCPU.Round(time.Millisecond), cliCPU.Round(time.Millisecond),
		float64(inProcessCPU)/float64(cliCPU))
	fmt.Printf("per build: %d allocs, %.2f MiB allocated (mean of %d builds)\n",
		(after.Mallocs-before.Mallocs)/n, float64(after.TotalAlloc-before.TotalAlloc)/float64(n)/(1<<20), n)
	verdict := "MET"
	if ratio > 0.05 {
		verdict = "MISSED"
	}
	fmt.Printf("target ratio <= 0.05: %s\n\n", verdict)
	return compareKrusty(ctx, *world, *corpus, *krustyRuns, *krustyTrees, *krustyProfile)
}

// krustyJob is one tree built every way: render.Build from its mounts and
// wrapper, krusty.Run on the same assembled tree (the mounts and the
// wrapper kustomization Build wrote) on the disk and in kustomize's
// in-memory file system, and, for a corpus tree, krusty.Run on the tree
// alone, without the wrapper.
type krustyJob struct {
	name    string
	mounts  []render.Mount
	wrapper render.Wrapper
	root    string             // the assembled tree on the disk
	diskDir string             // its wrapper's directory
	mem     filesys.FileSystem // the assembled tree in memory; nil when kustomize's memfs cannot hold its names
	memDir  string
	bareDir string                   // the corpus tree alone; "" for the world's deployments
	times   [numWays][]time.Duration // per round; 0 where the way does not apply
	cpu     [numWays]time.Duration   // this process's CPU time, all rounds
}

// The ways a tree is built, in the order of the table.
const (
	wayRender = iota
	wayDisk
	wayMem
	wayBare
	numWays
)

var wayNames = [numWays]string{"render", "krusty/disk", "krusty/mem", "krusty/disk, tree alone"}

// compareKrusty measures render.Build against kustomize in the same
// process, as Kargo's kustomize-build step runs it: krusty.Run on the tree
// on the disk (kyaml's disk file system; Kargo's is fluxcd's securefs
// over it), load restrictions none, plugins disabled but Helm enabled,
// the output encoded as YAML. The reference is the same tree: the mounts
// and the wrapper kustomization Build assembles, written to the disk (and
// to kustomize's in-memory file system, a second reference without disk
// reads). Corpus trees are also built alone by krusty, to show what the
// wrapper's extra kustomization level costs. Trees: the four deployments
// of render's test world and every tree of the corpus. Each round builds
// every tree once every way, trees and ways in a shuffled order; per tree
// the medians are compared, and the CPU time of this process is summed per
// way.
func compareKrusty(ctx context.Context, world, corpus string, runs int, trees, profile string) error {
	only, err := regexp.Compile(trees)
	if err != nil {
		return fmt.Errorf("-krusty-trees: %w", err)
	}
	tmp, err := os.MkdirTemp("", "railyard-bench-krusty-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var jobs []*krustyJob
	for _, d := range renderDeployments {
		if !only.MatchString("world/" + d) {
			continue
		}
		root := filepath.Join(tmp, "world", d)
		job, err := newRenderJob(ctx, world, d, root, "")
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		jobs = append(jobs, &krustyJob{name: "world/" + d, mounts: job.mounts, wrapper: job.wrapper, root: root, diskDir: job.diskDir})
	}
	entries, err := os.ReadDir(corpus)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || !only.MatchString("corpus/"+e.Name()) {
			continue
		}
		dir, err := filepath.Abs(filepath.Join(corpus, e.Name()))
		if err != nil {
			return err
		}
		j := &krustyJob{name: "corpus/" + e.Name(), bareDir: dir, root: filepath.Join(tmp, "corpus", e.Name()),
			mounts:  []render.Mount{{At: "t", FS: os.DirFS(dir)}},
			wrapper: render.Wrapper{Dir: "w", Resources: []string{"../t"}}}
		r, err := render.Build(ctx, j.mounts, j.wrapper)
		if err != nil {
			return fmt.Errorf("%s: %w", j.name, err)
		}
		if j.diskDir, err = writeTree(j.root, j.mounts, j.wrapper, r.Wrapper()); err != nil {
			return fmt.Errorf("%s: %w", j.name, err)
		}
		jobs = append(jobs, j)
	}
	for _, j := range jobs {
		// The same tree in memory, unless kustomize's memfs refuses a
		// name (it holds only [a-zA-Z0-9-_.:]).
		j.mem, j.memDir, err = memTree(j.root, j.diskDir)
		if err != nil {
			return fmt.Errorf("%s: %w", j.name, err)
		}
	}
	// Every way must give the same objects (Kargo's options leave Reorder
	// unset, which is neither legacy nor unspecified: krusty's objects
	// come in input order, render's in the order `kustomize build`
	// prints), and the first builds pay kustomize's one-time set-up
	// outside the measurement.
	for _, j := range jobs {
		r, err := render.Build(ctx, j.mounts, j.wrapper)
		if err != nil {
			return fmt.Errorf("%s: %w", j.name, err)
		}
		for w := wayDisk; w < numWays; w++ {
			y, err := j.build(ctx, w)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", j.name, wayNames[w], err)
			}
			if y != nil && !sameDocuments(y, r.YAML()) {
				return fmt.Errorf("%s: render.Build and %s give other objects", j.name, wayNames[w])
			}
		}
	}
	if len(jobs) == 0 {
		return fmt.Errorf("no tree matches -krusty-trees %q", trees)
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var cpu [numWays]time.Duration
	// The order of the trees and of the ways is shuffled in every round:
	// in a fixed order, garbage collections fall at the same points of
	// every round and charge the same builds, a bias that more rounds do
	// not shrink. Seeded, so that a run can be repeated.
	rng := rand.New(rand.NewPCG(1, 14))
	for range max(runs, 1) {
		for _, ji := range rng.Perm(len(jobs)) {
			j := jobs[ji]
			for _, w := range rng.Perm(numWays) {
				c, start := processCPU(), time.Now()
				y, err := j.build(ctx, w)
				if err != nil {
					return fmt.Errorf("%s: %s: %w", j.name, wayNames[w], err)
				}
				if y == nil {
					continue
				}
				d, dc := time.Since(start), processCPU()-c
				j.times[w] = append(j.times[w], d)
				j.cpu[w] += dc
				cpu[w] += dc
			}
		}
	}

	fmt.Printf("render.Build vs krusty.Run (Kargo's kustomize-build options) on the same assembled tree, %d interleaved rounds, %d CPUs\n", runs, runtime.NumCPU())
	fmt.Printf("  %-38s %9s %9s %9s %7s %7s %9s %7s\n", "tree (median wall time)", "render", "disk", "mem", "/disk", "/mem", "alone", "/alone")
	var ratios [numWays][]float64
	for _, j := range jobs {
		mr := medianDuration(j.times[wayRender])
		line := fmt.Sprintf("  %-38s %9s", j.name, mr.Round(10*time.Microsecond))
		cols := [numWays]string{}
		for w := wayDisk; w < numWays; w++ {
			if len(j.times[w]) == 0 {
				cols[w] = "-"
				continue
			}
			m := medianDuration(j.times[w])
			ratio := float64(mr) / float64(m)
			ratios[w] = append(ratios[w], ratio)
			cols[w] = fmt.Sprintf("%s %.3f", m.Round(10*time.Microsecond), ratio)
		}
		split := func(w int) (string, string) {
			a, b, ok := strings.Cut(cols[w], " ")
			if !ok {
				return a, "-"
			}
			return a, b
		}
		dt, dr := split(wayDisk)
		mt, mrr := split(wayMem)
		bt, br := split(wayBare)
		fmt.Printf("%s %9s %9s %7s %7s %9s %7s\n", line, dt, mt, dr, mrr, bt, br)
	}
	for w := wayDisk; w < numWays; w++ {
		rs := slices.Sorted(slices.Values(ratios[w]))
		fmt.Printf("render / %-24s per tree: median %.3f, worst %.3f (%d trees)\n", wayNames[w], rs[len(rs)/2], rs[len(rs)-1], len(rs))
	}
	fmt.Printf("CPU time, all rounds: render %s, krusty/disk %s, krusty/mem %s: ratios %.3f, %.3f\n",
		cpu[wayRender].Round(time.Millisecond), cpu[wayDisk].Round(time.Millisecond), cpu[wayMem].Round(time.Millisecond),
		float64(cpu[wayRender])/float64(cpu[wayDisk]), float64(cpu[wayRender])/float64(cpu[wayMem]))
	worst := slices.Max(ratios[wayDisk])
	verdict := "MET"
	if worst > 1.0 {
		verdict = "MISSED"
	}
	fmt.Printf("target render / krusty on the disk <= 1.0 on every tree: %s (worst %.3f)\n", verdict, worst)
	printPaired(jobs, runs)
	return nil
}

// printPaired prints, per tree, render's time over krusty's on the disk
// paired round by round (the two builds ran within milliseconds of each
// other, so a slow phase of the machine slows both), the median of those
// ratios with its 95% confidence interval, and the ratio of the CPU time
// of all rounds. A tree is over the target only where the whole interval
// is over 1.0: a median whose interval holds 1.0 is not measurably slower.
func printPaired(jobs []*krustyJob, runs int) {
	fmt.Printf("paired by round: render / krusty on the disk, median of %d per-round ratios [95%% confidence interval], CPU of all rounds\n", runs)
	var over, parity, under []string
	for _, j := range jobs {
		rs := make([]float64, len(j.times[wayRender]))
		for i, d := range j.times[wayRender] {
			rs[i] = float64(d) / float64(j.times[wayDisk][i])
		}
		med, lo, hi := medianCI(rs)
		cpu := float64(j.cpu[wayRender]) / float64(j.cpu[wayDisk])
		fmt.Printf("  %-38s %.3f [%.3f, %.3f]  CPU %.3f\n", j.name, med, lo, hi, cpu)
		switch {
		case lo > 1.0:
			over = append(over, j.name)
		case hi < 1.0:
			under = append(under, j.name)
		default:
			parity = append(parity, j.name)
		}
	}
	fmt.Printf("paired: %d trees faster than krusty on the disk, %d at parity (interval holds 1.0), %d slower %v\n", len(under), len(parity), len(over), over)
}

// medianCI returns the median of xs and a distribution-free 95%
// confidence interval for it: the order statistics n/2 ± 0.98·√n.
func medianCI(xs []float64) (med, lo, hi float64) {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	half := 0.98 * math.Sqrt(float64(n))
	l := max(int(math.Floor(float64(n)/2-half)), 0)
	h := min(int(math.Ceil(float64(n)/2+half)), n-1)
	return s[n/2], s[l], s[h]
}

// build builds j way w (not render.Build) and returns the YAML, or nil
// when the way does not apply to j.
func (j *krustyJob) build(ctx context.Context, w int) ([]byte, error) {
	switch w {
	case wayRender:
		_, err := render.Build(ctx, j.mounts, j.wrapper)
		return []byte{}, err
	case wayDisk:
		return krustyBuild(filesys.MakeFsOnDisk(), j.diskDir)
	case wayMem:
		if j.mem == nil {
			return nil, nil
		}
		return krustyBuild(j.mem, j.memDir)
	case wayBare:
		if j.bareDir == "" {
			return nil, nil
		}
		return krustyBuild(filesys.MakeFsOnDisk(), j.bareDir)
	}
	return nil, fmt.Errorf("no way %d", w)
}

// krustyBuild builds dir of fsys as Kargo's kustomize-build step does.
func krustyBuild(fsys filesys.FileSystem, dir string) ([]byte, error) {
	pc := types.DisabledPluginConfig()
	pc.HelmConfig.Enabled = true
	pc.HelmConfig.Command = "helm"
	rm, err := krusty.MakeKustomizer(&krusty.Options{LoadRestrictions: types.LoadRestrictionsNone, PluginConfig: pc}).Run(fsys, dir)
	if err != nil {
		return nil, err
	}
	return rm.AsYaml()
}

// writeTree writes the assembled tree of mounts and the wrapper
// kustomization (as Build wrote it) under root and returns the wrapper's
// directory.
func writeTree(root string, mounts []render.Mount, w render.Wrapper, wrapper []byte) (string, error) {
	for _, m := range mounts {
		if err := os.CopyFS(filepath.Join(root, filepath.FromSlash(m.At)), m.FS); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(root, filepath.FromSlash(w.Dir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), wrapper, 0o644)
}

// memTree copies the tree under root on the disk into kustomize's
// in-memory file system and returns it with the path of dir in it; a nil
// file system if kustomize's refuses a name.
func memTree(root, dir string) (filesys.FileSystem, string, error) {
	mem := filesys.MakeFsInMemory()
	refused := false
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if mem.WriteFile("/"+filepath.ToSlash(rel), data) != nil {
			refused = true
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil || refused {
		return nil, "", err
	}
	rel, err := filepath.Rel(root, dir)
	return mem, "/" + filepath.ToSlash(rel), err
}

// sameDocuments reports whether two YAML streams hold the same documents,
// in any order.
func sameDocuments(a, b []byte) bool {
	docs := func(y []byte) []string {
		return slices.Sorted(slices.Values(strings.Split(strings.TrimSuffix(string(y), "\n"), "\n---\n")))
	}
	return slices.Equal(docs(a), docs(b))
}

// newRenderJob prepares deployment d as the Kargo promotion lays it out
// (the monorepo at src, the env type and shared components under render/,
// the wrapper at render/deploy), builds it once, writes the same tree to
// dir and checks that the CLI prints the same bytes.
func newRenderJob(ctx context.Context, world, d, dir, cli string) (*renderJob, error) {
	gitops := os.DirFS(filepath.Join(world, "gitops"))
	dep, err := render.LoadDeployment(gitops, "apps/codeai/deployments/"+d+"/deployment.yaml")
	if err != nil {
		return nil, err
	}
	job := &renderJob{name: d, wrapper: render.Wrapper{
		Dir:       "render/deploy",
		Template:  "policy/deploy/kustomization.yaml",
		Namespace: dep.Namespace,
		Images: []render.Image{{
			Name: "code-dot-org", NewName: "ghcr.io/code-dot-org/code-dot-org",
			Tag: "git-" + strings.Repeat("5e", 20),
		}},
	}}
	for at, sub := range map[string]string{
		"render/envType":    "apps/codeai/envTypes/" + dep.EnvType,
		"render/components": "apps/codeai/envTypes/components",
		"policy":            "apps/codeai/kargo/templates",
	} {
		fsys, err := fs.Sub(gitops, sub)
		if err != nil {
			return nil, err
		}
		job.mounts = append(job.mounts, render.Mount{At: at, FS: fsys})
	}
	job.mounts = append(job.mounts, render.Mount{At: "src", FS: os.DirFS(filepath.Join(world, "monorepo"))})

	r, err := render.Build(ctx, job.mounts, job.wrapper)
	if err != nil {
		return nil, err
	}
	if job.diskDir, err = writeTree(dir, job.mounts, job.wrapper, r.Wrapper()); err != nil {
		return nil, err
	}
	if cli == "" {
		return job, nil
	}
	if job.want, err = exec.CommandContext(ctx, cli, "build", job.diskDir).Output(); err != nil {
		return nil, fmt.Errorf("kustomize build: %w", err)
	}
	if !bytes.Equal(job.want, r.YAML()) {
		return nil, fmt.Errorf("render.Build and the kustomize CLI disagree")
	}
	return job, nil
}

// timeInProcess renders every job once with render.Build.
func timeInProcess(ctx context.Context, jobs []*renderJob) (time.Duration, error) {
	start := time.Now()
	for _, job := range jobs {
		r, err := render.Build(ctx, job.mounts, job.wrapper)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", job.name, err)
		}
		if len(r.Objects()) == 0 {
			return 0, fmt.Errorf("%s: no objects", job.name)
		}
	}
	return time.Since(start), nil
}

// timeCLI runs `kustomize build` once per job and returns the wall time
// and the CPU time of the processes.
func timeCLI(ctx context.Context, jobs []*renderJob, cli string) (time.Duration, time.Duration, error) {
	var cpu time.Duration
	start := time.Now()
	for _, job := range jobs {
		cmd := exec.CommandContext(ctx, cli, "build", job.diskDir)
		out, err := cmd.Output()
		if err != nil {
			return 0, 0, fmt.Errorf("%s: kustomize build: %w", job.name, err)
		}
		if len(out) != len(job.want) {
			return 0, 0, fmt.Errorf("%s: kustomize build output changed", job.name)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return time.Since(start), cpu, nil
}

// processCPU returns the CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func medianDuration(ds []time.Duration) time.Duration {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

func durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Round(100 * time.Microsecond).String()
	}
	return strings.Join(parts, " ")
}
