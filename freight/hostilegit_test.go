package freight

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hg "github.com/railyard-gitops/railyard/internal/testkit/hostilegit"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
	"github.com/railyard-gitops/railyard/internal/testkit/rsstest"
)

func hostileHistory(t *testing.T, tip string, pack []byte, opts ...Option) (*History, error) {
	t.Helper()
	srv := hg.New(t, hg.ServePack(tip, pack))
	src, err := NewGitSource(srv.RepoURL("mono.git"), "main", append([]Option{WithRetries(1, time.Millisecond, time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return src.History(ctx)
}

// Memory attacks on History, each at most 1 MiB on the wire, under default
// limits: a typed error or a correct history, in a process (a child,
// measured) that stays under 128 MiB. Before gitwire, the forged count
// killed the process and the bombs took it to about 6 GiB (and the history
// succeeded).
func TestHostileGitMemory(t *testing.T) {
	const big = 16 << 20
	for _, tc := range []struct {
		name  string
		build func() (string, []byte)
		opts  []Option
		limit string // "" when History must succeed with the tip
	}{{
		name:  "forged object count",
		build: func() (string, []byte) { return strings.Repeat("ab", 20), hg.Header(0xfffffff0) },
		limit: "objects",
	}, {
		// Distinct ~16 MiB blobs sent with the commit, though none was
		// asked for: about 1 GiB inflated in CI (hg.BombEnv), stored on
		// disk, never held.
		name: "zlib bomb",
		build: func() (string, []byte) {
			var o hg.Objects
			for i := 0; i < hg.BombObjects(); i++ {
				o.ZeroBlob(big - int64(i))
			}
			return o.Commit(o.Tree()), o.Pack.Bytes()
		},
	}, {
		name: "delta bomb",
		build: func() (string, []byte) {
			var o hg.Objects
			base := o.Pack.AddRaw(hg.TypeBlob, big-2, hg.ZlibBomb(big-2))
			for i := 0; i < hg.BombObjects(); i++ {
				o.Pack.AddOFSDelta(base, hg.NewDelta(big-2, big).Copy(0, big-2).Insert([]byte{byte(i), 1}).Bytes())
			}
			return o.Commit(o.Tree()), o.Pack.Bytes()
		},
	}, {
		// A chain of commits with 16 MiB messages (480 MiB in CI, 128 MiB
		// in plain runs: hg.BombEnv): the walk keeps a bounded subject of
		// each, not the messages.
		name: "commit message bombs",
		build: func() (string, []byte) {
			var o hg.Objects
			tree := o.Tree()
			c := o.BigCommit(tree, big-1024)
			for i := 1; i < hg.BombObjects()/2; i++ {
				c = o.BigCommit(tree, big-1024-int64(i), c)
			}
			return c, o.Pack.Bytes()
		},
		opts: []Option{WithLimit(100)},
	}, {
		name: "object declaring 1 GiB",
		build: func() (string, []byte) {
			var o hg.Objects
			o.Pack.AddRaw(hg.TypeBlob, 1<<30, hg.ZlibBomb(1<<20))
			return o.Commit(o.Tree()), o.Pack.Bytes()
		},
		limit: "object size",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
				tip, pack := tc.build()
				require.LessOrEqual(t, len(pack), 1<<20, "the attack fits in 1 MiB")
				h, err := hostileHistory(t, tip, pack, tc.opts...)
				if tc.limit == "" {
					require.NoError(t, err)
					require.NotEmpty(t, h.Commits)
					assert.Equal(t, tip, h.Commits[0].ID)
					for _, c := range h.Commits {
						assert.LessOrEqual(t, len(c.Subject), 4<<10)
					}
					return
				}
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrLimitExceeded)
				var le *LimitError
				require.True(t, errors.As(err, &le), "%v", err)
				assert.Equal(t, tc.limit, le.Limit)
				assert.False(t, IsRetryable(err))
			})
		})
	}
}

