package sparse_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hg "github.com/railyard-gitops/railyard/internal/testkit/hostilegit"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
	"github.com/railyard-gitops/railyard/internal/testkit/rsstest"
	"github.com/railyard-gitops/railyard/sparse"
)

// hostile is a lying server's scenario: the pack it sends for commit, and
// what Fetch of Paths must fail with.
type hostile struct {
	name   string
	build  func() (commit string, pack []byte)
	paths  []string
	want   error
	limit  string // the *LimitError's Limit, if one is expected
	maxOut int    // the largest answer allowed: every scenario is at most 1 MiB
}

// hostileScenarios are the memory attacks: each answer is at most 1 MiB,
// and under default limits Fetch must end in one typed error, in a process
// that stays under 128 MiB.
func hostileScenarios() []hostile {
	const big = 16 << 20
	return []hostile{{
		name:  "forged object count",
		build: func() (string, []byte) { return strings.Repeat("ab", 20), hg.Header(0xfffffff0) },
		want:  sparse.ErrLimitExceeded, limit: "objects",
	}, {
		// Distinct blobs of ~16 MiB of zeros, all in the cone: about 1 GiB
		// inflated from a 1 MiB pack in CI (hg.BombEnv; 256 MiB in plain
		// runs).
		name: "zlib bomb in the cone",
		build: func() (string, []byte) {
			var o hg.Objects
			var files []hg.Entry
			for i := 0; i < hg.BombObjects(); i++ {
				files = append(files, hg.File(string(rune('a'+i%26))+strings.Repeat("x", i/26), o.ZeroBlob(big-int64(i))))
			}
			return o.Commit(o.Tree(hg.Dir("k8s", o.Tree(files...)))), o.Pack.Bytes()
		},
		want: sparse.ErrLimitExceeded, limit: "total size",
	}, {
		name: "object declaring 1 GiB",
		build: func() (string, []byte) {
			var o hg.Objects
			o.Pack.AddRaw(hg.TypeBlob, 1<<30, hg.ZlibBomb(1<<20)) // refused at its header
			id := strings.Repeat("12", 20)
			return o.Commit(o.Tree(hg.Dir("k8s", o.Tree(hg.File("a", id))))), o.Pack.Bytes()
		},
		want: sparse.ErrLimitExceeded, limit: "object size",
	}, {
		// A 16 MiB base and one-instruction deltas of 16 MiB results:
		// about 1 GiB from a few KiB in CI (hg.BombEnv).
		name: "delta bomb",
		build: func() (string, []byte) {
			var o hg.Objects
			base := o.Pack.AddRaw(hg.TypeBlob, big-2, hg.ZlibBomb(big-2))
			var files []hg.Entry
			for i := 0; i < hg.BombObjects(); i++ {
				tail := []byte{byte(i), byte(i >> 8)}
				o.Pack.AddOFSDelta(base, hg.NewDelta(big-2, big).Copy(0, big-2).Insert(tail).Bytes())
				files = append(files, hg.File("f"+string(rune('a'+i%26))+strings.Repeat("x", i/26), hg.ZeroTailID(big-2, tail)))
			}
			return o.Commit(o.Tree(hg.Dir("k8s", o.Tree(files...)))), o.Pack.Bytes()
		},
		want: sparse.ErrLimitExceeded, limit: "total size",
	}, {
		name: "delta declaring a 1 GiB result",
		build: func() (string, []byte) {
			var o hg.Objects
			base := o.Pack.Add(hg.TypeBlob, []byte("base"))
			o.Pack.AddOFSDelta(base, hg.NewDelta(4, 1<<30).Copy(0, 4).Bytes())
			return o.Commit(o.Tree(hg.Dir("k8s", o.Tree(hg.File("a", hg.ID(hg.TypeBlob, []byte("base"))))))), o.Pack.Bytes()
		},
		want: sparse.ErrLimitExceeded, limit: "object size",
	}, {
		// 1,000 levels of 1,000-byte names: refused at the first name.
		name: "deep tree of long names",
		build: func() (string, []byte) {
			var o hg.Objects
			leaf := o.Tree(hg.File("a.yaml", o.Blob([]byte("x"))))
			return o.Commit(o.Tree(hg.Dir("k8s", o.Nest(leaf, 1000, hg.LongName(1000))))), o.Pack.Bytes()
		},
		want: sparse.ErrUnsafeContent,
	}, {
		// 200-byte names, each acceptable, nest past 4096 bytes of path.
		name: "path longer than 4096 bytes",
		build: func() (string, []byte) {
			var o hg.Objects
			leaf := o.Tree(hg.File("a.yaml", o.Blob([]byte("x"))))
			return o.Commit(o.Tree(hg.Dir("k8s", o.Nest(leaf, 40, hg.LongName(200))))), o.Pack.Bytes()
		},
		want: sparse.ErrLimitExceeded, limit: "path length",
	}, {
		name: "path deeper than 64",
		build: func() (string, []byte) {
			var o hg.Objects
			leaf := o.Tree(hg.File("a.yaml", o.Blob([]byte("x"))))
			return o.Commit(o.Tree(hg.Dir("k8s", o.Nest(leaf, 100, "d")))), o.Pack.Bytes()
		},
		want: sparse.ErrLimitExceeded, limit: "path depth",
	}}
}

