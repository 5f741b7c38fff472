package freight

import (
	"bytes"
	"context"
	"encoding/base64"
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
// an error or a log line, neither raw nor in their basic-auth (base64) form.
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
				assert.Contains(t, err.Error(), "denied")
				for _, text := range []string{err.Error(), logs.String()} {
					assert.NotContains(t, text, secret)
					assert.NotContains(t, text, base64.StdEncoding.EncodeToString([]byte("deploy:"+secret)), "the basic-auth header")
				}
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

// endlessGit is a git server whose answer never ends: the advertisement
// lists new branches forever, or upload-pack sends progress forever.
func endlessGit(t *testing.T, where string) *hg.Server {
	t.Helper()
	id := strings.Repeat("ef", 20)
	refs := []hg.Ref{{Name: "refs/heads/main", ID: id}}
	h := hg.Handler{Refs: refs}
	switch where {
	case "advertisement":
		adv := hg.Advertisement("git-upload-pack", refs, hg.DefaultCaps)
		h.InfoRefs = func(*hg.Request) hg.Reply {
			more := bytes.Repeat(hg.Pkt(id+" refs/heads/more\n"), 1000)
			r := hg.Endless(adv[:len(adv)-4], more, 0) // without the flush: more refs, forever
			r.Header = http.Header{"Content-Type": {"application/x-git-upload-pack-advertisement"}}
			return r
		}
	case "upload-pack":
		h.UploadPack = func(r *hg.Request) hg.Reply {
			return hg.Endless(r.Preamble(), hg.Sideband(2, make([]byte, 65000)), 0)
		}
	default:
		t.Fatalf("no endless %s", where)
	}
	return hg.New(t, h)
}

// Endless answers (an advertisement or an upload-pack answer that never
// ends) cost a LimitError at the transfer limit, not retried, in a child
// process whose peak RSS stays under 128 MiB while 256 MiB arrive: memory
// does not grow with what the server sends.
func TestHostileGitEndless(t *testing.T) {
	const maxTransfer = 256 << 20
	for _, where := range []string{"advertisement", "upload-pack"} {
		t.Run(where, func(t *testing.T) {
			rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
				srv := endlessGit(t, where)
				logs := &logtest.Buffer{}
				src, err := NewGitSource(srv.RepoURL("mono.git"), "main", fastRetries,
					WithMaxTransfer(maxTransfer), WithLogger(logs.Logger()))
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				start := time.Now()
				_, err = src.History(ctx)
				elapsed := time.Since(start)
				var le *LimitError
				require.ErrorAs(t, err, &le)
				assert.ErrorIs(t, err, ErrLimitExceeded)
				assert.False(t, IsRetryable(err))
				assert.Equal(t, "transfer", le.Limit)
				assert.EqualValues(t, maxTransfer, le.Max)
				var re *RemoteError
				assert.ErrorAs(t, err, &re)
				assert.Less(t, elapsed, 45*time.Second, "ended by the limit, not the context")
				assert.NoError(t, ctx.Err())
				endpoint := map[string]string{"advertisement": "info/refs", "upload-pack": "git-upload-pack"}[where]
				assert.Equal(t, 1, srv.Count(endpoint), "not retried")
				t.Logf("%s: %v after %v", where, err, elapsed)
			})
		})
	}
}

// Slow answers (a correct advertisement or pack sent one byte every 50 ms,
// or headers and then nothing) end with the caller's deadline: an error
// that matches context.DeadlineExceeded, inside a RemoteError, that a
// retry may heal, soon after the deadline. The same through a Warehouse.
func TestHostileGitSlow(t *testing.T) {
	t.Parallel()
	var o hg.Objects
	tip := o.Commit(o.Tree())
	pack := o.Pack.Bytes()
	good := hg.ServePack(tip, pack)
	adv := hg.Advertisement("git-upload-pack", good.Refs, hg.DefaultCaps)
	const pause = 50 * time.Millisecond
	for _, tc := range []struct {
		name      string
		h         hg.Handler
		warehouse bool
	}{
		{"advertisement trickles", hg.Handler{Refs: good.Refs, UploadPack: good.UploadPack,
			InfoRefs: func(*hg.Request) hg.Reply {
				r := hg.Trickle(adv, pause)
				r.Header = http.Header{"Content-Type": {"application/x-git-upload-pack-advertisement"}}
				return r
			}}, false},
		{"advertisement stalls", hg.Handler{Refs: good.Refs, UploadPack: good.UploadPack,
			InfoRefs: func(*hg.Request) hg.Reply {
				r := hg.Stall()
				r.Header = http.Header{"Content-Type": {"application/x-git-upload-pack-advertisement"}}
				return r
			}}, false},
		{"pack trickles", hg.Handler{Refs: good.Refs,
			UploadPack: func(r *hg.Request) hg.Reply { return hg.Trickle(r.PackBody(pack, tip), pause) }}, false},
		{"pack stalls", hg.Handler{Refs: good.Refs,
			UploadPack: func(*hg.Request) hg.Reply { return hg.Stall() }}, false},
		{"pack trickles, through a Warehouse", hg.Handler{Refs: good.Refs,
			UploadPack: func(r *hg.Request) hg.Reply { return hg.Trickle(r.PackBody(pack, tip), pause) }}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := hg.New(t, tc.h)
			src, err := NewGitSource(srv.RepoURL("mono.git"), "main", fastRetries)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			if tc.warehouse {
				wh, werr := NewWarehouse("codeai", src, []ImageLister{staticTags{"git-" + tip}})
				require.NoError(t, werr)
				_, err = wh.Discover(ctx)
			} else {
				_, err = src.History(ctx)
			}
			elapsed := time.Since(start)
			require.Error(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded, "%v", err)
			assert.True(t, IsRetryable(err), "%v", err)
			var re *RemoteError
			assert.ErrorAs(t, err, &re)
			assert.Less(t, elapsed, 5*time.Second)
			assert.Equal(t, 1, srv.Count("info/refs"), "not retried")
			if strings.HasPrefix(tc.name, "pack") {
				assert.Equal(t, 1, srv.Count("git-upload-pack"), "the pack was asked for once")
			}
		})
	}
}

// staticTags lists fixed tags, resolving each to one digest.
type staticTags []string

func (s staticTags) Repository() string                     { return "ghcr.io/org/app" }
func (s staticTags) Tags(context.Context) ([]string, error) { return s, nil }
func (s staticTags) Resolve(_ context.Context, tag string) (Image, error) {
	return Image{RepoURL: s.Repository(), Tag: tag, Digest: "sha256:" + strings.Repeat("0", 64)}, nil
}
