package sparse_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/sparse"
)

// hostileCommit commits, on branch, a tree with k8s/kustomize/<name>
// holding a file, where name is something git itself would refuse to write
// (crafted with hash-object --literally), and returns the commit id.
func hostileCommit(t *testing.T, r *repo, branch, name string) string {
	t.Helper()
	blob, err := gittest.GitInput(r.dir, strings.NewReader("x\n"), "hash-object", "-w", "--stdin")
	require.NoError(t, err)
	mktree := func(mode, name, id string) string {
		raw, err := hex.DecodeString(id)
		require.NoError(t, err)
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s\x00", mode, name)
		b.Write(raw)
		out, err := gittest.GitInput(r.dir, &b, "hash-object", "-w", "-t", "tree", "--literally", "--stdin")
		require.NoError(t, err)
		return out
	}
	inner := mktree("100644", name, blob)
	kustomize := mktree("40000", "kustomize", inner)
	k8s := mktree("40000", "k8s", kustomize)
	commit := gittest.MustGit(t, r.dir, "commit-tree", "-m", "hostile", k8s)
	gittest.MustGit(t, r.dir, "update-ref", "refs/heads/"+branch, commit)
	return commit
}

// Every bad input is a typed error, with no panic and nothing left on disk.
func TestBadInput(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	old, tip := h.commits[0], h.commits[3]
	hostileDot := hostileCommit(t, h.repo, "hostile-dot", "..")
	hostileGit := hostileCommit(t, h.repo, "hostile-git", ".GIT")
	feature, err := gittest.CommitFiles(h.dir, "feature", "elsewhere", map[string]string{"k8s/kustomize/x": "x"})
	require.NoError(t, err)

	// Servers with narrower settings, for the cases that need them.
	strict := newRepo(t, gittest.Config{AllowFilter: true, AllowReachableSHA1InWant: true})
	strictOld := strict.commit(t, "one", deployFiles("1"))
	strict.commit(t, "two", deployFiles("2"))
	strictDangling := gittest.MustGit(t, strict.dir, "commit-tree", "-m", "dangling", gittest.MustGit(t, strict.dir, "rev-parse", strictOld+"^{tree}"))
	bare := newRepo(t, gittest.Config{})
	bareOld := bare.commit(t, "one", deployFiles("1"))
	bare.commit(t, "two", deployFiles("2"))
	bigBlob := newRepo(t, gittest.FullConfig())
	bigCommit := bigBlob.commit(t, "big", []gittest.File{
		{Path: "k8s/kustomize/small.yaml", Data: "a: b\n"},
		{Path: "k8s/kustomize/huge.bin", Data: strings.Repeat("0123456789abcdef", 1<<16)}, // 1 MiB
	})
	cut := newRepo(t, gittest.FullConfig())
	cutCommit := cut.commit(t, "one", deployFiles("1"))
	cut.srv.SetFault(func(r gittest.Request) *gittest.Fault {
		if r.Endpoint == gittest.EndpointUploadPack {
			return &gittest.Fault{CutAfter: 100}
		}
		return nil
	})

	k8s := []string{"k8s/kustomize"}
	for _, tc := range []struct {
		name string
		req  sparse.Request
		opts []sparse.Option
		want error
	}{
		{"no paths", sparse.Request{URL: h.url, Commit: old}, nil, sparse.ErrInvalidPath},
		{"empty path", sparse.Request{URL: h.url, Commit: old, Paths: []string{""}}, nil, sparse.ErrInvalidPath},
		{"absolute path", sparse.Request{URL: h.url, Commit: old, Paths: []string{"/etc"}}, nil, sparse.ErrInvalidPath},
		{"dot-dot path", sparse.Request{URL: h.url, Commit: old, Paths: []string{"k8s/../.."}}, nil, sparse.ErrInvalidPath},
		{"glob path", sparse.Request{URL: h.url, Commit: old, Paths: []string{"k8s/*"}}, nil, sparse.ErrInvalidPath},
		{"git dir path", sparse.Request{URL: h.url, Commit: old, Paths: []string{".git/hooks"}}, nil, sparse.ErrInvalidPath},
		{"trailing slash", sparse.Request{URL: h.url, Commit: old, Paths: []string{"k8s/"}}, nil, sparse.ErrInvalidPath},
		{"short commit", sparse.Request{URL: h.url, Commit: old[:12], Paths: k8s}, nil, sparse.ErrInvalidRequest},
		{"upper-case commit", sparse.Request{URL: h.url, Commit: strings.ToUpper(old), Paths: k8s}, nil, sparse.ErrInvalidRequest},
		{"file URL", sparse.Request{URL: "file://" + h.dir, Commit: old, Paths: k8s}, nil, sparse.ErrInvalidRequest},
		{"bad branch name", sparse.Request{URL: h.url, Commit: old, Branch: "main..x", Paths: k8s}, nil, sparse.ErrInvalidRequest},
		{"bad option", sparse.Request{URL: h.url, Commit: old, Paths: k8s}, []sparse.Option{sparse.WithMaxFiles(0)}, sparse.ErrInvalidRequest},
		{"unknown commit", sparse.Request{URL: h.url, Commit: strings.Repeat("ab", 20), Paths: k8s}, nil, sparse.ErrCommitNotFound},
		{"unreachable commit", sparse.Request{URL: strict.url, Commit: strictDangling, Paths: k8s}, nil, sparse.ErrCommitNotFound},
		{"missing path", sparse.Request{URL: h.url, Commit: old, Paths: []string{"k8s/helm"}}, nil, sparse.ErrPathNotFound},
		{"path added later", sparse.Request{URL: h.url, Commit: old, Paths: []string{"k8s/kustomize/base/jobs"}}, nil, sparse.ErrPathNotFound},
		{"path deleted later", sparse.Request{URL: h.url, Commit: tip, Paths: []string{"k8s/kustomize/overlays"}}, nil, sparse.ErrPathNotFound},
		{"path is a file", sparse.Request{URL: h.url, Commit: old, Paths: []string{"k8s/README.md"}}, nil, sparse.ErrPathNotFound},
		{"path through a file", sparse.Request{URL: h.url, Commit: old, Paths: []string{"README.md/x"}}, nil, sparse.ErrPathNotFound},
		{"exact wants refused, no branch", sparse.Request{URL: bare.url, Commit: bareOld, Paths: k8s}, nil, sparse.ErrUnsupportedServer},
		{"commit not on branch", sparse.Request{URL: bare.url, Commit: feature, Branch: "main", Paths: k8s}, nil, sparse.ErrCommitNotFound},
		{"branch not on server", sparse.Request{URL: bare.url, Commit: bareOld, Branch: "nope", Paths: k8s}, nil, sparse.ErrCommitNotFound},
		{"repository not found", sparse.Request{URL: h.srv.RepoURL("nope.git"), Commit: old, Paths: k8s}, nil, sparse.ErrNotFound},
		{"truncated pack", sparse.Request{URL: cut.url, Commit: cutCommit, Paths: k8s}, []sparse.Option{sparse.WithRetries(1, time.Millisecond, 10*time.Millisecond)}, sparse.ErrUnavailable},
		{"entry named ..", sparse.Request{URL: h.url, Commit: hostileDot, Paths: k8s}, nil, sparse.ErrUnsafeContent},
		{"entry named .GIT", sparse.Request{URL: h.url, Commit: hostileGit, Paths: k8s}, nil, sparse.ErrUnsafeContent},
		{"blob over limit", sparse.Request{URL: bigBlob.url, Commit: bigCommit, Paths: k8s}, []sparse.Option{sparse.WithMaxBlobSize(1 << 19)}, sparse.ErrLimitExceeded},
		{"too many files", sparse.Request{URL: h.url, Commit: old, Paths: k8s}, []sparse.Option{sparse.WithMaxFiles(3)}, sparse.ErrLimitExceeded},
		{"total size over limit", sparse.Request{URL: h.url, Commit: old, Paths: []string{"k8s"}}, []sparse.Option{sparse.WithMaxTotalSize(64)}, sparse.ErrLimitExceeded},
		{"transfer over limit", sparse.Request{URL: h.url, Commit: old, Paths: k8s}, []sparse.Option{sparse.WithMaxTransfer(1000)}, sparse.ErrLimitExceeded},
		{"canceled context", sparse.Request{URL: h.url, Commit: old, Paths: k8s}, nil, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.want == context.Canceled {
				cancel()
			}
			opts := append([]sparse.Option{sparse.WithTempDir(tmp)}, tc.opts...)
			var co *sparse.Checkout
			var err error
			require.NotPanics(t, func() { co, err = sparse.Fetch(ctx, tc.req, opts...) })
			require.Error(t, err)
			assert.Nil(t, co)
			assert.ErrorIs(t, err, tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "sparse: "), err.Error())
			assert.True(t, emptyDir(t, tmp), "nothing may be left behind")
		})
	}
}