func serveHostile(t *testing.T, commit string, pack []byte) string {
	t.Helper()
	return hg.New(t, hg.ServePack(commit, pack)).RepoURL("mono.git")
}

// Memory attacks from a lying server, each at most 1 MiB on the wire:
// one typed error each, and the fetching process (a child, measured)
// stays under 128 MiB.
func TestHostileServerMemory(t *testing.T) {
	for _, tc := range hostileScenarios() {
		t.Run(tc.name, func(t *testing.T) {
			rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
				commit, pack := tc.build()
				require.LessOrEqual(t, len(pack), 1<<20, "the attack fits in 1 MiB")
				paths := tc.paths
				if paths == nil {
					paths = []string{"k8s"}
				}
				co, err := sparse.Fetch(context.Background(), sparse.Request{URL: serveHostile(t, commit, pack), Commit: commit, Paths: paths},
					sparse.WithTempDir(t.TempDir()))
				require.Error(t, err)
				assert.Nil(t, co)
				assert.ErrorIs(t, err, tc.want)
				if tc.limit != "" {
					var le *sparse.LimitError
					require.True(t, errors.As(err, &le), "%v", err)
					assert.Equal(t, tc.limit, le.Limit, "%v", err)
				}
				assert.Less(t, len(err.Error()), 1024, "the error quotes no hostile bulk")
			})
		})
	}
}

