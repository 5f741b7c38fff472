package freight

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

// tagged returns a registry whose repository "app" holds one multi-arch
// index under n tags, and the index digest.
func tagged(t *testing.T, n int, opts ...registrytest.Option) (*registrytest.Registry, []string, string) {
	t.Helper()
	reg := registrytest.New(t, opts...)
	ctx := context.Background()
	digest, err := reg.PushIndex(ctx, "app", "seed", registrytest.IndexOptions{Revision: sha1ID, Seed: 1})
	require.NoError(t, err)
	tags := []string{"seed"}
	for i := range n - 1 {
		tags = append(tags, fmt.Sprintf("t%04d", i))
	}
	require.NoError(t, reg.TagMany(ctx, "app", digest, tags[1:]))
	sort.Strings(tags)
	reg.ResetStats()
	return reg, tags, digest
}

func TestImageSourceTagsPaged(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		serverCap int
		pageSize  int
		tags      int
		pages     int64
	}{
		{"one page", 0, 100, 25, 1},
		{"client pages", 0, 10, 25, 3},
		{"exactly full last page", 0, 5, 25, 6},
		{"server caps pages", 7, 1000, 25, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []registrytest.Option
			if tc.serverCap > 0 {
				opts = append(opts, registrytest.WithPageSizeCap(tc.serverCap))
			}
			reg, want, _ := tagged(t, tc.tags, opts...)
			src, err := NewImageSource(reg.Repo("app"), WithPageSize(tc.pageSize))
			require.NoError(t, err)
			got, err := src.Tags(context.Background())
			require.NoError(t, err)
			assert.Equal(t, want, got)
			stats := reg.Stats()
			assert.GreaterOrEqual(t, stats[registrytest.KindTags], tc.pages-1)
			assert.LessOrEqual(t, stats[registrytest.KindTags], tc.pages)
			assert.Zero(t, stats[registrytest.KindManifestHead]+stats[registrytest.KindManifestGet], "listing reads no manifests")
		})
	}
}

func TestImageSourceResolveAndRevision(t *testing.T) {
	t.Parallel()
	reg, _, digest := tagged(t, 1)
	ctx := context.Background()
	single, err := reg.PushImage(ctx, "app", "git-"+sha1ID+"-amd64", 7)
	require.NoError(t, err)
	src, err := NewImageSource(reg.Repo("app"))
	require.NoError(t, err)
	assert.Equal(t, reg.Repo("app"), src.Repository())

	reg.ResetStats()
	img, err := src.Resolve(ctx, "seed")
	require.NoError(t, err)
	assert.Equal(t, Image{RepoURL: reg.Repo("app"), Tag: "seed", Digest: digest}, img, "index digest for a multi-arch tag")
	assert.EqualValues(t, 1, reg.Stats()[registrytest.KindManifestHead])

	img, err = src.Resolve(ctx, "git-"+sha1ID+"-amd64")
	require.NoError(t, err)
	assert.Equal(t, single, img.Digest)

	rev, err := src.Revision(ctx, "seed")
	require.NoError(t, err)
	assert.Equal(t, sha1ID, rev)
	rev, err = src.Revision(ctx, "git-"+sha1ID+"-amd64")
	require.NoError(t, err)
	assert.Empty(t, rev)

	_, err = src.Resolve(ctx, "missing")
	assert.ErrorIs(t, err, ErrNotFound)
	missing, err := NewImageSource(reg.Repo("nothing-here"))
	require.NoError(t, err)
	_, err = missing.Tags(ctx)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestImageSourceAuth(t *testing.T) {
	t.Parallel()
	const user, pass, token = "robot", "pa55word", "t0ken"
	ctx := context.Background()
	cases := []struct {
		name    string
		server  registrytest.Option
		opts    []Option
		wantErr error
	}{
		{"basic", registrytest.WithBasicAuth(user, pass), []Option{WithBasicAuth(user, pass)}, nil},
		{"basic, anonymous client", registrytest.WithBasicAuth(user, pass), nil, ErrUnauthorized},
		{"basic, wrong password", registrytest.WithBasicAuth(user, pass), []Option{WithBasicAuth(user, "nope")}, ErrUnauthorized},
		{"token exchange with basic", registrytest.WithBearerToken(user, pass, token), []Option{WithBasicAuth(user, pass)}, nil},
		{"registry token", registrytest.WithBearerToken(user, pass, token), []Option{WithBearerToken(token)}, nil},
		{"anonymous token", registrytest.WithBearerToken("", "", token), nil, nil},
		{"GitHub token only for ghcr.io", registrytest.WithBasicAuth("x-access-token", pass), []Option{WithGitHubToken(pass)}, ErrUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, want, _ := tagged(t, 3, tc.server)
			src, err := NewImageSource(reg.Repo("app"), append(tc.opts, fastRetries)...)
			require.NoError(t, err)
			got, err := src.Tags(ctx)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.NotContains(t, err.Error(), pass)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
			_, err = src.Resolve(ctx, want[0])
			require.NoError(t, err)
		})
	}
}