// Lies about object types and cut answers: one typed error each.
func TestHostileGitLies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		build func() (string, []byte)
		want  error
	}{{
		name: "tip is a tree",
		build: func() (string, []byte) {
			var o hg.Objects
			return o.Tree(), o.Pack.Bytes()
		},
		want: ErrUnsafeContent,
	}, {
		name: "parent is a blob",
		build: func() (string, []byte) {
			var o hg.Objects
			return o.Commit(o.Tree(), o.Blob([]byte("not a commit"))), o.Pack.Bytes()
		},
		want: ErrUnsafeContent,
	}, {
		name: "truncated pack",
		build: func() (string, []byte) {
			var o hg.Objects
			c := o.Commit(o.Tree())
			b := o.Pack.Bytes()
			return c, b[:len(b)-25]
		},
		want: ErrUnavailable,
	}, {
		name: "bad checksum",
		build: func() (string, []byte) {
			var o hg.Objects
			c := o.Commit(o.Tree())
			return c, o.Pack.BadChecksum()
		},
		want: ErrUnavailable,
	}, {
		name: "thin pack",
		build: func() (string, []byte) {
			var o hg.Objects
			c := o.Commit(o.Tree())
			o.Pack.AddREFDelta(hg.ID(hg.TypeBlob, []byte("elsewhere")), hg.NewDelta(9, 1).Copy(0, 1).Bytes())
			return c, o.Pack.Bytes()
		},
		want: ErrUnsafeContent,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tip, pack := tc.build()
			_, err := hostileHistory(t, tip, pack)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var re *RemoteError
			assert.True(t, errors.As(err, &re))
		})
	}
}

// Credentials a git server echoes in a 401 body or an ERR line never reach
// an error or a log line.
func TestHostileGitEchoedCredentials(t *testing.T) {
	t.Parallel()
	const secret = "ghp_Fr3ightEch0S3cret"
	id := strings.Repeat("cd", 20)
	echo := func(r *hg.Request) string { return "denied: " + r.Credentials() + " " + r.Header.Get("Authorization") }
	for _, tc := range []struct {
		name string
		h    hg.Handler
		want error
	}{
		{"401 body", hg.Handler{InfoRefs: func(r *hg.Request) hg.Reply {
			return hg.Reply{Status: http.StatusUnauthorized, Body: []byte(echo(r))}
		}}, ErrUnauthorized},
		{"ERR line", hg.Handler{Refs: []hg.Ref{{Name: "refs/heads/main", ID: id}},
			UploadPack: func(r *hg.Request) hg.Reply { return hg.Reply{Body: hg.ERR(echo(r))} }}, ErrRejected},
	} {
		for _, opt := range []Option{WithBasicAuth("deploy", secret), WithBearerToken(secret),
			WithCredentials(func(context.Context, string) (Credentials, error) { return Credentials{Token: secret}, nil })} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				srv := hg.New(t, tc.h)
				logs := &logtest.Buffer{}
				src, err := NewGitSource(srv.RepoURL("x.git"), "main", opt, WithLogger(logs.Logger()))
				require.NoError(t, err)
				_, err = src.History(context.Background())
				require.Error(t, err)
				assert.ErrorIs(t, err, tc.want)
				assert.NotContains(t, err.Error(), secret)
				assert.Contains(t, err.Error(), "denied")
				assert.NotContains(t, logs.String(), secret)
			})
		}
	}
}

// Rotating credentials are asked per request, with the repository's host.
func TestGitCredentialsRotate(t *testing.T) {
	t.Parallel()
	srv, _, _ := gitRepo(t, 3)
	var hosts []string
	n := 0
	src, err := NewGitSource(srv.RepoURL("monorepo.git"), "main", WithCredentials(func(_ context.Context, host string) (Credentials, error) {
		hosts = append(hosts, host)
		n++
		return Credentials{Username: "x", Password: "token-" + string(rune('0'+n))}, nil
	}))
	require.NoError(t, err)
	_, err = src.History(context.Background())
	require.NoError(t, err)
	_, err = src.History(context.Background())
	require.NoError(t, err)
	require.Len(t, hosts, 4, "once per request")
	assert.Equal(t, strings.TrimPrefix(srv.URL, "http://"), hosts[0])
}
