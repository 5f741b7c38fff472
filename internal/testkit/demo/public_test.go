package demo

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransportRoutesPublicNames(t *testing.T) {
	t.Parallel()
	w, err := Build(t.TempDir(), Small, DefaultSeed)
	require.NoError(t, err)
	s, err := Serve(context.Background(), w)
	require.NoError(t, err)
	defer s.Close()
	c := &http.Client{Transport: s.Transport()}

	for _, u := range []string{
		PublicMonorepoURL + "/info/refs?service=git-upload-pack",
		PublicGitOpsURL + "/info/refs?service=git-upload-pack",
		"https://ghcr.io/v2/code-dot-org/code-dot-org/tags/list",
	} {
		resp, err := c.Get(u)
		require.NoError(t, err, u)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, u)
		assert.NotEmpty(t, body, u)
	}
	assert.Positive(t, s.Git.Stats(MonorepoName)["info/refs"].Requests)
	for _, u := range []string{"https://github.com/other/repo.git/info/refs", "https://example.com/"} {
		_, err := c.Get(u)
		assert.ErrorContains(t, err, "not part of the demo world", u)
	}
}

func TestServeInKeepsPushes(t *testing.T) {
	t.Parallel()
	w, err := Build(t.TempDir(), Small, DefaultSeed)
	require.NoError(t, err)
	root := t.TempDir()
	s, err := ServeIn(context.Background(), w, root)
	require.NoError(t, err)
	_, err = gittest.Git(s.GitOpsDir, "branch", "stage/test", "main")
	require.NoError(t, err)
	s.Close()

	s2, err := ServeIn(context.Background(), w, root)
	require.NoError(t, err)
	defer s2.Close()
	_, err = gittest.Git(s2.GitOpsDir, "rev-parse", "--verify", "stage/test")
	assert.NoError(t, err, "a branch made in the first run is still there")
	_, err = ServeIn(context.Background(), w, "")
	assert.Error(t, err)
}