func TestImageSourceDockerConfig(t *testing.T) {
	const user, pass = "robot", "from-docker-config"
	reg, want, _ := tagged(t, 2, registrytest.WithBasicAuth(user, pass))
	dir := t.TempDir()
	auth := fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, reg.Host, user, pass)
	require.NoError(t, writeFile(dir+"/config.json", auth))
	t.Setenv("DOCKER_CONFIG", dir)
	src, err := NewImageSource(reg.Repo("app"), WithDockerConfig())
	require.NoError(t, err)
	got, err := src.Tags(context.Background())
	require.NoError(t, err)
	assert.Equal(t, want, got)

	t.Setenv("GITHUB_TOKEN", "")
	src, err = NewImageSource(reg.Repo("app"), WithGitHubTokenFromEnv(), fastRetries)
	require.NoError(t, err)
	_, err = src.Tags(context.Background())
	assert.ErrorIs(t, err, ErrUnauthorized, "no docker config without the option")
}

func TestImageSourceFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		fault   func(registrytest.Request) *registrytest.Fault
		wantErr error
	}{
		{"429 with Retry-After on page 2", func(r registrytest.Request) *registrytest.Fault {
			if r.Kind == registrytest.KindTags && r.N == 2 {
				return &registrytest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0"}
			}
			return nil
		}, nil},
		{"page cut mid-body", func(r registrytest.Request) *registrytest.Fault {
			if r.Kind == registrytest.KindTags && r.N <= 2 {
				return &registrytest.Fault{CutAfter: 30}
			}
			return nil
		}, nil},
		{"ping 503 once", func(r registrytest.Request) *registrytest.Fault {
			if r.Kind == registrytest.KindOther && r.N == 1 {
				return &registrytest.Fault{Status: http.StatusServiceUnavailable}
			}
			return nil
		}, nil},
		{"HEAD cut", func(r registrytest.Request) *registrytest.Fault {
			if r.Kind == registrytest.KindManifestHead && r.N == 1 {
				return &registrytest.Fault{CutAfter: 1}
			}
			return nil
		}, nil},
		{"always 503", func(r registrytest.Request) *registrytest.Fault {
			if r.Kind == registrytest.KindTags {
				return &registrytest.Fault{Status: http.StatusServiceUnavailable}
			}
			return nil
		}, ErrUnavailable},
		{"400 is not retried", func(r registrytest.Request) *registrytest.Fault {
			if r.Kind == registrytest.KindTags {
				return &registrytest.Fault{Status: http.StatusBadRequest}
			}
			return nil
		}, ErrRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, want, digest := tagged(t, 12)
			reg.SetFault(tc.fault)
			src, err := NewImageSource(reg.Repo("app"), WithPageSize(5), fastRetries)
			require.NoError(t, err)
			got, err := src.Tags(context.Background())
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				if tc.wantErr == ErrRejected {
					assert.EqualValues(t, 1, reg.Stats()[registrytest.KindTags])
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
			img, err := src.Resolve(context.Background(), want[0])
			require.NoError(t, err)
			assert.Equal(t, digest, img.Digest)
		})
	}
}

// A registry whose Link header points at another host is not followed.
func TestImageSourceRefusesForeignLinks(t *testing.T) {
	t.Parallel()
	visited := false
	foreign := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { visited = true }))
	defer foreign.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			w.Header().Set("Link", "<"+foreign.URL+"/v2/app/tags/list>; rel=\"next\"")
			_, _ = w.Write([]byte(`{"name":"app","tags":["a"]}`))
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	src, err := NewImageSource(strings.TrimPrefix(srv.URL, "http://")+"/app", fastRetries)
	require.NoError(t, err)
	_, err = src.Tags(context.Background())
	require.Error(t, err)
	assert.False(t, visited)
}

func TestNewImageSourceInvalid(t *testing.T) {
	t.Parallel()
	for _, repo := range []string{"", "ghcr.io/org/app:tag", "ghcr.io/org/app@sha256:" + strings.Repeat("a", 64), "UPPER/case", "a//b", "ghcr.io/org/app\x00"} {
		_, err := NewImageSource(repo)
		assert.ErrorIs(t, err, ErrInvalid, "%q", repo)
	}
	for _, opt := range []Option{WithPageSize(0), WithBasicAuth("", "x"), WithBearerToken(""), WithRetries(-1, 0, 1),
		WithLogger(nil), WithHTTPClient(nil), WithCredentials(nil), WithMaxPages(0), WithMaxTags(0), WithMaxResponseSize(0),
		WithTrustedAuthOrigins("https://u:secret@auth.example"), WithTrustedAuthOrigins("https://auth.example/token")} {
		_, err := NewImageSource("ghcr.io/org/app", opt)
		assert.ErrorIs(t, err, ErrInvalid)
		if err != nil {
			assert.NotContains(t, err.Error(), "secret")
		}
	}
	// Options for the other constructors are refused, not ignored: before,
	// NewImageSource(..., WithLimit(5)) was silently accepted.
	for _, opt := range []Option{WithLimit(5), WithIncludePaths("k8s"), withObjectFormat(formatSHA256), WithConcurrency(2),
		WithGates(GateFunc(nil)), WithIssued(), WithRevisionCheck()} {
		_, err := NewImageSource("ghcr.io/org/app", opt)
		assert.ErrorIs(t, err, ErrInvalid)
		assert.False(t, IsRetryable(err))
	}
	_, err := NewImageSource("ghcr.io/org/app", nil, WithPageSize(10), nil)
	assert.NoError(t, err, "nil options are ignored")
	_, err = NewImageSource("ghcr.io/org/app", WithBasicAuth("u", "p"), WithBearerToken("t"))
	assert.ErrorIs(t, err, ErrInvalid)
}
