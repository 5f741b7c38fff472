package registrytest_test

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

// tags holds decoys and candidates alike; sorted byte-wise, upper case first.
var tags = []string{"git-b", "git-a", "latest", "staging", "A-upper", "z", "v0"}

// seeded returns a registry whose repo org/app carries tags.
func seeded(t *testing.T, opts ...registrytest.Option) *registrytest.Registry {
	t.Helper()
	reg := registrytest.New(t, opts...)
	d, err := reg.PushIndex(t.Context(), "org/app", tags[0], registrytest.IndexOptions{Seed: 1})
	require.NoError(t, err)
	require.NoError(t, reg.TagMany(t.Context(), "org/app", d, tags[1:]))
	reg.ResetStats()
	return reg
}

func sortedTags() []string {
	s := slices.Clone(tags)
	slices.Sort(s)
	return s
}

func TestPagedListReturnsEveryTag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		opts     []registrytest.Option
		pageSize int
		requests int64
	}{
		{"page size 1", nil, 1, 7},
		{"page size 2", nil, 2, 4},
		{"page size 7 sends no link after the last tag", nil, 7, 1},
		{"page size 100", nil, 100, 1},
		{"unpaged", nil, 0, 1},
		{"server cap 3, client unpaged", []registrytest.Option{registrytest.WithPageSizeCap(3)}, 0, 3},
		{"server cap 3, client asks 5", []registrytest.Option{registrytest.WithPageSizeCap(3)}, 5, 3},
		{"server cap 3, client asks 2", []registrytest.Option{registrytest.WithPageSizeCap(3)}, 2, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := seeded(t, tc.opts...)
			opts := []remote.Option{remote.WithContext(t.Context())}
			if tc.pageSize > 0 {
				opts = append(opts, remote.WithPageSize(tc.pageSize))
			}
			got, err := remote.List(repoRef(t, reg, "org/app"), opts...)
			require.NoError(t, err)
			assert.Equal(t, sortedTags(), got)
			assert.Equal(t, tc.requests, reg.Stats()[registrytest.KindTags])
		})
	}
}

// The wrapper exists because the stock handler drops tags from paged
// listings (it sends no Link header, so clients stop after one page).
func TestStockRegistryTruncatesPagedListings(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	img, err := random.Image(16, 1)
	require.NoError(t, err)
	host := srv.Listener.Addr().String()
	for _, tag := range tags {
		ref, err := name.NewTag(host + "/app:" + tag)
		require.NoError(t, err)
		require.NoError(t, remote.Write(ref, img, remote.WithContext(t.Context())))
	}
	repo, err := name.NewRepository(host + "/app")
	require.NoError(t, err)
	got, err := remote.List(repo, remote.WithContext(t.Context()), remote.WithPageSize(2))
	require.NoError(t, err)
	assert.Len(t, got, 2, "stock registry: if this now returns every tag, the wrapper may be simplified")
}

func TestTagsListLinkHeaders(t *testing.T) {
	t.Parallel()
	plain := seeded(t)
	capped := seeded(t, registrytest.WithPageSizeCap(3))
	for _, tc := range []struct {
		name  string
		reg   *registrytest.Registry
		query string
		tags  []string
		link  string
	}{
		{"first page", plain, "?n=2", []string{"A-upper", "git-a"},
			`</v2/org/app/tags/list?n=2&last=git-a>; rel="next"`},
		{"middle page", plain, "?n=2&last=git-a", []string{"git-b", "latest"},
			`</v2/org/app/tags/list?n=2&last=latest>; rel="next"`},
		{"last page exactly full", plain, "?n=2&last=staging", []string{"v0", "z"}, ""},
		{"last page short", plain, "?n=3&last=v0", []string{"z"}, ""},
		{"last not a tag", plain, "?last=h", []string{"latest", "staging", "v0", "z"}, ""},
		{"after the end", plain, "?n=2&last=z", []string{}, ""},
		{"n=0", plain, "?n=0", []string{}, ""},
		{"unpaged", plain, "", sortedTags(), ""},
		{"cap without n", capped, "", []string{"A-upper", "git-a", "git-b"},
			`</v2/org/app/tags/list?n=3&last=git-b>; rel="next"`},
		{"cap clamps n", capped, "?n=50&last=git-b", []string{"latest", "staging", "v0"},
			`</v2/org/app/tags/list?n=3&last=v0>; rel="next"`},
		{"n below cap", capped, "?n=1&last=v0", []string{"z"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, http.MethodGet, tc.reg.URL+"/v2/org/app/tags/list"+tc.query)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Equal(t, tc.link, resp.Header.Get("Link"))
			var body struct {
				Name string   `json:"name"`
				Tags []string `json:"tags"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			assert.Equal(t, "org/app", body.Name)
			assert.Equal(t, tc.tags, body.Tags)
		})
	}
}

func TestTagsListErrors(t *testing.T) {
	t.Parallel()
	reg := seeded(t)
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v2/org/app/tags/list?n=-1", http.StatusBadRequest, "PAGINATION_NUMBER_INVALID"},
		{"/v2/org/app/tags/list?n=two", http.StatusBadRequest, "PAGINATION_NUMBER_INVALID"},
		{"/v2/org/other/tags/list", http.StatusNotFound, "NAME_UNKNOWN"},
		{"/v2/org/other/tags/list?n=2", http.StatusNotFound, "NAME_UNKNOWN"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			resp := do(t, http.MethodGet, reg.URL+tc.path)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.code, errorCode(t, resp))
		})
	}
}

// A listing cached before a push must not hide the pushed tag.
func TestTagsListSeesNewTags(t *testing.T) {
	t.Parallel()
	reg := seeded(t)
	repo := repoRef(t, reg, "org/app")
	before, err := remote.List(repo, remote.WithContext(t.Context()), remote.WithPageSize(3))
	require.NoError(t, err)
	require.Len(t, before, len(tags))
	d, err := reg.PushImage(t.Context(), "org/app", "git-c", 9)
	require.NoError(t, err)
	after, err := remote.List(repo, remote.WithContext(t.Context()), remote.WithPageSize(3))
	require.NoError(t, err)
	assert.Contains(t, after, "git-c")
	assert.Len(t, after, len(tags)+1)

	require.NoError(t, reg.Tag(t.Context(), "org/app", d, "zz"))
	again, err := remote.List(repo, remote.WithContext(t.Context()))
	require.NoError(t, err)
	assert.Equal(t, "zz", again[len(again)-1])
}
