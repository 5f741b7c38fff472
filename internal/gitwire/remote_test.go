package gitwire

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
	"github.com/railyard-gitops/railyard/internal/retry"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/hostilegit"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// served is a real git http-backend serving one repository with a few
// commits on main.
type served struct {
	srv     *gittest.Server
	dir     string
	url     string
	commits []string
}

func newServed(t *testing.T, cfg gittest.Config) *served {
	t.Helper()
	srv := gittest.New(t)
	dir, err := srv.InitBare("r.git")
	require.NoError(t, err)
	require.NoError(t, srv.Configure("r.git", cfg))
	s := &served{srv: srv, dir: dir, url: srv.RepoURL("r.git")}
	for i, v := range []string{"one", "two", "three"} {
		id, err := gittest.CommitFiles(dir, "main", v, map[string]string{
			"k8s/kustomize/base/app.yaml": "version: " + v + "\n",
			"README.md":                   strings.Repeat(v, i+1),
		})
		require.NoError(t, err)
		s.commits = append(s.commits, id)
	}
	return s
}

func newRemote(t *testing.T, cfg Config) *Remote {
	t.Helper()
	if cfg.Limits == (Limits{}) {
		cfg.Limits = roomy
	}
	r, err := New(cfg)
	require.NoError(t, err)
	return r
}

