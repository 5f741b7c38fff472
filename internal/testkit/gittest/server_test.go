package gittest_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

func seed(t *testing.T, s *gittest.Server, name string) string {
	t.Helper()
	dir, err := s.InitBare(name)
	require.NoError(t, err)
	_, err = gittest.CommitFiles(dir, "main", "first", map[string]string{"README.md": "hello\n"})
	require.NoError(t, err)
	id, err := gittest.CommitFiles(dir, "main", "second", map[string]string{"k8s/kustomize/base/kustomization.yaml": "resources: []\n"})
	require.NoError(t, err)
	return id
}

func TestGitCLICloneAndPush(t *testing.T) {
	t.Parallel()
	s := gittest.New(t)
	tip := seed(t, s, "org/repo.git")

	work := filepath.Join(t.TempDir(), "clone")
	gittest.MustGit(t, "", "clone", "--quiet", s.RepoURL("org/repo.git"), work)
	assert.Equal(t, tip, gittest.MustGit(t, work, "rev-parse", "HEAD"))
	data, err := os.ReadFile(filepath.Join(work, "README.md"))
	require.NoError(t, err)
	assert.Equal(t, "hello\n", string(data))

	require.NoError(t, os.WriteFile(filepath.Join(work, "new.txt"), []byte("x"), 0o644))
	gittest.MustGit(t, work, "add", "new.txt")
	gittest.MustGit(t, work, "commit", "--quiet", "-m", "third")
	gittest.MustGit(t, work, "push", "--quiet", "origin", "main")
	pushed := gittest.MustGit(t, work, "rev-parse", "HEAD")
	assert.Equal(t, pushed, gittest.MustGit(t, s.RepoDir("org/repo.git"), "rev-parse", "main"))

	st := s.Stats("org/repo.git")
	assert.Positive(t, st[gittest.EndpointInfoRefs].Requests)
	assert.Positive(t, st[gittest.EndpointUploadPack].ResponseBytes)
	assert.Positive(t, st[gittest.EndpointReceivePack].RequestBytes)
	total := s.Total("org/repo.git")
	assert.Equal(t, st[gittest.EndpointInfoRefs].Requests+st[gittest.EndpointUploadPack].Requests+st[gittest.EndpointReceivePack].Requests, total.Requests)

	s.ResetStats()
	assert.Empty(t, s.Stats("org/repo.git"))
}

// A request larger than the git CLI's http.postBuffer goes out chunked,
// which Go's CGI host refuses; the server buffers it (a lazy fetch of many
// blobs from a blobless clone is such a request).
func TestChunkedRequestBody(t *testing.T) {
	t.Parallel()
	s := gittest.New(t)
	dir, err := s.InitBare("repo.git")
	require.NoError(t, err)
	// 2,000 blobs: the checkout's lazy fetch wants them in one request of
	// about 100 kB, above the 64 kB post buffer set below.
	files := map[string]string{}
	for i := range 2000 {
		files[fmt.Sprintf("f/%04d.txt", i)] = fmt.Sprintf("file %d\n", i)
	}
	tip, err := gittest.CommitFiles(dir, "main", "many", files)
	require.NoError(t, err)
	require.NoError(t, s.Configure("repo.git", gittest.Config{AllowFilter: true, AllowAnySHA1InWant: true}))
	work := filepath.Join(t.TempDir(), "w")
	gittest.MustGit(t, "", "-c", "http.postBuffer=65536", "clone", "--quiet", "--filter=blob:none", s.RepoURL("repo.git"), work)
	assert.Equal(t, tip, gittest.MustGit(t, work, "rev-parse", "HEAD"))
	b, err := os.ReadFile(filepath.Join(work, "f/1999.txt"))
	require.NoError(t, err)
	assert.Equal(t, "file 1999\n", string(b))
}

func TestGoGitFetch(t *testing.T) {
	t.Parallel()
	s := gittest.New(t)
	tip := seed(t, s, "repo.git")

	r, err := git.Init(memory.NewStorage(), nil)
	require.NoError(t, err)
	_, err = r.CreateRemote(&gogitRemote)
	require.NoError(t, err)
	err = r.FetchContext(context.Background(), &git.FetchOptions{
		RemoteName: "origin",
		RemoteURL:  s.RepoURL("repo.git"),
		RefSpecs:   []gogitRefSpec{"+refs/heads/main:refs/remotes/origin/main"},
	})
	require.NoError(t, err)
	ref, err := r.Reference(plumbing.NewRemoteReferenceName("origin", "main"), true)
	require.NoError(t, err)
	assert.Equal(t, tip, ref.Hash().String())
	assert.Equal(t, int64(1), s.Stats("repo.git")[gittest.EndpointUploadPack].Requests)
}

