package registrytest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassifyAndRepoOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, path, kind, repo string
	}{
		{http.MethodGet, "/v2/", KindOther, ""},
		{http.MethodGet, "/v2/_catalog", KindOther, ""},
		{http.MethodGet, "/token", KindToken, ""},
		{http.MethodGet, "/v2/org/app/tags/list", KindTags, "org/app"},
		{http.MethodHead, "/v2/app/manifests/git-1", KindManifestHead, "app"},
		{http.MethodGet, "/v2/app/manifests/sha256:ab", KindManifestGet, "app"},
		{http.MethodPut, "/v2/app/manifests/v1", KindManifestPut, "app"},
		{http.MethodDelete, "/v2/app/manifests/v1", KindManifestPut, "app"},
		{http.MethodHead, "/v2/a/b/c/blobs/sha256:ab", KindBlob, "a/b/c"},
		{http.MethodPost, "/v2/app/blobs/uploads/", KindUpload, "app"},
		{http.MethodPatch, "/v2/app/blobs/uploads/1234", KindUpload, "app"},
		{http.MethodGet, "/v2/tags/manifests/list", KindManifestGet, "tags"},
		{http.MethodGet, "/v2/org/blobs/app/blobs/uploads/x", KindUpload, "org/blobs/app"},
		{http.MethodGet, "/v2/a/tags/b/manifests/c", KindManifestGet, "a/tags/b"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			req := &http.Request{Method: tc.method, URL: &url.URL{Path: tc.path}}
			assert.Equal(t, tc.kind, classify(req))
			assert.Equal(t, tc.repo, repoOf(tc.path))
		})
	}
}

// FuzzClassify checks that any path gets a known kind and that requests
// inside a repository name a repository that prefixes the path.
func FuzzClassify(f *testing.F) {
	for _, p := range []string{"/v2/", "/v2/app/tags/list", "/v2/a/b/manifests/x", "/v2/app/blobs/uploads/",
		"/v2//tags/list", "/v2/blobs/blobs/x", "/token", "/v2/a/manifests/"} {
		f.Add(http.MethodGet, p)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		kind := classify(&http.Request{Method: method, URL: &url.URL{Path: path}})
		require.Contains(t, kinds, kind)
		repo := repoOf(path)
		if repo != "" {
			require.True(t, strings.HasPrefix(path, "/v2/"+repo+"/"), "repo %q outside %q", repo, path)
		}
		switch kind {
		case KindTags, KindManifestHead, KindManifestGet, KindManifestPut, KindBlob, KindUpload:
			require.NotEmpty(t, repo, "%s request without a repository", kind)
		}
	})
}