// Lies that cost no memory: each is one typed error.
func TestHostileServerLies(t *testing.T) {
	t.Parallel()
	blob := []byte("kind: ConfigMap\n")
	for _, tc := range []struct {
		name  string
		build func() (string, []byte)
		opts  []sparse.Option
		want  error
	}{{
		name: "commit's tree is a blob",
		build: func() (string, []byte) {
			var o hg.Objects
			return o.Commit(o.Blob(blob)), o.Pack.Bytes()
		},
		want: sparse.ErrUnsafeContent,
	}, {
		name: "directory entry naming a blob",
		build: func() (string, []byte) {
			var o hg.Objects
			return o.Commit(o.Tree(hg.Dir("k8s", o.Blob(blob)))), o.Pack.Bytes()
		},
		want: sparse.ErrUnsafeContent,
	}, {
		name: "file entry naming a tree",
		build: func() (string, []byte) {
			var o hg.Objects
			inner := o.Tree(hg.File("a", o.Blob(blob)))
			return o.Commit(o.Tree(hg.Dir("k8s", o.Tree(hg.File("b", inner))))), o.Pack.Bytes()
		},
		want: sparse.ErrUnsafeContent,
	}, {
		name: "truncated pack",
		build: func() (string, []byte) {
			var o hg.Objects
			c := o.Commit(o.Tree(hg.Dir("k8s", o.Tree(hg.File("a", o.Blob(blob))))))
			b := o.Pack.Bytes()
			return c, b[:len(b)-30]
		},
		want: sparse.ErrUnavailable,
	}, {
		name: "bad pack checksum",
		build: func() (string, []byte) {
			var o hg.Objects
			c := o.Commit(o.Tree(hg.Dir("k8s", o.Tree(hg.File("a", o.Blob(blob))))))
			return c, o.Pack.BadChecksum()
		},
		want: sparse.ErrCorrupt,
	}, {
		name: "pack without the commit",
		build: func() (string, []byte) {
			var o hg.Objects
			c := o.Commit(o.Tree(hg.Dir("k8s", o.Tree(hg.File("a", o.Blob(blob))))))
			var p hg.Pack
			p.Add(hg.TypeBlob, blob)
			_ = o
			return c, p.Bytes()
		},
		want: sparse.ErrCorrupt,
	}, {
		name: "thin pack",
		build: func() (string, []byte) {
			var o hg.Objects
			o.Pack.AddREFDelta(hg.ID(hg.TypeBlob, []byte("elsewhere")), hg.NewDelta(9, 2).Copy(0, 2).Bytes())
			return o.Commit(o.Tree()), o.Pack.Bytes()
		},
		want: sparse.ErrUnsafeContent,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			commit, pack := tc.build()
			tmp := t.TempDir()
			opts := append([]sparse.Option{sparse.WithTempDir(tmp), sparse.WithRetries(1, time.Millisecond, time.Millisecond)}, tc.opts...)
			co, err := sparse.Fetch(context.Background(), sparse.Request{URL: serveHostile(t, commit, pack), Commit: commit, Paths: []string{"k8s"}}, opts...)
			require.Error(t, err)
			assert.Nil(t, co)
			assert.ErrorIs(t, err, tc.want)
			assert.True(t, emptyDir(t, tmp), "nothing is left behind")
		})
	}
}

// Tree entries git refuses on NTFS or HFS+ (core.protectNTFS,
// core.protectHFS) are refused too: one validator, internal/pathcheck.
func TestProtectNTFSAndHFSNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{".git.", ".git ", "git~1", "GIT~1", ".git::$INDEX_ALLOCATION", ".g\u200cit", "\u200d.git", ".GIT"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var o hg.Objects
			commit := o.Commit(o.Tree(hg.Dir("k8s", o.Tree(hg.Dir(name, o.Tree(hg.File("config", o.Blob([]byte("x")))))))))
			_, err := sparse.Fetch(context.Background(), sparse.Request{URL: serveHostile(t, commit, o.Pack.Bytes()), Commit: commit, Paths: []string{"k8s"}})
			var pe *sparse.PathError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.ErrorIs(t, err, sparse.ErrUnsafeContent)
		})
	}
}

// A server that claims the history goes on forever (a shallow line for
// every answer) makes the branch fallback stop at its bound, with
// ErrCommitNotFound.
func TestLyingShallowLines(t *testing.T) {
	t.Parallel()
	var o hg.Objects
	tip := o.Commit(o.Tree())
	pack := o.Pack.Bytes()
	srv := hg.New(t, hg.Handler{
		Refs: []hg.Ref{{Name: "refs/heads/main", ID: tip}},
		Caps: []string{"side-band-64k", "ofs-delta", "shallow", "no-progress"},
		UploadPack: func(r *hg.Request) hg.Reply {
			return r.Pack(pack, tip) // never deeper, always "more to come"
		},
	})
	want := strings.Repeat("cd", 20)
	_, err := sparse.Fetch(context.Background(), sparse.Request{URL: srv.RepoURL("x.git"), Commit: want, Branch: "main", Paths: []string{"k8s"}})
	assert.ErrorIs(t, err, sparse.ErrCommitNotFound)
	assert.LessOrEqual(t, srv.Count("git-upload-pack"), 21, "doubling depth up to its bound")
}