// A blob over the limit is left out by the server under the path walk:
// the fetch fails without downloading it.
func TestBlobLimitNotDownloaded(t *testing.T) {
	t.Parallel()
	r := newRepo(t, gittest.FullConfig())
	commit := r.commit(t, "big", []gittest.File{
		{Path: "k8s/kustomize/huge.bin", Data: strings.Repeat("x", 4<<20)},
		{Path: "k8s/kustomize/noise.bin", Data: string(bytes.Repeat([]byte{1, 2, 3, 5, 8, 13}, 1<<20))},
	})
	_, err := sparse.Fetch(context.Background(), sparse.Request{URL: r.url, Commit: commit, Paths: []string{"k8s/kustomize"}},
		sparse.WithMaxBlobSize(1<<20))
	var le *sparse.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "blob size", le.Limit)
	assert.Contains(t, []string{"k8s/kustomize/huge.bin", "k8s/kustomize/noise.bin"}, le.Path)
	assert.Less(t, r.srv.Total(r.name).ResponseBytes, int64(64<<10))
}

// Regression: a tree holding two entries of the same name (which git fsck
// rejects, but hash-object --literally writes) was accepted: FS listed the
// name twice with the content of only one of them, and WriteTo then failed
// with an untyped "file exists".
func TestDuplicateTreeEntries(t *testing.T) {
	t.Parallel()
	r := newRepo(t, gittest.FullConfig())
	hash := func(data string) []byte {
		id, err := gittest.GitInput(r.dir, strings.NewReader(data), "hash-object", "-w", "--stdin")
		require.NoError(t, err)
		raw, err := hex.DecodeString(id)
		require.NoError(t, err)
		return raw
	}
	mktree := func(entries ...string) string {
		var b bytes.Buffer
		for i := 0; i < len(entries); i += 3 {
			fmt.Fprintf(&b, "%s %s\x00", entries[i], entries[i+1])
			raw, err := hex.DecodeString(entries[i+2])
			require.NoError(t, err)
			b.Write(raw)
		}
		out, err := gittest.GitInput(r.dir, &b, "hash-object", "-w", "-t", "tree", "--literally", "--stdin")
		require.NoError(t, err)
		return out
	}
	one, two := hex.EncodeToString(hash("image: one\n")), hex.EncodeToString(hash("image: two\n"))
	inner := mktree("100644", "app.yaml", one, "100644", "app.yaml", two)
	commit := gittest.MustGit(t, r.dir, "commit-tree", "-m", "duplicate", mktree("40000", "k8s", mktree("40000", "kustomize", inner)))
	gittest.MustGit(t, r.dir, "update-ref", "refs/heads/main", commit)

	co, err := sparse.Fetch(context.Background(), sparse.Request{URL: r.url, Commit: commit, Paths: []string{"k8s/kustomize"}})
	if err == nil {
		entries, _ := fs.ReadDir(co.FS, "k8s/kustomize")
		t.Logf("accepted; k8s/kustomize lists %d entries", len(entries))
	}
	require.ErrorIs(t, err, sparse.ErrUnsafeContent)
	assert.Nil(t, co)
}