func tempStore(t *testing.T) *Store {
	t.Helper()
	st, err := NewTempStore(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(st.Close)
	return st
}

// Against git's own server: the advertisement keeps what was asked for,
// a filtered shallow fetch brings the commit and trees only, and every
// object reads back verified.
func TestFetchFromGit(t *testing.T) {
	t.Parallel()
	s := newServed(t, gittest.FullConfig())
	ctx := testCtx(t)
	r := newRemote(t, Config{URL: s.url})
	tip := plumbing.NewHash(s.commits[2])
	adv, err := r.Advertise(ctx, UploadPack, AdvertiseRequest{Refs: []string{"refs/heads/main"}, Watch: []plumbing.Hash{tip, plumbing.NewHash(s.commits[0])}})
	require.NoError(t, err)
	assert.Equal(t, map[string]plumbing.Hash{"refs/heads/main": tip}, adv.Refs)
	assert.Equal(t, tip, adv.Head)
	assert.True(t, adv.Advertises(tip))
	assert.False(t, adv.Advertises(plumbing.NewHash(s.commits[0])), "an old commit is no ref's value")
	assert.True(t, adv.Caps.Supports("filter"))

	st := tempStore(t)
	res, err := r.Fetch(ctx, adv.Caps, FetchRequest{Wants: []plumbing.Hash{tip}, Depth: 1, Filter: "blob:none"}, st)
	require.NoError(t, err)
	assert.Equal(t, []plumbing.Hash{tip}, res.Shallows)
	types := map[plumbing.ObjectType]int{}
	for _, o := range res.Objects {
		types[o.Type]++
		typ, _, err := st.Read(o.Hash, 1<<20)
		require.NoError(t, err)
		assert.Equal(t, o.Type, typ)
	}
	assert.Equal(t, map[plumbing.ObjectType]int{plumbing.CommitObject: 1, plumbing.TreeObject: 4}, types)

	// An old commit by id, with its blobs.
	res, err = r.Fetch(ctx, adv.Caps, FetchRequest{Wants: []plumbing.Hash{plumbing.NewHash(s.commits[0])}, Depth: 1}, st)
	require.NoError(t, err)
	assert.True(t, st.Has(plumbing.NewHash(s.commits[0])))
	assert.Positive(t, len(res.Objects))
	stats := r.Stats()
	assert.Equal(t, 3, stats.RoundTrips)
	assert.Positive(t, stats.BytesReceived)
	assert.Equal(t, len(res.Objects)+5, stats.Objects)
}

// Refusals keep their category: a filter the server does not allow, an
// object it will not serve, a repository that is not there.
func TestRefusalsFromGit(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newServed(t, gittest.Config{AllowFilter: true})
	gittest.MustGit(t, s.dir, "config", "uploadpackfilter.tree.allow", "false")
	r := newRemote(t, Config{URL: s.url})
	adv, err := r.Advertise(ctx, UploadPack, AdvertiseRequest{Refs: []string{"refs/heads/main"}})
	require.NoError(t, err)
	st := tempStore(t)
	tip := adv.Refs["refs/heads/main"]

	_, err = r.Fetch(ctx, adv.Caps, FetchRequest{Wants: []plumbing.Hash{tip}, Depth: 1, Filter: "tree:0"}, st)
	assert.Equal(t, KindFilterRefused, KindOf(err), "%v", err)
	// Over stateless HTTP git serves commits reachable from its refs; a
	// dangling one it refuses.
	dangling := gittest.MustGit(t, s.dir, "commit-tree", "-m", "dangling", s.commits[0]+"^{tree}")
	_, err = r.Fetch(ctx, adv.Caps, FetchRequest{Wants: []plumbing.Hash{plumbing.NewHash(dangling)}, Depth: 1}, st)
	assert.Equal(t, KindNotOurRef, KindOf(err), "%v", err)

	bare := newServed(t, gittest.Config{})
	r = newRemote(t, Config{URL: bare.url})
	adv, err = r.Advertise(ctx, UploadPack, AdvertiseRequest{})
	require.NoError(t, err)
	_, err = r.Fetch(ctx, adv.Caps, FetchRequest{Wants: []plumbing.Hash{tip}, Filter: "blob:none"}, st)
	assert.Equal(t, KindFilterRefused, KindOf(err), "%v", err)

	r = newRemote(t, Config{URL: s.srv.RepoURL("missing.git")})
	_, err = r.Advertise(ctx, UploadPack, AdvertiseRequest{})
	assert.Equal(t, KindNotFound, KindOf(err), "%v", err)
}

// Transient failures are retried; the transfer limit counts the retries.
func TestRetriesTransient(t *testing.T) {
	t.Parallel()
	s := newServed(t, gittest.FullConfig())
	s.srv.SetFault(func(r gittest.Request) *gittest.Fault {
		switch {
		case r.Endpoint == gittest.EndpointInfoRefs && r.N == 1:
			return &gittest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0"}
		case r.Endpoint == gittest.EndpointUploadPack && r.N == 1:
			return &gittest.Fault{CutAfter: 60}
		}
		return nil
	})
	ctx := testCtx(t)
	r := newRemote(t, Config{URL: s.url, Retry: retry.Policy{Retries: 2, MinWait: time.Millisecond, MaxWait: 10 * time.Millisecond}})
	adv, err := r.Advertise(ctx, UploadPack, AdvertiseRequest{Refs: []string{"refs/heads/main"}})
	require.NoError(t, err)
	_, err = r.Fetch(ctx, adv.Caps, FetchRequest{Wants: []plumbing.Hash{adv.Refs["refs/heads/main"]}, Depth: 1}, tempStore(t))
	require.NoError(t, err)
	assert.Equal(t, 4, r.Stats().RoundTrips)

	// Without retries, the same faults surface as transient.
	s.srv.ResetStats()
	r = newRemote(t, Config{URL: s.url})
	_, err = r.Advertise(ctx, UploadPack, AdvertiseRequest{})
	assert.Equal(t, KindUnavailable, KindOf(err))
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.True(t, e.Retryable())
}

// Over SSH: key authentication, host keys checked, one connection per
// request.
func TestFetchOverSSH(t *testing.T) {
	t.Parallel()
	s := newServed(t, gittest.FullConfig())
	srv, key := gittest.NewSSH(t, s.srv.Root)
	known := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, srv.WriteKnownHosts(known))
	ctx := testCtx(t)
	cfg := Config{URL: srv.URL("r.git"), SSHUser: "git", SSHKey: key.PEM, SSHKnownHosts: []string{known}}
	r := newRemote(t, cfg)
	adv, err := r.Advertise(ctx, UploadPack, AdvertiseRequest{Refs: []string{"refs/heads/main"}})
	require.NoError(t, err)
	st := tempStore(t)
	_, err = r.Fetch(ctx, adv.Caps, FetchRequest{Wants: []plumbing.Hash{adv.Refs["refs/heads/main"]}, Depth: 1, Filter: "blob:none"}, st)
	require.NoError(t, err)
	assert.True(t, st.Has(adv.Refs["refs/heads/main"]))
	assert.Equal(t, 3, r.Stats().RoundTrips, "advertisement; then a connection and a request")
	assert.Equal(t, 2, srv.Execs())

	// A host key that is not the known one, and a key the server does not
	// accept, are authentication failures.
	other, otherKey := gittest.NewSSH(t, s.srv.Root)
	otherKnown := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, other.WriteKnownHosts(otherKnown))
	bad := cfg
	bad.SSHKnownHosts = []string{otherKnown}
	_, err = newRemote(t, bad).Advertise(ctx, UploadPack, AdvertiseRequest{})
	assert.Equal(t, KindAuth, KindOf(err), "%v", err)
	bad = cfg
	bad.SSHKey = otherKey.PEM
	_, err = newRemote(t, bad).Advertise(ctx, UploadPack, AdvertiseRequest{})
	assert.Equal(t, KindAuth, KindOf(err), "%v", err)
	// A repository that is not there.
	missing := cfg
	missing.URL = srv.URL("missing.git")
	_, err = newRemote(t, missing).Advertise(ctx, UploadPack, AdvertiseRequest{})
	assert.Contains(t, []Kind{KindNotFound, KindRefused}, KindOf(err), "%v", err)
}