// Credentials a server echoes in an ERR line or a 401 body, and what it
// says on the side band, never reach an error or a log line, neither raw
// nor in their basic-auth (base64) form.
func TestEchoedCredentialsRedacted(t *testing.T) {
	t.Parallel()
	const secret = "ghp_Echo3dS3cretT0ken"
	id := strings.Repeat("ef", 20)
	echo := func(r *hg.Request) string {
		return "denied for " + r.Credentials() + " (" + r.Header.Get("Authorization") + ")"
	}
	basicDeploy := base64.StdEncoding.EncodeToString([]byte("deploy:" + secret))
	basicToken := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + secret))
	for _, tc := range []struct {
		name string
		h    hg.Handler
		want error
	}{
		{"401 body", hg.Handler{InfoRefs: func(r *hg.Request) hg.Reply {
			return hg.Reply{Status: http.StatusUnauthorized, Body: []byte(echo(r))}
		}}, sparse.ErrUnauthorized},
		{"ERR line", hg.Handler{Refs: []hg.Ref{{Name: "refs/heads/main", ID: id}},
			UploadPack: func(r *hg.Request) hg.Reply { return hg.Reply{Body: hg.ERR(echo(r))} }},
			sparse.ErrUnsupportedServer},
		{"side band", hg.Handler{Refs: []hg.Ref{{Name: "refs/heads/main", ID: id}},
			UploadPack: func(r *hg.Request) hg.Reply {
				return hg.Reply{Body: append(r.Preamble(), hg.Sideband(3, []byte(echo(r)))...)}
			}}, sparse.ErrUnsupportedServer},
	} {
		for _, opt := range []sparse.Option{sparse.WithBasicAuth("deploy", secret), sparse.WithBearerToken(secret),
			sparse.WithCredentials(func(context.Context, string) (sparse.Credentials, error) {
				return sparse.Credentials{Username: "x-access-token", Password: secret}, nil
			})} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				srv := hg.New(t, tc.h)
				logs := &logtest.Buffer{}
				_, err := sparse.Fetch(context.Background(), sparse.Request{URL: srv.RepoURL("x.git"), Commit: id, Paths: []string{"k8s"}},
					opt, sparse.WithLogger(logs.Logger()))
				require.Error(t, err)
				assert.ErrorIs(t, err, tc.want)
				for _, text := range []string{err.Error(), logs.String()} {
					assert.NotContains(t, text, secret)
					assert.NotContains(t, text, basicDeploy, "the basic-auth header")
					assert.NotContains(t, text, basicToken, "the basic-auth header")
				}
				assert.Contains(t, err.Error(), "denied for", "the server's words are quoted")
			})
		}
	}
}

// A body that never ends stops at the transfer limit.
func TestEndlessAnswer(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("01", 20)
	srv := hg.New(t, hg.Handler{Refs: []hg.Ref{{Name: "refs/heads/main", ID: id}},
		UploadPack: func(r *hg.Request) hg.Reply {
			return hg.Endless(r.Preamble(), hg.Sideband(2, make([]byte, 65000)), 0)
		}})
	_, err := sparse.Fetch(context.Background(), sparse.Request{URL: srv.RepoURL("x.git"), Commit: id, Paths: []string{"k8s"}},
		sparse.WithMaxTransfer(8<<20))
	var le *sparse.LimitError
	require.True(t, errors.As(err, &le), "%v", err)
	assert.Equal(t, "transfer", le.Limit)
}

// WriteTo's failures are typed and name no local path.
func TestWriteToFailureNamesNoPath(t *testing.T) {
	t.Parallel()
	var o hg.Objects
	commit := o.Commit(o.Tree(hg.Dir("k8s", o.Tree(hg.File("a.yaml", o.Blob([]byte("x")))))))
	co, err := sparse.Fetch(context.Background(), sparse.Request{URL: serveHostile(t, commit, o.Pack.Bytes()), Commit: commit, Paths: []string{"k8s"}})
	require.NoError(t, err)
	parent := t.TempDir()
	// A name whose temporary sibling is too long for the file system.
	err = co.WriteTo(filepath.Join(parent, strings.Repeat("d", 250)))
	require.Error(t, err)
	assert.ErrorIs(t, err, sparse.ErrDestination)
	assert.NotContains(t, err.Error(), parent)
	// A destination that is a file.
	file := filepath.Join(parent, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	err = co.WriteTo(file)
	assert.ErrorIs(t, err, sparse.ErrDestination)
	assert.NotContains(t, err.Error(), parent)
}
