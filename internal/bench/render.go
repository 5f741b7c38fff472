package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *onlyKrusty {
		return compareKrusty(ctx, *world, *corpus, *krustyRuns)
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
	return compareKrusty(ctx, *world, *corpus, *krustyRuns)
}

// krustyJob is one tree built both ways: render.Build from its mounts,
// krusty.Run on its copy on the disk.
type krustyJob struct {
	name     string
	mounts   []render.Mount
	wrapper  render.Wrapper
	diskDir  string
	renderNs []time.Duration
	krustyNs []time.Duration
}

// compareKrusty measures render.Build against kustomize in the same
// process, as Kargo's kustomize-build step runs it: krusty.Run on the tree
// on the disk (kyaml's disk file system; Kargo's is fluxcd's securefs
// over it), load restrictions none, plugins disabled but Helm enabled,
// the output encoded as YAML. Trees: the four deployments of render's
// test world and every tree of the corpus. Rounds interleave the two
// ways; per tree the medians are compared, and the CPU time of this
// process is summed per way.
func compareKrusty(ctx context.Context, world, corpus string, runs int) error {
	tmp, err := os.MkdirTemp("", "railyard-bench-krusty-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var jobs []*krustyJob
	for _, d := range renderDeployments {
		job, err := newRenderJob(ctx, world, d, filepath.Join(tmp, d), "")
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		jobs = append(jobs, &krustyJob{name: "world/" + d, mounts: job.mounts, wrapper: job.wrapper, diskDir: job.diskDir})
	}
	entries, err := os.ReadDir(corpus)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir, err := filepath.Abs(filepath.Join(corpus, e.Name()))
		if err != nil {
			return err
		}
		jobs = append(jobs, &krustyJob{name: "corpus/" + e.Name(), diskDir: dir,
			mounts:  []render.Mount{{At: "t", FS: os.DirFS(dir)}},
			wrapper: render.Wrapper{Dir: "w", Resources: []string{"../t"}}})
	}
	// Both ways must print the same bytes; the first builds also pay
	// kustomize's one-time set-up, outside the measurement.
	for _, j := range jobs {
		r, err := render.Build(ctx, j.mounts, j.wrapper)
		if err != nil {
			return fmt.Errorf("%s: %w", j.name, err)
		}
		y, err := krustyBuild(j.diskDir)
		if err != nil {
			return fmt.Errorf("%s: krusty: %w", j.name, err)
		}
		// Kargo's options leave Reorder unset, which is neither legacy nor
		// unspecified: its objects come in input order, not in the
		// order `kustomize build` prints (render's). The same objects,
		// though.
		if len(y) != len(r.YAML()) && strings.HasPrefix(j.name, "corpus/") {
			return fmt.Errorf("%s: render.Build and krusty.Run disagree", j.name)
		}
	}
	var renderCPU, krustyCPU time.Duration
	for range max(runs, 1) {
		for _, j := range jobs {
			cpu, start := processCPU(), time.Now()
			if _, err := render.Build(ctx, j.mounts, j.wrapper); err != nil {
				return err
			}
			j.renderNs = append(j.renderNs, time.Since(start))
			renderCPU += processCPU() - cpu
			cpu, start = processCPU(), time.Now()
			if _, err := krustyBuild(j.diskDir); err != nil {
				return err
			}
			j.krustyNs = append(j.krustyNs, time.Since(start))
			krustyCPU += processCPU() - cpu
		}
	}
	fmt.Printf("render.Build vs krusty.Run on the disk (Kargo's kustomize-build), %d interleaved rounds, %d CPUs\n", runs, runtime.NumCPU())
	fmt.Printf("  %-42s %10s %10s %7s\n", "tree (median wall time)", "render", "krusty", "ratio")
	worst := 0.0
	var ratios []float64
	for _, j := range jobs {
		mr, mk := medianDuration(j.renderNs), medianDuration(j.krustyNs)
		ratio := float64(mr) / float64(mk)
		ratios = append(ratios, ratio)
		worst = max(worst, ratio)
		fmt.Printf("  %-42s %10s %10s %7.3f\n", j.name, mr.Round(10*time.Microsecond), mk.Round(10*time.Microsecond), ratio)
	}
	slices.Sort(ratios)
	fmt.Printf("ratio per tree: median %.3f, worst %.3f\n", ratios[len(ratios)/2], worst)
	cpuRatio := float64(renderCPU) / float64(krustyCPU)
	fmt.Printf("CPU time, all rounds: %s vs %s, ratio %.3f\n", renderCPU.Round(time.Millisecond), krustyCPU.Round(time.Millisecond), cpuRatio)
	verdict := "MET"
	if cpuRatio > 1.0 || ratios[len(ratios)/2] > 1.0 {
		verdict = "MISSED"
	}
	fmt.Printf("target ratio <= 1.0 (CPU, and median per tree): %s\n", verdict)
	return nil
}

// krustyBuild builds dir as Kargo's kustomize-build step does.
func krustyBuild(dir string) ([]byte, error) {
	pc := types.DisabledPluginConfig()
	pc.HelmConfig.Enabled = true
	pc.HelmConfig.Command = "helm"
	rm, err := krusty.MakeKustomizer(&krusty.Options{LoadRestrictions: types.LoadRestrictionsNone, PluginConfig: pc}).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	return rm.AsYaml()
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
	for _, m := range job.mounts {
		if err := os.CopyFS(filepath.Join(dir, filepath.FromSlash(m.At)), m.FS); err != nil {
			return nil, err
		}
	}
	job.diskDir = filepath.Join(dir, filepath.FromSlash(job.wrapper.Dir))
	if err := os.MkdirAll(job.diskDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(job.diskDir, "kustomization.yaml"), r.Wrapper(), 0o644); err != nil {
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