// A push with a lease: accepted when the lease holds, rejected (and
// nothing changed) when it does not.
func TestPushToGit(t *testing.T) {
	t.Parallel()
	s := newServed(t, gittest.FullConfig())
	ctx := testCtx(t)
	r := newRemote(t, Config{URL: s.url})
	ps, err := r.OpenPush(ctx, AdvertiseRequest{Refs: []string{"refs/heads/main"}}, nil)
	require.NoError(t, err)
	tip := ps.Advertisement().Refs["refs/heads/main"]
	old := plumbing.NewHash(s.commits[1])
	require.NoError(t, ps.Push(ctx, []RefUpdate{{Name: "refs/heads/copy", New: tip}}, emptyPack()))
	ps.Close()
	assert.Equal(t, tip.String(), gittest.MustGit(t, s.dir, "rev-parse", "refs/heads/copy"))

	// A stale lease, pushed without reading the refs again.
	ps, err = r.OpenPush(ctx, AdvertiseRequest{}, ps.Caps())
	require.NoError(t, err)
	err = ps.Push(ctx, []RefUpdate{{Name: "refs/heads/main", Old: old, New: old}}, emptyPack())
	ps.Close()
	require.Error(t, err)
	var rej *RejectedError
	require.True(t, errors.As(err, &rej), "%v", err)
	assert.Equal(t, "refs/heads/main", rej.Ref)
	assert.Equal(t, tip.String(), gittest.MustGit(t, s.dir, "rev-parse", "refs/heads/main"))
}

func emptyPack() []byte { return (&hostilegit.Pack{}).Bytes() }

// Server text in errors and logs is truncated and loses every credential
// it echoes: ERR lines, 401 bodies, side-band errors, push reports.
func TestServerTextRedacted(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-t0ken-value"
	id := strings.Repeat("ab", 20)
	echo := func(r *hostilegit.Request) string {
		return "you sent " + r.Credentials() + " " + r.Header.Get("Authorization")
	}
	for _, tc := range []struct {
		name string
		h    hostilegit.Handler
		kind Kind
	}{
		{"401 body", hostilegit.Handler{InfoRefs: func(r *hostilegit.Request) hostilegit.Reply {
			return hostilegit.Reply{Status: http.StatusUnauthorized, Body: []byte(echo(r) + strings.Repeat(" padding", 200))}
		}}, KindAuth},
		{"ERR line", hostilegit.Handler{Refs: []hostilegit.Ref{{Name: "refs/heads/main", ID: id}},
			UploadPack: func(r *hostilegit.Request) hostilegit.Reply { return hostilegit.Reply{Body: hostilegit.ERR(echo(r))} }}, KindRefused},
		{"side-band error", hostilegit.Handler{Refs: []hostilegit.Ref{{Name: "refs/heads/main", ID: id}},
			UploadPack: func(r *hostilegit.Request) hostilegit.Reply {
				body := append(hostilegit.Pkt("NAK\n"), hostilegit.Sideband(3, []byte("fatal: "+echo(r)))...)
				return hostilegit.Reply{Body: body}
			}}, KindRefused},
		{"ERR in advertisement", hostilegit.Handler{InfoRefs: func(r *hostilegit.Request) hostilegit.Reply {
			return hostilegit.Reply{Header: http.Header{"Content-Type": {"application/x-git-upload-pack-advertisement"}},
				Body: append(append(hostilegit.Pkt("# service=git-upload-pack\n"), hostilegit.Flush()...), hostilegit.ERR(echo(r))...)}
		}}, KindRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := hostilegit.New(t, tc.h)
			logs := &logtest.Buffer{}
			r := newRemote(t, Config{URL: srv.RepoURL("x.git"), Credentials: httpx.Static(httpx.Credentials{Username: "u", Password: secret}),
				Logger: logs.Logger(), Prefix: "test"})
			ctx := testCtx(t)
			adv, err := r.Advertise(ctx, UploadPack, AdvertiseRequest{})
			if err == nil {
				_, err = r.Fetch(ctx, adv.Caps, FetchRequest{Wants: []plumbing.Hash{plumbing.NewHash(id)}}, tempStore(t))
			}
			require.Error(t, err)
			assert.Equal(t, tc.kind, KindOf(err), "%v", err)
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), "dTpzM2NyM3QtdDBrZW4tdmFsdWU", "the basic header")
			assert.Contains(t, err.Error(), redact.Mask, "the echo is there, masked")
			assert.Less(t, len(err.Error()), MaxServerText+200)
			assert.NotContains(t, logs.String(), secret)
		})
	}
}

