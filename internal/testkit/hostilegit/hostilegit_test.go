package hostilegit_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/hostilegit"
)

// The crafted packs are packs git reads: whole objects, OFS and REF deltas
// (git's own index-pack is the oracle for the ids).
func TestPackIsReadByGit(t *testing.T) {
	t.Parallel()
	base := []byte(strings.Repeat("line of base content\n", 50))
	var p hostilegit.Pack
	b := p.Add(hostilegit.TypeBlob, base)
	// A delta: the base's first 100 bytes, then new text.
	delta := hostilegit.NewDelta(uint64(len(base)), 100+5).Copy(0, 100).Insert([]byte("added")).Bytes()
	p.AddOFSDelta(b, delta)
	baseID := hostilegit.ID(hostilegit.TypeBlob, base)
	p.AddREFDelta(baseID, hostilegit.NewDelta(uint64(len(base)), 3).Insert([]byte("ref")).Bytes())
	tree := hostilegit.SortedTree(hostilegit.Entry{Mode: "100644", Name: "b.txt", ID: baseID})
	p.Add(hostilegit.TypeTree, tree)

	dir := t.TempDir()
	gittest.MustGit(t, "", "init", "--quiet", "--bare", dir)
	out, err := gittest.GitInput(dir, bytes.NewReader(p.Bytes()), "index-pack", "--stdin", "--strict")
	require.NoError(t, err)
	assert.NotEmpty(t, out)
	want := map[string]bool{ // id: is a tree
		baseID: false,
		hostilegit.ID(hostilegit.TypeBlob, append(append([]byte(nil), base[:100]...), "added"...)): false,
		hostilegit.ID(hostilegit.TypeBlob, []byte("ref")):                                          false,
		hostilegit.ID(hostilegit.TypeTree, tree):                                                   true,
	}
	for id, isTree := range want {
		assert.Equal(t, map[bool]string{true: "tree", false: "blob"}[isTree], gittest.MustGit(t, dir, "cat-file", "-t", id), id)
	}

	// A bad checksum and a forged count are refused by git too.
	_, err = gittest.GitInput(dir, bytes.NewReader(p.BadChecksum()), "index-pack", "--stdin")
	assert.Error(t, err)
	_, err = gittest.GitInput(dir, bytes.NewReader(p.Declare(1<<31).Bytes()), "index-pack", "--stdin")
	assert.Error(t, err)
}

// The server speaks smart HTTP well enough for the git CLI to clone from
// it: advertisement, upload-pack request parsing, NAK and side band.
func TestServerServesGitClone(t *testing.T) {
	t.Parallel()
	blob := []byte("hello\n")
	tree := hostilegit.SortedTree(hostilegit.Entry{Mode: "100644", Name: "hello.txt", ID: hostilegit.ID(hostilegit.TypeBlob, blob)})
	commit := hostilegit.Commit(hostilegit.ID(hostilegit.TypeTree, tree), nil, 1700000000, "hello\n")
	commitID := hostilegit.ID(hostilegit.TypeCommit, commit)
	var p hostilegit.Pack
	p.Add(hostilegit.TypeCommit, commit)
	p.Add(hostilegit.TypeTree, tree)
	p.Add(hostilegit.TypeBlob, blob)
	srv := hostilegit.New(t, hostilegit.Handler{
		Refs: []hostilegit.Ref{{Name: "HEAD", ID: commitID}, {Name: "refs/heads/main", ID: commitID}},
		UploadPack: func(r *hostilegit.Request) hostilegit.Reply {
			return r.Pack(p.Bytes())
		},
	})
	dir := filepath.Join(t.TempDir(), "clone")
	_, err := gittest.Git("", "-c", "protocol.version=0", "clone", "--quiet", srv.RepoURL("x.git"), dir)
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(dir, "hello.txt"))
	require.NoError(t, err)
	assert.Equal(t, "hello\n", string(data))
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, []string{commitID}, reqs[1].Wants)
	assert.True(t, reqs[1].HasCap("side-band-64k"))
}

// ZlibBomb inflates to what it says while being about a thousandth of it.
func TestZlibBomb(t *testing.T) {
	t.Parallel()
	z := hostilegit.ZlibBomb(64 << 20)
	assert.Less(t, len(z), 128<<10)
	var p hostilegit.Pack
	p.AddRaw(hostilegit.TypeBlob, 64<<20, z)
	dir := t.TempDir()
	gittest.MustGit(t, "", "init", "--quiet", "--bare", dir)
	_, err := gittest.GitInput(dir, bytes.NewReader(p.Bytes()), "index-pack", "--stdin")
	require.NoError(t, err)
	assert.Equal(t, "67108864", gittest.MustGit(t, dir, "cat-file", "-s", hostilegit.ID(hostilegit.TypeBlob, make([]byte, 64<<20))))
}

// A commit whose message is a zlib bomb is a commit git reads, with the id
// BigCommit says.
func TestBigCommit(t *testing.T) {
	t.Parallel()
	var o hostilegit.Objects
	tree := o.Tree()
	id := o.BigCommit(tree, 3<<20+5)
	dir := t.TempDir()
	gittest.MustGit(t, "", "init", "--quiet", "--bare", dir)
	// (Not --strict: fsck frowns on NULs in a commit message.)
	_, err := gittest.GitInput(dir, bytes.NewReader(o.Pack.Bytes()), "index-pack", "--stdin")
	require.NoError(t, err)
	assert.Equal(t, "commit", gittest.MustGit(t, dir, "cat-file", "-t", id))
	assert.Equal(t, hostilegit.ZeroTailID(1<<20, []byte("x")), hostilegit.ID(hostilegit.TypeBlob, append(make([]byte, 1<<20), 'x')))
}

// Trickle delivers its body whole, one byte per pause; Stall sends the
// headers and then nothing until the client goes away.
func TestTrickleAndStall(t *testing.T) {
	t.Parallel()
	body := []byte("0008NAK\n")
	srv := hostilegit.New(t, hostilegit.Handler{
		Refs: []hostilegit.Ref{{Name: "refs/heads/main", ID: strings.Repeat("ab", 20)}},
		UploadPack: func(r *hostilegit.Request) hostilegit.Reply {
			if r.N == 1 {
				return hostilegit.Trickle(body, 10*time.Millisecond)
			}
			return hostilegit.Stall()
		},
	})
	post := func(ctx context.Context) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.RepoURL("x.git")+"/git-upload-pack", nil)
		require.NoError(t, err)
		return http.DefaultClient.Do(req)
	}
	start := time.Now()
	resp, err := post(context.Background())
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, body, got)
	assert.GreaterOrEqual(t, time.Since(start), time.Duration(len(body))*10*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	resp, err = post(ctx)
	require.NoError(t, err, "the headers arrive")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the body never does")
}
