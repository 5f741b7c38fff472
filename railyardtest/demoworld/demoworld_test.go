package demoworld_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/railyardtest/demoworld"
)

func get(t *testing.T, c *http.Client, url, user, pass string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// The public names reach the loopback servers, other hosts are refused,
// and RequireGitAuth turns on a 401 for requests without the credentials.
func TestWorld(t *testing.T) {
	w := demoworld.Start(t)
	c := w.Client()
	refs := demoworld.GitOpsURL + "/info/refs?service=git-upload-pack"

	code, body := get(t, c, refs, "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "refs/heads/main")

	w.RequireGitAuth("kargo", "s3cret")
	code, _ = get(t, c, refs, "", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = get(t, c, refs, "kargo", "wrong")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = get(t, c, refs, "kargo", "s3cret")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, int64(2), w.Refused())
	w.RequireGitAuth("", "")

	w.SetGitFault(func(r demoworld.GitRequest) *demoworld.Fault {
		return &demoworld.Fault{Status: http.StatusServiceUnavailable}
	})
	code, _ = get(t, c, refs, "", "")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	w.SetGitFault(nil)

	_, err := c.Get("https://example.com/")
	assert.ErrorContains(t, err, "not part of the demo world")

	n := w.Newest()
	assert.True(t, n.HasImage)
	tag, digest := w.Image(n.ID)
	assert.Equal(t, "git-"+n.ID, tag)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, digest)
	assert.Equal(t, []string{"staging", "test", "levelbuilder", "production"}, w.Deployments)

	_, err = w.Forge().Get(context.Background(), 1)
	assert.ErrorIs(t, err, gitops.ErrNotFound)
}
