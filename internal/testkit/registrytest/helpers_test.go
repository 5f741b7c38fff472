package registrytest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

// noRetry turns go-containerregistry's retries off, so a fault reaches the
// caller unchanged.
var noRetry = remote.WithRetryBackoff(remote.Backoff{Steps: 1})

// repoRef parses repo on reg.
func repoRef(tb testing.TB, reg *registrytest.Registry, repo string) name.Repository {
	tb.Helper()
	r, err := name.NewRepository(reg.Repo(repo))
	require.NoError(tb, err)
	return r
}

// tagRef parses repo:tag on reg.
func tagRef(t *testing.T, reg *registrytest.Registry, repo, tag string) name.Tag {
	t.Helper()
	r, err := name.NewTag(reg.Ref(repo, tag))
	require.NoError(t, err)
	return r
}

// do sends a plain HTTP request with the test's context.
func do(t *testing.T, method, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// errorCode decodes a distribution error body holding exactly one error
// and returns its code.
func errorCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	var body struct {
		Errors []struct{ Code string } `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Len(t, body.Errors, 1)
	return body.Errors[0].Code
}
