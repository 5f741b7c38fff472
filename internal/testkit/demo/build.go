package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// formatVersion changes whenever the generator would produce a different
// world from the same preset and seed; cached worlds of another version are
// rebuilt. Changes to the fixtures or to a preset's parameters are detected
// by themselves.
const formatVersion = 1

// markerName is the file that marks a finished world in its directory.
const markerName = "demo-world.json"

// marker is the content of the marker file.
type marker struct {
	Fixtures string // fixturesDigest at build time
	Params   string // the preset's parameters at build time
	World    *World
}

// Build generates, deterministically from seed, the demo world of preset p
// as two bare repositories under dir: dir/monorepo.git and dir/gitops.git.
// The same preset and seed always give the same commit ids and tags.
//
// If dir already holds a finished world of the same preset, seed and
// generator, Build returns it without touching the repositories; any other
// content of those two paths is replaced. Build holds a lock on dir while it
// works, so concurrent calls (also from other processes) build once.
//
// Build needs the git CLI. Errors come from the file system or git; a
// retry helps only if the cause (say, a full disk) went away.
func Build(dir string, p Preset, seed int64) (*World, error) {
	par, err := p.params()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if w := readMarker(dir, p, par, seed); w != nil {
		return w, nil
	}
	start := time.Now()
	w := &World{
		Dir: dir, MonorepoDir: filepath.Join(dir, MonorepoName), GitOpsDir: filepath.Join(dir, GitOpsName),
		Preset: p, Seed: seed, Branch: Branch, App: App, ImageRepo: ImageRepo,
		Deployments: append([]string(nil), deployments...),
	}
	if err := os.Remove(filepath.Join(dir, markerName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("demo: %w", err)
	}
	for _, repo := range []string{w.MonorepoDir, w.GitOpsDir} {
		if err := os.RemoveAll(repo); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		if _, err := gittest.Git("", "init", "--quiet", "--bare", "--initial-branch="+Branch, repo); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	m := newMonorepo(par, seed)
	if err := fastImport(w.MonorepoDir, m.write); err != nil {
		return nil, fmt.Errorf("demo: build monorepo: %w", err)
	}
	if w.Commits, err = history(w.MonorepoDir, Branch, "", m.main); err != nil {
		return nil, err
	}
	if w.OffBranch, err = history(w.MonorepoDir, FeatureBranch, Branch, m.feature); err != nil {
		return nil, err
	}
	w.Tags = planTags(par, seed, w.Commits, w.OffBranch)
	w.Legacy = legacyRecords(w.Commits)
	err = fastImport(w.GitOpsDir, func(s *stream) error { return writeGitOps(s, w.Commits, w.Legacy) })
	if err != nil {
		return nil, fmt.Errorf("demo: build gitops repository: %w", err)
	}
	if w.PolicyCommit, err = gittest.Git(w.GitOpsDir, "rev-parse", "refs/heads/"+Branch); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	w.Stats = m.stats
	w.Stats.Build = time.Since(start)
	if err := writeMarker(dir, par, w); err != nil {
		return nil, err
	}
	return w, nil
}

// fastImport streams what gen writes into `git fast-import` in repo.
func fastImport(repo string, gen func(*stream) error) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		s := newStream(pw)
		err := gen(s)
		if err == nil {
			err = s.done()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	// Level 1 keeps the pack about as small as the default for the mostly
	// incompressible bulk content, at a fraction of the CPU time. Depth 0
	// turns off fast-import's deltas against the previous object: the
	// generated blobs never delta, and trees stay small (+5 % pack size
	// for -40 % CPU time).
	_, err := gittest.GitInput(repo, pr, "-c", "pack.compression=1", "fast-import", "--depth=0", "--quiet", "--done")
	pr.CloseWithError(errors.New("fast-import exited"))
	if genErr := <-done; genErr != nil && err == nil {
		err = genErr
	}
	return err
}

// history lists the commits of branch that are not on exclude (if given),
// newest first, and fills in their ids into the generator's record of them
// (oldest first).
func history(repo, branch, exclude string, planned []Commit) ([]Commit, error) {
	args := []string{"rev-list", "--first-parent", "refs/heads/" + branch}
	if exclude != "" {
		args = append(args, "^refs/heads/"+exclude)
	}
	out, err := gittest.Git(repo, args...)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	ids := strings.Fields(out)
	if len(ids) != len(planned) {
		return nil, fmt.Errorf("demo: %s has %d commits, generated %d", branch, len(ids), len(planned))
	}
	commits := make([]Commit, len(ids))
	for i, id := range ids {
		commits[i] = planned[len(planned)-1-i]
		commits[i].ID = id
	}
	return commits, nil
}

// readMarker returns the finished world in dir if it matches, else nil.
func readMarker(dir string, p Preset, par params, seed int64) *World {
	b, err := os.ReadFile(filepath.Join(dir, markerName))
	if err != nil {
		return nil
	}
	var mk marker
	if json.Unmarshal(b, &mk) != nil || mk.World == nil || mk.Fixtures != fixturesDigest() || mk.Params != par.String() ||
		mk.World.Preset != p || mk.World.Seed != seed {
		return nil
	}
	w := mk.World
	w.Dir, w.MonorepoDir, w.GitOpsDir = dir, filepath.Join(dir, MonorepoName), filepath.Join(dir, GitOpsName)
	for _, repo := range []string{w.MonorepoDir, w.GitOpsDir} {
		if _, err := os.Stat(filepath.Join(repo, "HEAD")); err != nil {
			return nil
		}
	}
	return w
}

// writeMarker records w as finished, atomically.
func writeMarker(dir string, par params, w *World) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if err := enc.Encode(marker{Fixtures: fixturesDigest(), Params: par.String(), World: w}); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	tmp := filepath.Join(dir, markerName+".tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, markerName)); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// CacheDir returns the directory [BuildCached] uses for a preset and seed:
// $RAILYARD_DEMO_CACHE/<preset>-<seed> if that variable is set, else
// <user cache dir>/railyard/demo/<preset>-<seed>.
func CacheDir(p Preset, seed int64) (string, error) {
	root := os.Getenv("RAILYARD_DEMO_CACHE")
	if root == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("demo: no cache directory: %w", err)
		}
		root = filepath.Join(c, "railyard", "demo")
	}
	return filepath.Join(root, fmt.Sprintf("%s-%d", p, seed)), nil
}

// BuildCached is [Build] into [CacheDir], for benchmarks and programs that
// reuse the medium and large worlds across runs. Callers must not modify
// the repositories it returns; [Serve] serves copies.
func BuildCached(p Preset, seed int64) (*World, error) {
	dir, err := CacheDir(p, seed)
	if err != nil {
		return nil, err
	}
	return Build(dir, p, seed)
}
