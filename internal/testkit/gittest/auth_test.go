package gittest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

func TestAuthRecorder(t *testing.T) {
	t.Parallel()
	srv := gittest.New(t)
	_, err := srv.InitBare("repo.git")
	require.NoError(t, err)
	rec := &gittest.AuthRecorder{}
	client := &http.Client{Transport: rec}
	for _, user := range []string{"bot", ""} {
		req, err := http.NewRequest(http.MethodGet, srv.RepoURL("repo.git")+"/info/refs?service=git-upload-pack", nil)
		require.NoError(t, err)
		if user != "" {
			req.SetBasicAuth(user, "s3cret")
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Equal(t, []string{"Basic Ym90OnMzY3JldA==", ""}, rec.Seen())
}
