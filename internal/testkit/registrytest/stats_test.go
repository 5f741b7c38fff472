package registrytest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

func TestStatsCountEachKind(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	d, err := reg.PushImage(t.Context(), "app", "v1", 1)
	require.NoError(t, err)
	assert.Positive(t, reg.Stats()[registrytest.KindUpload], "the push uploaded blobs")
	assert.Equal(t, int64(1), reg.Stats()[registrytest.KindManifestPut])

	reg.ResetStats()
	want := map[string]int64{}
	for _, k := range []string{registrytest.KindTags, registrytest.KindManifestHead, registrytest.KindManifestGet,
		registrytest.KindManifestPut, registrytest.KindBlob, registrytest.KindUpload, registrytest.KindToken, registrytest.KindOther} {
		want[k] = 0
	}
	assert.Equal(t, want, reg.Stats(), "every kind present and zero after a reset")

	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/v2/"},
		{http.MethodGet, "/v2/_catalog"},
		{http.MethodGet, "/v2/app/tags/list"},
		{http.MethodGet, "/v2/app/tags/list?n=1"},
		{http.MethodHead, "/v2/app/manifests/v1"},
		{http.MethodGet, "/v2/app/manifests/" + d},
		{http.MethodHead, "/v2/app/blobs/" + d},
		{http.MethodPost, "/v2/app/blobs/uploads/"},
	} {
		do(t, r.method, reg.URL+r.path)
	}
	want[registrytest.KindOther] = 2
	want[registrytest.KindTags] = 2
	want[registrytest.KindManifestHead] = 1
	want[registrytest.KindManifestGet] = 1
	want[registrytest.KindBlob] = 1
	want[registrytest.KindUpload] = 1
	assert.Equal(t, want, reg.Stats())

	// Tag: the ping, one manifest GET, one PUT per tag.
	reg.ResetStats()
	require.NoError(t, reg.TagMany(t.Context(), "app", d, []string{"a", "b", "c"}))
	stats := reg.Stats()
	assert.Equal(t, int64(1), stats[registrytest.KindOther])
	assert.Equal(t, int64(1), stats[registrytest.KindManifestGet])
	assert.Equal(t, int64(3), stats[registrytest.KindManifestPut])
}