// A body that never ends stops at the transfer limit; one that stalls
// stops with the context.
func TestEndlessAndSlowAnswers(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("cd", 20)
	adv := hostilegit.Advertisement("git-upload-pack", []hostilegit.Ref{{Name: "refs/heads/main", ID: id}}, hostilegit.DefaultCaps)
	endlessAdv := hostilegit.New(t, hostilegit.Handler{InfoRefs: func(*hostilegit.Request) hostilegit.Reply {
		r := hostilegit.Endless(adv[:len(adv)-4], hostilegit.Pkt(id+" refs/heads/x\n"), 0)
		r.Header = http.Header{"Content-Type": {"application/x-git-upload-pack-advertisement"}}
		return r
	}})
	lim := roomy
	lim.MaxTransfer = 4 << 20
	r := newRemote(t, Config{URL: endlessAdv.RepoURL("x.git"), Limits: lim})
	_, err := r.Advertise(testCtx(t), UploadPack, AdvertiseRequest{})
	assert.Equal(t, "transfer", limitOf(err), "%v", err)

	endlessPack := hostilegit.New(t, hostilegit.Handler{Refs: []hostilegit.Ref{{Name: "refs/heads/main", ID: id}},
		UploadPack: func(*hostilegit.Request) hostilegit.Reply {
			return hostilegit.Endless(hostilegit.Pkt("NAK\n"), hostilegit.Sideband(2, make([]byte, 60000)), 0)
		}})
	r = newRemote(t, Config{URL: endlessPack.RepoURL("x.git"), Limits: lim, Retry: retry.Policy{Retries: 3}})
	a, err := r.Advertise(testCtx(t), UploadPack, AdvertiseRequest{})
	require.NoError(t, err)
	_, err = r.Fetch(testCtx(t), a.Caps, FetchRequest{Wants: []plumbing.Hash{plumbing.NewHash(id)}}, tempStore(t))
	assert.Equal(t, "transfer", limitOf(err), "%v", err)
	assert.LessOrEqual(t, r.Stats().BytesReceived, lim.MaxTransfer+128<<10)

	slow := hostilegit.New(t, hostilegit.Handler{Refs: []hostilegit.Ref{{Name: "refs/heads/main", ID: id}},
		UploadPack: func(*hostilegit.Request) hostilegit.Reply {
			return hostilegit.Endless(hostilegit.Pkt("NAK\n"), hostilegit.Sideband(2, []byte("x")), 50*time.Millisecond)
		}})
	r = newRemote(t, Config{URL: slow.RepoURL("x.git")})
	a, err = r.Advertise(testCtx(t), UploadPack, AdvertiseRequest{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = r.Fetch(ctx, a.Caps, FetchRequest{Wants: []plumbing.Hash{plumbing.NewHash(id)}}, tempStore(t))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// Shallow lines that lie: malformed ids, lines where none were asked for,
// more lines than objects allowed.
func TestShallowLies(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("ef", 20)
	var p hostilegit.Pack
	p.Add(hostilegit.TypeBlob, []byte("x"))
	for _, tc := range []struct {
		name string
		body func(r *hostilegit.Request) []byte
		kind Kind
	}{
		{"bad id", func(r *hostilegit.Request) []byte {
			return append(append(hostilegit.Pkt("shallow nothex\n"), hostilegit.Flush()...), r.PackBody(p.Bytes())...)
		}, KindCorrupt},
		{"too many", func(r *hostilegit.Request) []byte {
			var b []byte
			for i := 0; i < 20; i++ {
				b = append(b, hostilegit.Pkt("shallow "+id+"\n")...)
			}
			return append(append(b, hostilegit.Flush()...), hostilegit.Pkt("NAK\n")...)
		}, KindLimit},
		{"no NAK", func(r *hostilegit.Request) []byte {
			return append(append(hostilegit.Pkt("shallow "+id+"\n"), hostilegit.Flush()...), hostilegit.Pkt("PACK...\n")...)
		}, KindCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := hostilegit.New(t, hostilegit.Handler{Refs: []hostilegit.Ref{{Name: "refs/heads/main", ID: id}},
				UploadPack: func(r *hostilegit.Request) hostilegit.Reply { return hostilegit.Reply{Body: tc.body(r)} }})
			lim := roomy
			lim.MaxObjects = 10
			r := newRemote(t, Config{URL: srv.RepoURL("x.git"), Limits: lim})
			adv, err := r.Advertise(testCtx(t), UploadPack, AdvertiseRequest{})
			require.NoError(t, err)
			_, err = r.Fetch(testCtx(t), adv.Caps, FetchRequest{Wants: []plumbing.Hash{plumbing.NewHash(id)}, Depth: 1}, tempStore(t))
			assert.Equal(t, tc.kind, KindOf(err), "%v", err)
		})
	}
}

// Push reports that lie are corrupt answers, not successes.
func TestPushReportLies(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("12", 20)
	upd := []RefUpdate{{Name: "refs/heads/stage/test", New: plumbing.NewHash(id)}}
	for _, tc := range []struct {
		name  string
		reply func(r *hostilegit.Request) []byte
		kind  Kind
	}{
		{"ok for another ref", func(r *hostilegit.Request) []byte { return r.ReportBody("ok", "ok refs/heads/other") }, KindCorrupt},
		{"no status for ours", func(r *hostilegit.Request) []byte { return r.ReportBody("ok") }, KindCorrupt},
		{"reported twice", func(r *hostilegit.Request) []byte {
			return r.ReportBody("ok", "ok refs/heads/stage/test", "ok refs/heads/stage/test")
		}, KindCorrupt},
		{"unpack failed but ok", func(r *hostilegit.Request) []byte {
			return r.ReportBody("index-pack abnormal exit", "ok refs/heads/stage/test")
		}, KindRefused},
		{"no report", func(r *hostilegit.Request) []byte { return nil }, KindUnavailable},
		{"rejected", func(r *hostilegit.Request) []byte {
			return r.ReportBody("ok", "ng refs/heads/stage/test failed to lock")
		}, KindRefused},
		{"garbage", func(r *hostilegit.Request) []byte { return []byte("HTTP/1.1 200 OK\r\n") }, KindCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := hostilegit.New(t, hostilegit.Handler{ReceivePack: func(r *hostilegit.Request) hostilegit.Reply {
				return hostilegit.Reply{Body: tc.reply(r)}
			}})
			r := newRemote(t, Config{URL: srv.RepoURL("x.git")})
			ps, err := r.OpenPush(testCtx(t), AdvertiseRequest{}, nil)
			require.NoError(t, err)
			defer ps.Close()
			err = ps.Push(testCtx(t), upd, emptyPack())
			assert.Equal(t, tc.kind, KindOf(err), "%v", err)
		})
	}
}

// What servers say when they refuse is sorted into the kinds the callers'
// fallbacks need.
func TestClassifyRefusal(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]Kind{
		"upload-pack: not our ref 0123456789abcdef0123456789abcdef01234567": KindNotOurRef,
		"filter 'tree' not supported":                                       KindFilterRefused,
		"git upload-pack: filtering capability not negotiated":              KindFilterRefused,
		"Repository not found.":                                             KindNotFound,
		"access denied or repository not exported: /x.git":                  KindAuth,
		"upload-pack: something else":                                       KindRefused,
	} {
		assert.Equal(t, want, KindOf(classifyRefusal("upload-pack", []byte(msg))), msg)
	}
}
