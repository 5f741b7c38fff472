//go:build integration

package registrytest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

// external starts the distribution registry named by $RAILYARD_REGISTRY,
// failing the test when it is missing: CI must provide it.
func external(t *testing.T) *registrytest.External {
	t.Helper()
	bin, err := registrytest.BinaryFromEnv()
	require.NoError(t, err, "integration tests need the distribution registry v3 binary")
	e, err := registrytest.StartExternal(t.Context(), bin)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	return e
}

func TestExternalRegistry(t *testing.T) {
	t.Parallel()
	e := external(t)
	ctx := t.Context()
	resp := do(t, http.MethodGet, e.URL+"/v2/")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "registry/2.0", resp.Header.Get("Docker-Distribution-API-Version"))

	d, err := e.PushIndex(ctx, "org/app", tags[0], registrytest.IndexOptions{Revision: sha, Seed: 1})
	require.NoError(t, err)
	require.NoError(t, e.TagMany(ctx, "org/app", d, tags[1:]))
	ref, err := name.NewTag(e.Ref("org/app", "latest"))
	require.NoError(t, err)
	desc, err := remote.Head(ref, remote.WithContext(ctx))
	require.NoError(t, err)
	assert.Equal(t, d, desc.Digest.String())

	repo, err := name.NewRepository(e.Repo("org/app"))
	require.NoError(t, err)
	got, err := remote.List(repo, remote.WithContext(ctx), remote.WithPageSize(2))
	require.NoError(t, err)
	assert.Equal(t, sortedTags(), got)

	// distribution checks that an index's children exist: PushIndexes
	// must push them before the annotated indexes.
	digests, err := e.PushIndexes(ctx, "org/many", registrytest.IndexOptions{Seed: 2},
		map[string]string{"git-" + sha: sha, "git-" + sha[1:] + "0": sha[1:] + "0"})
	require.NoError(t, err)
	require.Len(t, digests, 2)
	ref, err = name.NewTag(e.Ref("org/many", "git-"+sha))
	require.NoError(t, err)
	desc, err = remote.Head(ref, remote.WithContext(ctx))
	require.NoError(t, err)
	assert.Equal(t, digests["git-"+sha], desc.Digest.String())
}

// The in-process wrapper pages like the real registry: same tags on every
// page, and a Link to the same next page wherever more tags remain.
func TestExternalPagingMatchesRegistrytest(t *testing.T) {
	t.Parallel()
	e := external(t)
	reg := seeded(t)
	d, err := e.PushIndex(t.Context(), "org/app", tags[0], registrytest.IndexOptions{Seed: 1})
	require.NoError(t, err)
	require.NoError(t, e.TagMany(t.Context(), "org/app", d, tags[1:]))
	desc, err := remote.Head(tagRef(t, reg, "org/app", tags[0]), remote.WithContext(t.Context()))
	require.NoError(t, err)
	assert.Equal(t, d, desc.Digest.String(), "PushIndex is deterministic across registries")

	for _, q := range []string{"", "?n=0", "?n=1", "?n=2", "?n=2&last=git-a", "?n=3&last=latest", "?last=h",
		"?n=2&last=z", "?n=7", "?n=100", "?last=A-upper&n=1"} {
		t.Run(q, func(t *testing.T) {
			t.Parallel()
			want, wantLink := listPage(t, e.URL, q)
			got, gotLink := listPage(t, reg.URL, q)
			assert.Equal(t, want, got)
			if gotLink != nil {
				require.NotNil(t, wantLink, "registrytest links where distribution does not")
				assert.Equal(t, wantLink, gotLink)
			} else if wantLink != nil {
				// distribution links after an exactly full last page; the
				// page it points to must then be empty.
				rest, _ := listPage(t, e.URL, "?"+wantLink.Encode())
				assert.Empty(t, rest)
			}
		})
	}

	for _, q := range []string{"?n=-1", "?n=x"} {
		assert.Equal(t, http.StatusBadRequest, do(t, http.MethodGet, e.URL+"/v2/org/app/tags/list"+q).StatusCode)
		assert.Equal(t, http.StatusBadRequest, do(t, http.MethodGet, reg.URL+"/v2/org/app/tags/list"+q).StatusCode)
	}
	assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, e.URL+"/v2/org/none/tags/list").StatusCode)
	assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, reg.URL+"/v2/org/none/tags/list").StatusCode)
}

// listPage GETs one tags/list page of org/app and returns its tags and the
// query of its Link header (nil without one).
func listPage(t *testing.T, base, query string) ([]string, url.Values) {
	t.Helper()
	resp := do(t, http.MethodGet, base+"/v2/org/app/tags/list"+query)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct {
		Tags []string `json:"tags"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	link := resp.Header.Get("Link")
	if link == "" {
		return body.Tags, nil
	}
	target, ok := strings.CutPrefix(link, "<")
	require.True(t, ok, link)
	target, ok = strings.CutSuffix(target, `>; rel="next"`)
	require.True(t, ok, link)
	u, err := url.Parse(target)
	require.NoError(t, err)
	assert.Equal(t, "/v2/org/app/tags/list", u.Path)
	return body.Tags, u.Query()
}

func TestStartExternalErrors(t *testing.T) {
	t.Parallel()
	_, err := registrytest.StartExternal(t.Context(), "")
	require.ErrorIs(t, err, registrytest.ErrNoBinary)
	_, err = registrytest.StartExternal(t.Context(), "/nonexistent/registry")
	require.Error(t, err)
	_, err = registrytest.StartExternal(t.Context(), "/bin/false")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited during start")
}
