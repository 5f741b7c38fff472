package sparse_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/sparse"
)

// With a cache, a later fetch of another commit downloads only the objects
// it lacks, and a fetch of a cached commit needs only the advertisement.
func TestCacheReuse(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	o := newOracle(t, h.dir)
	paths := []string{"k8s/kustomize"}
	cache := t.TempDir()
	fetch := func(commit int, opts ...sparse.Option) *sparse.Checkout {
		t.Helper()
		co, err := sparse.Fetch(context.Background(), sparse.Request{URL: h.url, Commit: h.commits[commit], Paths: paths}, opts...)
		require.NoError(t, err)
		assert.Equal(t, o.checkout(t, h.commits[commit], paths), snapshotFS(t, co.FS))
		return co
	}
	fetch(0, sparse.WithCache(cache))
	cold := fetch(2)
	warm := fetch(2, sparse.WithCache(cache))
	assert.Less(t, warm.Stats.Objects, cold.Stats.Objects, "unchanged trees and blobs come from the cache")

	again := fetch(2, sparse.WithCache(cache))
	assert.Equal(t, 1, again.Stats.RoundTrips, "only the advertisement")
	assert.Zero(t, again.Stats.Objects)
}

// A corrupt cache is detected, emptied and rebuilt; its content is never
// trusted.
func TestCacheCorruptionRebuilt(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	paths := []string{"k8s/kustomize"}
	want := newOracle(t, h.dir).checkout(t, h.commits[1], paths)
	cache := t.TempDir()
	_, err := sparse.Fetch(context.Background(), sparse.Request{URL: h.url, Commit: h.commits[1], Paths: paths}, sparse.WithCache(cache))
	require.NoError(t, err)

	packs, err := filepath.Glob(filepath.Join(cache, "*", "objects", "pack", "*.pack"))
	require.NoError(t, err)
	require.NotEmpty(t, packs)
	for _, p := range packs {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		for i := 12; i < len(data)-20; i += 7 {
			data[i] ^= 0x55 // keep header and trailer, break the objects
		}
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}

	var logs bytes.Buffer
	co, err := sparse.Fetch(context.Background(), sparse.Request{URL: h.url, Commit: h.commits[1], Paths: paths},
		sparse.WithCache(cache), sparse.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	assert.Equal(t, want, snapshotFS(t, co.FS))
	assert.Contains(t, logs.String(), "rebuilding", "the corruption was detected")
	assert.Greater(t, co.Stats.Objects, 0, "objects were fetched again")
}

// Fetches sharing a cache directory serialize on its lock and all succeed.
func TestCacheConcurrent(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	o := newOracle(t, h.dir)
	paths := []string{"k8s"}
	want := make([]map[string]entry, len(h.commits))
	for i, c := range h.commits {
		want[i] = o.checkout(t, c, paths)
	}
	cache := t.TempDir()
	var wg sync.WaitGroup
	results := make([]*sparse.Checkout, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = sparse.Fetch(context.Background(),
				sparse.Request{URL: h.url, Commit: h.commits[i%len(h.commits)], Paths: paths}, sparse.WithCache(cache))
		}()
	}
	wg.Wait()
	for i, co := range results {
		require.NoError(t, errs[i])
		assert.Equal(t, want[i%len(h.commits)], snapshotFS(t, co.FS))
	}
}

// Fetches from several processes share a cache directory through its file
// lock. The test binary runs itself as the other processes.
func TestCacheSharedAcrossProcesses(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	paths := []string{"k8s/kustomize"}
	o := newOracle(t, h.dir)
	cache := t.TempDir()
	var wg sync.WaitGroup
	outs := make([][]byte, 3)
	errs := make([]error, 3)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0]) // runs cacheChild from TestMain
			cmd.Env = append(os.Environ(), "SPARSE_CACHE_CHILD="+cache, "SPARSE_URL="+h.url, "SPARSE_COMMIT="+h.commits[i])
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	co, err := sparse.Fetch(context.Background(), sparse.Request{URL: h.url, Commit: h.commits[3], Paths: paths}, sparse.WithCache(cache))
	wg.Wait()
	require.NoError(t, err)
	assert.Equal(t, o.checkout(t, h.commits[3], paths), snapshotFS(t, co.FS))
	for i := range outs {
		require.NoError(t, errs[i], "%s", outs[i])
		assert.Contains(t, string(outs[i]), "fetched "+h.commits[i])
	}
}

// Regression: a cache or temporary directory that cannot be used (here: a
// regular file) made Fetch return the bare operating-system error, which
// wraps none of the package's sentinels although errors.go promises that
// every error wraps exactly one, and named the local path in it.
func TestUnusableStoreDirIsTyped(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	for name, opt := range map[string]sparse.Option{"cache": sparse.WithCache(file), "temp": sparse.WithTempDir(file)} {
		_, err := sparse.Fetch(context.Background(), sparse.Request{URL: h.url, Commit: h.commits[1], Paths: []string{"k8s/kustomize"}}, opt)
		require.Error(t, err, name)
		assert.ErrorIs(t, err, sparse.ErrInvalidRequest, name)
		assert.NotContains(t, err.Error(), file, name)
	}
}

// Regression: the cache answered for any repository. A commit fetched once
// from a fork into a shared cache was then "fetched" from the official
// repository, which does not have it, with no error: content the official
// repository never held was returned as its own.
func TestCacheDoesNotAnswerForAnotherRepository(t *testing.T) {
	t.Parallel()
	fork := newRepo(t, gittest.FullConfig())
	forkOnly := fork.commit(t, "fork only", deployFiles("fork"))
	official := newRepo(t, gittest.FullConfig())
	official.commit(t, "official", deployFiles("1"))
	cache := t.TempDir()
	paths := []string{"k8s/kustomize"}
	_, err := sparse.Fetch(context.Background(), sparse.Request{URL: fork.url, Commit: forkOnly, Paths: paths}, sparse.WithCache(cache))
	require.NoError(t, err)

	co, err := sparse.Fetch(context.Background(), sparse.Request{URL: official.url, Commit: forkOnly, Paths: paths}, sparse.WithCache(cache))
	assert.ErrorIs(t, err, sparse.ErrCommitNotFound)
	assert.Nil(t, co)
}
