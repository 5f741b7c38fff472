package gitops_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/redact"
	hg "github.com/railyard-gitops/railyard/internal/testkit/hostilegit"
	"github.com/railyard-gitops/railyard/internal/testkit/rsstest"
)

// hostileRemote serves stage/test at tip, answers every upload-pack with
// pack and every push with report (an accepting one when nil).
func hostileRemote(t *testing.T, tip string, pack []byte, report func(r *hg.Request) []byte) *hg.Server {
	t.Helper()
	if report == nil {
		report = func(r *hg.Request) []byte {
			var lines []string
			for _, c := range r.Commands {
				lines = append(lines, "ok "+c.Ref)
			}
			return r.ReportBody("ok", lines...)
		}
	}
	h := hg.ServePack(tip, pack)
	h.Refs = append(h.Refs, hg.Ref{Name: "refs/heads/stage/test", ID: tip})
	h.ReceivePack = func(r *hg.Request) hg.Reply { return hg.Reply{Body: report(r)} }
	return hg.New(t, h)
}

func hostileCommit(t *testing.T, tip string, pack []byte, report func(r *hg.Request) []byte, opts ...gitops.Option) (gitops.Result, error) {
	t.Helper()
	srv := hostileRemote(t, tip, pack, report)
	repo := newRepo(t, srv.RepoURL("gitops.git"), append([]gitops.Option{gitops.WithRetries(1, time.Millisecond, 20*time.Millisecond)}, opts...)...)
	return repo.Commit(testContext(t, time.Minute), gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
}

// Memory attacks on Commit, each at most 1 MiB on the wire, under default
// limits: one typed error, or a commit built correctly on what was sent,
// in a process (a child, measured) that stays under 128 MiB. Before
// gitwire, the forged count killed the process and the bombs took it to
// about 6 GiB: the fetched pack was held inflated in memory.
func TestHostileServerMemory(t *testing.T) {
	const big = 16 << 20
	for _, tc := range []struct {
		name  string
		build func() (string, []byte)
		limit string // "" when Commit must succeed
	}{{
		name:  "forged object count",
		build: func() (string, []byte) { return strings.Repeat("ab", 20), hg.Header(0xfffffff0) },
		limit: "objects",
	}, {
		// Distinct ~16 MiB blobs in the tip's tree: about 1 GiB inflated in
		// CI (hg.BombEnv), kept on disk, never in memory.
		name: "zlib bomb",
		build: func() (string, []byte) {
			var o hg.Objects
			var files []hg.Entry
			for i := 0; i < hg.BombObjects(); i++ {
				files = append(files, hg.File(fmt.Sprintf("blob-%02d", i), o.ZeroBlob(big-int64(i))))
			}
			return o.Commit(o.Tree(hg.Dir("blobs", o.Tree(files...)))), o.Pack.Bytes()
		},
	}, {
		name: "delta bomb",
		build: func() (string, []byte) {
			var o hg.Objects
			base := o.Pack.AddRaw(hg.TypeBlob, big-2, hg.ZlibBomb(big-2))
			var files []hg.Entry
			for i := 0; i < hg.BombObjects(); i++ {
				tail := []byte{byte(i), 7}
				o.Pack.AddOFSDelta(base, hg.NewDelta(big-2, big).Copy(0, big-2).Insert(tail).Bytes())
				files = append(files, hg.File(fmt.Sprintf("blob-%02d", i), hg.ZeroTailID(big-2, tail)))
			}
			return o.Commit(o.Tree(hg.Dir("blobs", o.Tree(files...)))), o.Pack.Bytes()
		},
	}, {
		// One tree of 200,000 entries (about 7 MiB inflated).
		name: "wide tree",
		build: func() (string, []byte) {
			var o hg.Objects
			blob := o.Blob([]byte("x"))
			entries := make([]hg.Entry, 200_000)
			for i := range entries {
				entries[i] = hg.File(fmt.Sprintf("%07d", i), blob)
			}
			return o.Commit(o.Tree(hg.Dir("wide", o.Tree(entries...)))), o.Pack.Bytes()
		},
	}, {
		name: "object declaring 1 GiB",
		build: func() (string, []byte) {
			var o hg.Objects
			o.Pack.AddRaw(hg.TypeBlob, 1<<30, hg.ZlibBomb(1<<20))
			return o.Commit(o.Tree()), o.Pack.Bytes()
		},
		limit: "object size",
	}, {
		name: "delta declaring a 1 GiB result",
		build: func() (string, []byte) {
			var o hg.Objects
			b := o.Pack.Add(hg.TypeBlob, []byte("base"))
			o.Pack.AddOFSDelta(b, hg.NewDelta(4, 1<<30).Copy(0, 4).Bytes())
			return o.Commit(o.Tree()), o.Pack.Bytes()
		},
		limit: "object size",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
				tip, pack := tc.build()
				require.LessOrEqual(t, len(pack), 1<<20, "the attack fits in 1 MiB")
				res, err := hostileCommit(t, tip, pack, nil)
				if tc.limit == "" {
					require.NoError(t, err)
					assert.True(t, res.Changed)
					return
				}
				require.Error(t, err)
				assert.ErrorIs(t, err, gitops.ErrLimitExceeded)
				var le *gitops.LimitError
				require.True(t, errors.As(err, &le), "%v", err)
				assert.Equal(t, tc.limit, le.Limit)
				assert.False(t, gitops.IsRetryable(err))
			})
		})
	}
}

