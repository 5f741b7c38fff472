package sparse_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/sparse"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	gittest.MustGit(t, h.dir, "tag", "light", h.commits[1])
	gittest.MustGit(t, h.dir, "tag", "-a", "-m", "annotated", "v1", h.commits[2])
	gittest.MustGit(t, h.dir, "branch", "release", h.commits[0])
	for ref, want := range map[string]string{
		"main":               h.commits[3],
		"refs/heads/main":    h.commits[3],
		"HEAD":               h.commits[3],
		"release":            h.commits[0],
		"light":              h.commits[1],
		"v1":                 h.commits[2], // peeled to the commit
		"refs/tags/v1":       h.commits[2],
		"refs/heads/release": h.commits[0],
	} {
		h.srv.ResetStats()
		got, err := sparse.Resolve(context.Background(), h.url, ref)
		require.NoError(t, err, ref)
		assert.Equal(t, want, got, ref)
		total := h.srv.Total(h.name)
		assert.Equal(t, int64(1), total.Requests, "one round trip")
	}

	_, err := sparse.Resolve(context.Background(), h.url, "nope")
	assert.ErrorIs(t, err, sparse.ErrRefNotFound)
	for _, bad := range []string{"", "a..b", "main@{1}", "a b", "-x", "x\x00"} {
		_, err := sparse.Resolve(context.Background(), h.url, bad)
		assert.ErrorIs(t, err, sparse.ErrInvalidRequest, "%q", bad)
	}
	_, err = sparse.Resolve(context.Background(), "file:///tmp/x.git", "main")
	assert.ErrorIs(t, err, sparse.ErrInvalidRequest)
	_, err = sparse.Resolve(context.Background(), h.srv.RepoURL("missing.git"), "main")
	assert.ErrorIs(t, err, sparse.ErrNotFound)
	assert.False(t, sparse.IsRetryable(err))
}

// Regression: on a repository without any ref, Resolve returned an error
// wrapping ErrCommitNotFound, which its documentation does not list;
// callers branching on ErrRefNotFound missed it.
func TestResolveEmptyRepository(t *testing.T) {
	t.Parallel()
	r := newRepo(t, gittest.FullConfig())
	_, err := sparse.Resolve(context.Background(), r.url, "main")
	require.Error(t, err)
	assert.ErrorIs(t, err, sparse.ErrRefNotFound)
	assert.NotErrorIs(t, err, sparse.ErrCommitNotFound)
}

// Regression: Resolve silently ignored the options only Fetch uses, so
// Resolve(ctx, url, ref, WithCache(dir), WithMaxObjects(1)) looked
// configured when it was not. They are refused now, before any request,
// and the options Resolve does use still work.
func TestResolveRefusesFetchOnlyOptions(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	for name, opt := range map[string]sparse.Option{
		"WithCache":         sparse.WithCache(t.TempDir()),
		"WithTempDir":       sparse.WithTempDir(t.TempDir()),
		"WithMaxBlobSize":   sparse.WithMaxBlobSize(1),
		"WithMaxFiles":      sparse.WithMaxFiles(1),
		"WithMaxTotalSize":  sparse.WithMaxTotalSize(1),
		"WithMaxObjects":    sparse.WithMaxObjects(1),
		"WithMaxObjectSize": sparse.WithMaxObjectSize(1 << 30),
		"WithMaxInflated":   sparse.WithMaxInflated(1),
		"WithProgress":      sparse.WithProgress(func(sparse.Progress) {}),
	} {
		h.srv.ResetStats()
		_, err := sparse.Resolve(context.Background(), h.url, "main", opt)
		require.ErrorIs(t, err, sparse.ErrInvalidRequest, name)
		assert.ErrorIs(t, err, sparse.ErrInvalid, name)
		assert.ErrorContains(t, err, name+" does not apply to Resolve")
		assert.Zero(t, h.srv.Total(h.name).Requests, "%s: refused before any request", name)
	}
	got, err := sparse.Resolve(context.Background(), h.url, "main", sparse.WithMaxTransfer(1<<20),
		sparse.WithRetries(0, time.Millisecond, time.Millisecond), sparse.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	assert.Equal(t, h.commits[3], got)
}