func TestConfigSwitches(t *testing.T) {
	t.Parallel()
	s := gittest.New(t)
	seed(t, s, "repo.git")

	// With filters allowed a blobless clone is a partial clone.
	on := filepath.Join(t.TempDir(), "on")
	gittest.MustGit(t, "", "clone", "--quiet", "--no-checkout", "--filter=blob:none", s.RepoURL("repo.git"), on)
	assert.NotEmpty(t, missing(t, on), "a server with uploadpack.allowFilter must send no blobs")

	// Without them the server ignores the filter and sends everything.
	require.NoError(t, s.Configure("repo.git", gittest.Config{}))
	off := filepath.Join(t.TempDir(), "off")
	out, err := gittest.GitInput("", nil, "clone", "--no-checkout", "--filter=blob:none", s.RepoURL("repo.git"), off)
	require.NoError(t, err, out)
	assert.Empty(t, missing(t, off), "a server without uploadpack.allowFilter must send every object")

	// Exact-id wants of an unadvertised commit are refused without the switches.
	first := gittest.MustGit(t, s.RepoDir("repo.git"), "rev-parse", "main~1")
	fetchDir := filepath.Join(t.TempDir(), "f")
	gittest.MustGit(t, "", "init", "--quiet", fetchDir)
	_, err = gittest.Git(fetchDir, "-c", "protocol.version=0", "fetch", "--quiet", s.RepoURL("repo.git"), first)
	assert.Error(t, err)
	require.NoError(t, s.Configure("repo.git", gittest.Config{AllowReachableSHA1InWant: true}))
	gittest.MustGit(t, fetchDir, "-c", "protocol.version=0", "fetch", "--quiet", s.RepoURL("repo.git"), first)

	// Pushes are refused when receive-pack is off.
	_, err = gittest.Git(off, "push", "--quiet", "origin", "HEAD:refs/heads/other")
	assert.Error(t, err)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := gittest.New(t)
	seed(t, s, "repo.git")
	url := s.RepoURL("repo.git") + "/info/refs?service=git-upload-pack"

	t.Run("status", func(t *testing.T) {
		s.SetFault(func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointInfoRefs {
				return &gittest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "7"}
			}
			return nil
		})
		defer s.SetFault(nil)
		resp, err := http.Get(url)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, "7", resp.Header.Get("Retry-After"))
	})
	t.Run("nth", func(t *testing.T) {
		s.ResetStats()
		var seen []int64
		s.SetFault(func(r gittest.Request) *gittest.Fault {
			seen = append(seen, r.N)
			if r.N == 2 {
				return &gittest.Fault{Status: http.StatusServiceUnavailable}
			}
			return nil
		})
		defer s.SetFault(nil)
		var codes []int
		for range 3 {
			resp, err := http.Get(url)
			require.NoError(t, err)
			resp.Body.Close()
			codes = append(codes, resp.StatusCode)
		}
		assert.Equal(t, []int{200, 503, 200}, codes)
		assert.Equal(t, []int64{1, 2, 3}, seen)
	})
	t.Run("cut", func(t *testing.T) {
		s.SetFault(func(r gittest.Request) *gittest.Fault {
			if r.Endpoint == gittest.EndpointUploadPack {
				return &gittest.Fault{CutAfter: 100}
			}
			return nil
		})
		defer s.SetFault(nil)
		_, err := gittest.Git("", "clone", "--quiet", "--bare", s.RepoURL("repo.git"), filepath.Join(t.TempDir(), "c"))
		require.Error(t, err)
		before := s.Stats("repo.git")[gittest.EndpointUploadPack].ResponseBytes
		assert.Positive(t, before)
	})
	t.Run("delay honours cancel", func(t *testing.T) {
		s.SetFault(func(gittest.Request) *gittest.Fault { return &gittest.Fault{Delay: time.Minute} })
		defer s.SetFault(nil)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		require.NoError(t, err)
		start := time.Now()
		_, err = http.DefaultClient.Do(req)
		require.Error(t, err)
		assert.Less(t, time.Since(start), 30*time.Second)
	})
}

func TestCommitTreeModes(t *testing.T) {
	t.Parallel()
	s := gittest.New(t)
	dir, err := s.InitBare("modes.git")
	require.NoError(t, err)
	sub, err := gittest.CommitFiles(dir, "other", "sub", map[string]string{"x": "y"})
	require.NoError(t, err)
	id, err := gittest.CommitTree(dir, "main", "modes", []gittest.File{
		{Path: "bin/run.sh", Data: "#!/bin/sh\n", Mode: "100755"},
		{Path: "link", Data: "bin/run.sh", Mode: "120000"},
		{Path: "vendor/sub", Data: sub, Mode: "160000"},
		{Path: "with space.txt", Data: "s"},
	})
	require.NoError(t, err)
	ls := gittest.MustGit(t, dir, "ls-tree", "-r", id)
	assert.Contains(t, ls, "100755 blob")
	assert.Contains(t, ls, "120000 blob")
	assert.Contains(t, ls, "160000 commit "+sub)
	assert.Contains(t, ls, "with space.txt")

	// Same inputs, same ids: helpers are deterministic.
	s2 := gittest.New(t)
	dir2, err := s2.InitBare("modes.git")
	require.NoError(t, err)
	sub2, err := gittest.CommitFiles(dir2, "other", "sub", map[string]string{"x": "y"})
	require.NoError(t, err)
	assert.Equal(t, sub, sub2)

	// Deleting keeps the rest.
	id2, err := gittest.CommitFiles(dir, "main", "rm", nil, "link")
	require.NoError(t, err)
	ls = gittest.MustGit(t, dir, "ls-tree", "-r", "--name-only", id2)
	assert.NotContains(t, strings.Fields(ls), "link")
	assert.Contains(t, ls, "bin/run.sh")
}

func TestBadNames(t *testing.T) {
	t.Parallel()
	s := gittest.New(t)
	for _, n := range []string{"", "repo", "/abs.git", "../up.git", "a/../b.git"} {
		_, err := s.InitBare(n)
		assert.Error(t, err, n)
	}
}

// missing lists the objects a clone lacks.
func missing(t *testing.T, dir string) string {
	t.Helper()
	var miss []string
	for _, l := range strings.Split(gittest.MustGit(t, dir, "rev-list", "--objects", "--all", "--missing=print"), "\n") {
		if strings.HasPrefix(l, "?") {
			miss = append(miss, l)
		}
	}
	return strings.Join(miss, "\n")
}