// Trees and objects that lie: one typed error each, nothing pushed.
func TestHostileServerContent(t *testing.T) {
	t.Parallel()
	blob := []byte("x")
	for _, tc := range []struct {
		name  string
		build func() (string, []byte)
		want  error
	}{{
		name: "tip's tree is a blob",
		build: func() (string, []byte) {
			var o hg.Objects
			return o.Commit(o.Blob(blob)), o.Pack.Bytes()
		},
		want: gitops.ErrUnsafeContent,
	}, {
		name: "directory on the path is a blob",
		build: func() (string, []byte) {
			var o hg.Objects
			return o.Commit(o.Tree(hg.Dir("apps", o.Blob(blob)))), o.Pack.Bytes()
		},
		want: gitops.ErrUnsafeContent,
	}, {
		name: "duplicate entries",
		build: func() (string, []byte) {
			var o hg.Objects
			b := o.Blob(blob)
			data := hg.Tree(hg.File("a", b), hg.File("a", b))
			o.Pack.Add(hg.TypeTree, data)
			return o.Commit(hg.ID(hg.TypeTree, data)), o.Pack.Bytes()
		},
		want: gitops.ErrUnsafeContent,
	}, {
		name: "truncated pack",
		build: func() (string, []byte) {
			var o hg.Objects
			c := o.Commit(o.Tree())
			b := o.Pack.Bytes()
			return c, b[:len(b)-25]
		},
		want: gitops.ErrUnavailable,
	}, {
		name: "tip missing from the pack",
		build: func() (string, []byte) {
			var o hg.Objects
			o.Tree()
			return strings.Repeat("cd", 20), o.Pack.Bytes()
		},
		want: gitops.ErrUnavailable,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tip, pack := tc.build()
			srv := hostileRemote(t, tip, pack, nil)
			_, err := newRepo(t, srv.RepoURL("gitops.git"), gitops.WithRetries(1, time.Millisecond, 20*time.Millisecond)).Commit(testContext(t),
				gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.Zero(t, srv.Count("git-receive-pack"), "nothing was pushed")
		})
	}
}

// Entries git refuses on NTFS or HFS+ in the tip's trees, inside or outside
// Dir, are refused: gitops builds nothing on them (one validator with
// sparse: internal/pathcheck).
func TestHostileEntryNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{".git", ".git.", ".git ", "git~1", "GIT~1", ".git::$INDEX_ALLOCATION", ".g\u200cit", "a/b", ".."} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var o hg.Objects
			data := hg.Tree(hg.File(name, o.Blob([]byte("x"))))
			o.Pack.Add(hg.TypeTree, data)
			tip := o.Commit(o.Tree(hg.Dir("other", hg.ID(hg.TypeTree, data))))
			_, err := hostileCommit(t, tip, o.Pack.Bytes(), nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, gitops.ErrUnsafeContent)
		})
	}
}

