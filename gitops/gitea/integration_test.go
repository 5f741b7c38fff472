//go:build integration

package gitea_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/internal/testkit/giteatest"
)

// The review flow against a real Gitea v1.26.0: open a PR, reuse it on a
// second Propose, merge it through the API, WaitForMerge returns the merge
// commit, a Propose of the merged render is skipped, and a PR closed
// without merge is a typed error. giteatest.New fails (never skips) when
// RAILYARD_GITEA is unset.
func TestReviewFlowOnRealGitea(t *testing.T) {
	srv := giteatest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cloneURL, err := srv.CreateRepo(ctx, "gitops", false)
	require.NoError(t, err)

	// Git over HTTP against Gitea itself, with the token as credential.
	// stage/production does not exist yet: the first Propose creates it.
	repo, err := gitops.NewRepo(cloneURL, gitops.WithBasicAuth("x-access-token", srv.Token), gitops.WithCreateTarget(true))
	require.NoError(t, err)

	prs, err := gitea.New(srv.URL, srv.User, "gitops", gitea.WithBearerToken(srv.Token))
	require.NoError(t, err)
	dir := "apps/web/deployments/production/deploy"
	change := func(replicas int, freight string) gitops.Change {
		return gitops.Change{
			Dir:        dir,
			Files:      map[string][]byte{"deployment-web.yaml": fmt.Appendf(nil, "kind: Deployment\nspec:\n  replicas: %d\n", replicas)},
			Message:    "Promote web to production",
			Provenance: &gitops.Provenance{FreightID: freight, SourceCommit: strings.Repeat("a", 40)},
		}
	}

	p, err := repo.Propose(ctx, change(2, "f1"), "stage/production", prs)
	require.NoError(t, err)
	assert.True(t, p.TargetCreated, "the review target was created on Gitea")
	assert.True(t, p.Opened)
	pr := p.PullRequest
	assert.Equal(t, "railyard/stage/production/f1", pr.Head)
	assert.Equal(t, "stage/production", pr.Base)
	assert.Equal(t, gitops.PROpen, pr.State)
	assert.Equal(t, "Promote web to production", pr.Title)
	assert.Contains(t, pr.Body, "Railyard-Freight: f1")
	assert.Contains(t, pr.Body, "+ deployment-web.yaml")

	withSummary := change(2, "f1")
	withSummary.Summary = "Deployment/web: replicas 1 -> 2"
	reused, err := repo.Propose(ctx, withSummary, "stage/production", prs)
	require.NoError(t, err)
	assert.False(t, reused.TargetCreated)
	assert.Equal(t, pr.Number, reused.PullRequest.Number, "the open PR for the same head is reused")
	got, err := prs.Get(ctx, pr.Number)
	require.NoError(t, err)
	assert.Contains(t, got.Body, "Deployment/web: replicas 1 -> 2", "its body was updated on Gitea")
	assert.Equal(t, "Promote web to production", got.Title, "updating the body keeps the title")

	merge(ctx, t, srv, pr.Number)
	commit, err := gitops.WaitForMerge(ctx, prs, pr, gitops.WithPollInterval(100*time.Millisecond, time.Second))
	require.NoError(t, err)
	var branch struct {
		Commit struct{ ID string } `json:"commit"`
	}
	require.NoError(t, srv.API(ctx, http.MethodGet, "/api/v1/repos/"+srv.User+"/gitops/branches/stage%2Fproduction", nil, &branch))
	assert.Equal(t, branch.Commit.ID, commit, "the merge commit is the target's new tip")

	none, err := repo.Propose(ctx, change(2, "f1"), "stage/production", prs)
	require.NoError(t, err)
	assert.False(t, none.Changed, "no PR when the render equals the target")
	assert.Nil(t, none.PullRequest)

	second, err := repo.Propose(ctx, change(3, "f2"), "stage/production", prs)
	require.NoError(t, err)
	closed := second.PullRequest
	assert.NotEqual(t, pr.Number, closed.Number)
	require.NoError(t, srv.API(ctx, http.MethodPatch, fmt.Sprintf("/api/v1/repos/%s/gitops/pulls/%d", srv.User, closed.Number),
		map[string]any{"state": "closed"}, nil))
	_, err = gitops.WaitForMerge(ctx, prs, closed, gitops.WithPollInterval(100*time.Millisecond, time.Second))
	var ce *gitops.ClosedError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, gitops.ErrClosed)
	assert.Equal(t, closed.Number, ce.Number)

	_, err = prs.Get(ctx, 999)
	assert.ErrorIs(t, err, gitops.ErrNotFound)
	_, err = prs.FindOpen(ctx, "railyard/stage/production/f2", "stage/production")
	assert.ErrorIs(t, err, gitops.ErrNotFound, "a closed PR is not reused")

	bad, err := gitea.New(srv.URL, srv.User, "gitops", gitea.WithBearerToken("wrong-"+srv.Token))
	require.NoError(t, err)
	_, err = bad.Get(ctx, pr.Number)
	var ge *gitea.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, http.StatusUnauthorized, ge.StatusCode)
	assert.NotContains(t, err.Error(), srv.Token)
}

// merge merges PR n through Gitea's API, retrying while Gitea is still
// checking mergeability (it answers 405 until then).
func merge(ctx context.Context, t *testing.T, srv *giteatest.Server, n int) {
	t.Helper()
	path := fmt.Sprintf("/api/v1/repos/%s/gitops/pulls/%d/merge", srv.User, n)
	for {
		err := srv.API(ctx, http.MethodPost, path, map[string]any{"Do": "merge"}, nil)
		var ae *giteatest.APIError
		if err == nil || !errors.As(err, &ae) || ae.StatusCode != http.StatusMethodNotAllowed || ctx.Err() != nil {
			require.NoError(t, err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