// Regression: only files counted against WithMaxFiles, so a few hundred
// bytes of trees whose entries all point at the same subtree (a "tree
// bomb" ending in empty trees) made listCone walk and hold millions of
// directories: memory and time grew without any limit being hit.
func TestTreeBombHitsLimit(t *testing.T) {
	t.Parallel()
	r := newRepo(t, gittest.FullConfig())
	mktree := func(fanout int, child string) string {
		raw, err := hex.DecodeString(child)
		require.NoError(t, err)
		var b bytes.Buffer
		for i := 0; i < fanout; i++ {
			fmt.Fprintf(&b, "40000 d%02d\x00", i)
			b.Write(raw)
		}
		out, err := gittest.GitInput(r.dir, &b, "hash-object", "-w", "-t", "tree", "--literally", "--stdin")
		require.NoError(t, err)
		return out
	}
	level := mktree(0, "") // the empty tree
	for range 4 {
		level = mktree(32, level) // 32^4 = 1,048,576 empty directories
	}
	commit := gittest.MustGit(t, r.dir, "commit-tree", "-m", "bomb", mktree(1, mktree(1, level)))
	gittest.MustGit(t, r.dir, "update-ref", "refs/heads/main", commit)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	co, err := sparse.Fetch(ctx, sparse.Request{URL: r.url, Commit: commit, Paths: []string{"d00/d00"}}, sparse.WithMaxFiles(1000))
	require.ErrorIs(t, err, sparse.ErrLimitExceeded)
	assert.Nil(t, co)
}