// Push reports that lie: none is taken for success.
func TestHostilePushReports(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		report func(r *hg.Request) []byte
		want   error
	}{
		{"ok for another branch", func(r *hg.Request) []byte { return r.ReportBody("ok", "ok refs/heads/main") }, gitops.ErrUnavailable},
		{"no status for the branch", func(r *hg.Request) []byte { return r.ReportBody("ok") }, gitops.ErrUnavailable},
		{"empty answer", func(r *hg.Request) []byte { return nil }, gitops.ErrUnavailable},
		{"unpack failed yet ok", func(r *hg.Request) []byte {
			return r.ReportBody("index-pack failed", "ok refs/heads/stage/test")
		}, nil},
		{"rejected", func(r *hg.Request) []byte {
			return r.ReportBody("ok", "ng refs/heads/stage/test stale info")
		}, gitops.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var o hg.Objects
			tip := o.Commit(o.Tree(hg.File("README.md", o.Blob([]byte("x")))))
			res, err := hostileCommit(t, tip, o.Pack.Bytes(), tc.report)
			require.Error(t, err, "%+v", res)
			assert.False(t, res.Changed)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			} else {
				assert.False(t, gitops.IsRetryable(err), "%v", err)
			}
		})
	}
}

// Credentials a server echoes (raw, and the Authorization header with
// their basic-auth base64 form) in an ERR line or a side-band error of
// upload-pack, or in the "ng" line of a push report, never reach an error
// or a log line, Debug included. Before, only the error of the ERR line
// was checked.
func TestHostileEchoedCredentials(t *testing.T) {
	t.Parallel()
	const secret = "gh0ps-Ech0-S3cret"
	secrets := []string{secret,
		base64.StdEncoding.EncodeToString([]byte("u:" + secret)),
		base64.StdEncoding.EncodeToString([]byte("x:" + secret))}
	echo := func(r *hg.Request) string {
		return "denied " + r.Credentials() + " " + r.Header.Get("Authorization")
	}
	var o hg.Objects
	tip := o.Commit(o.Tree(hg.File("README.md", o.Blob([]byte("x")))))
	pack := o.Pack.Bytes()
	for _, tc := range []struct {
		name       string
		uploadPack func(r *hg.Request) hg.Reply
		report     func(r *hg.Request) []byte
	}{
		{name: "ERR line", uploadPack: func(r *hg.Request) hg.Reply { return hg.Reply{Body: hg.ERR(echo(r))} }},
		{name: "side-band error", uploadPack: func(r *hg.Request) hg.Reply {
			return hg.Reply{Body: append(r.Preamble(), hg.Sideband(3, []byte(echo(r)))...)}
		}},
		{name: "push report", report: func(r *hg.Request) []byte {
			return r.ReportBody("ok", "ng refs/heads/stage/test "+echo(r))
		}},
	} {
		for cred, opt := range map[string]gitops.Option{
			"basic auth":   gitops.WithBasicAuth("u", secret),
			"bearer token": gitops.WithBearerToken(secret),
			"credentials": gitops.WithCredentials(func(context.Context, string) (gitops.Credentials, error) {
				return gitops.Credentials{Username: "x", Password: secret}, nil
			}),
		} {
			t.Run(tc.name+"/"+cred, func(t *testing.T) {
				t.Parallel()
				h := hg.ServePack(tip, pack)
				h.Refs = append(h.Refs, hg.Ref{Name: "refs/heads/stage/test", ID: tip})
				if tc.uploadPack != nil {
					h.UploadPack = tc.uploadPack
				}
				if tc.report != nil {
					h.ReceivePack = func(r *hg.Request) hg.Reply { return hg.Reply{Body: tc.report(r)} }
				}
				srv := hg.New(t, h)
				logs := &logBuffer{}
				_, err := newRepo(t, srv.RepoURL("gitops.git"), opt, gitops.WithLogger(logs.Logger()),
					gitops.WithRetries(1, time.Millisecond, 20*time.Millisecond)).
					Commit(testContext(t), gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
				require.Error(t, err)
				for _, text := range []string{err.Error(), logs.String()} {
					assert.Contains(t, text, "denied", "the echo reached the text")
					assert.Contains(t, text, redact.Mask, "masked")
				}
				for _, s := range secrets {
					assert.NotContains(t, err.Error(), s)
					assert.NotContains(t, logs.String(), s)
				}
			})
		}
	}
}
