package gitops_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
)

const prodDir = "apps/web/deployments/production/deploy"

func TestProposeOpensReusesAndSkips(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	targetTip := rem.seed(t, "stage/production", map[string]string{prodDir + "/deployment-web.yaml": "old\n", prodDir + "/gone.yaml": "x\n"})
	ctx := testContext(t)
	repo := newRepo(t, rem.url)
	prs := &memPRs{}
	change := gitops.Change{Dir: prodDir, Files: render(1), Message: "Promote web to production", Provenance: testProvenance}

	p, err := repo.Propose(ctx, change, "stage/production", prs)
	require.NoError(t, err)
	assert.True(t, p.Changed)
	assert.True(t, p.Opened)
	assert.False(t, p.TargetCreated)
	assert.Equal(t, "stage/production", p.Target)
	assert.Equal(t, rem.git(t, "rev-parse", "refs/heads/"+p.Head), p.Commit)
	assert.Len(t, p.Files, 4)
	pr := p.PullRequest
	wantHead := "railyard/stage/production/" + testProvenance.FreightID
	assert.Equal(t, wantHead, pr.Head)
	assert.Equal(t, "stage/production", pr.Base)
	assert.Equal(t, "Promote web to production", pr.Title)
	assert.Contains(t, pr.Body, "Railyard-Freight: "+testProvenance.FreightID)
	assert.Contains(t, pr.Body, "+ PROVENANCE\n! deployment-web.yaml\n- gone.yaml\n+ service-web.yaml\n")
	assert.Equal(t, targetTip, rem.git(t, "rev-parse", "refs/heads/"+wantHead+"^"), "the head starts from the target's tip")
	assert.Equal(t, targetTip, rem.git(t, "rev-parse", "refs/heads/stage/production"), "the target is untouched")

	reused, err := repo.Propose(ctx, change, "stage/production", prs)
	require.NoError(t, err)
	assert.True(t, reused.Changed)
	assert.False(t, reused.Opened)
	again := reused.PullRequest
	assert.Equal(t, pr.Number, again.Number, "the open pull request is reused")
	assert.Equal(t, 1, prs.creates)
	assert.Zero(t, prs.updates, "an unchanged body is not rewritten")

	withSummary := change
	withSummary.Summary = "Deployment/web: replicas 1 -> 2"
	reused, err = repo.Propose(ctx, withSummary, "stage/production", prs)
	require.NoError(t, err)
	again = reused.PullRequest
	assert.Equal(t, pr.Number, again.Number)
	assert.Equal(t, 1, prs.updates)
	assert.Contains(t, again.Body, "Deployment/web: replicas 1 -> 2")
	assert.NotContains(t, again.Body, "gone.yaml", "the summary replaces the file list")

	// Once the target holds the render (the PR was merged), nothing is proposed.
	_, err = repo.Commit(ctx, gitops.Change{Branch: "stage/production", Dir: prodDir, Files: render(1), Provenance: testProvenance})
	require.NoError(t, err)
	none, err := repo.Propose(ctx, change, "stage/production", prs)
	require.NoError(t, err)
	assert.False(t, none.Changed)
	assert.Nil(t, none.PullRequest)
	assert.Equal(t, 1, prs.creates)
}

func TestProposeUpToDatePushesNothing(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	files := map[string]string{}
	for name, data := range render(1) {
		files[prodDir+"/"+name] = string(data)
	}
	rem.seed(t, "stage/production", files)
	p, err := newRepo(t, rem.url).Propose(testContext(t), gitops.Change{Dir: prodDir, Files: render(1)}, "stage/production", &memPRs{})
	require.NoError(t, err)
	assert.False(t, p.Changed)
	assert.Empty(t, p.Commit)
	assert.Equal(t, "stage/production", rem.git(t, "for-each-ref", "--format=%(refname:short)", "refs/heads/"), "no head branch pushed")

	_, err = newRepo(t, rem.url).Propose(testContext(t), gitops.Change{Dir: prodDir, Files: render(1)}, "stage/missing", &memPRs{})
	require.ErrorIs(t, err, gitops.ErrBaseNotFound)
}

func TestHeadBranchIsDeterministic(t *testing.T) {
	t.Parallel()
	repo := newRepo(t, "https://example.com/gitops.git")
	a, err := repo.HeadBranch(gitops.Change{Dir: prodDir, Files: render(1)}, "stage/production")
	require.NoError(t, err)
	b, err := repo.HeadBranch(gitops.Change{Dir: prodDir, Files: render(1)}, "stage/production")
	require.NoError(t, err)
	c, err := repo.HeadBranch(gitops.Change{Dir: prodDir, Files: render(2)}, "stage/production")
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	assert.True(t, strings.HasPrefix(a, "railyard/stage/production/tree-"), a)

	_, err = repo.HeadBranch(gitops.Change{Dir: gitops.Root, Provenance: &gitops.Provenance{FreightID: "../../x"}}, "stage/production")
	assert.ErrorIs(t, err, gitops.ErrInvalidChange)
	own, err := repo.HeadBranch(gitops.Change{Dir: gitops.Root, Branch: "review/web"}, "stage/production")
	require.NoError(t, err)
	assert.Equal(t, "review/web", own)
}

// Concurrent Proposes of the same render through one Repo open one pull
// request.
func TestProposeConcurrentOpensOnePR(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/production", map[string]string{"README.md": "x"})
	repo := newRepo(t, rem.url)
	prs := &memPRs{}
	ctx := testContext(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := repo.Propose(ctx, gitops.Change{Dir: prodDir, Files: render(1), Provenance: testProvenance}, "stage/production", prs)
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, 1, prs.creates)
}

// Regression: a Change whose Branch is the target itself (e.g. built from
// deployment.yaml's `branch: stage/production` for Commit and passed to
// Propose unchanged) was pushed straight onto the reviewed branch, before
// any review, and then a pull request from the target into itself was
// attempted.
func TestProposeRefusesHeadEqualToTarget(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	targetTip := rem.seed(t, "stage/production", map[string]string{prodDir + "/deployment-web.yaml": "old\n"})
	ctx := testContext(t)
	repo := newRepo(t, rem.url)
	prs := &memPRs{}
	change := gitops.Change{Branch: "stage/production", Dir: prodDir, Files: render(1), Message: "Promote", Provenance: testProvenance}

	_, err := repo.Propose(ctx, change, "stage/production", prs)
	require.ErrorIs(t, err, gitops.ErrInvalidChange)
	assert.Equal(t, targetTip, rem.git(t, "rev-parse", "refs/heads/stage/production"), "the reviewed branch is untouched")
	assert.Zero(t, prs.creates)
}

// racingPRs is a forge on which another process opens the same pull
// request between Propose's FindOpen and its Create, and which, like GitHub
// and Gitea, refuses a second open pull request for the same head and base.
type racingPRs struct{ *memPRs }

func (r racingPRs) Create(ctx context.Context, n gitops.NewPullRequest) (*gitops.PullRequest, error) {
	if _, err := r.FindOpen(ctx, n.Head, n.Base); err == nil {
		return nil, errors.New("422: a pull request already exists for " + n.Head)
	}
	if _, err := r.memPRs.Create(ctx, gitops.NewPullRequest{Title: "other process", Body: "other body", Head: n.Head, Base: n.Base}); err != nil {
		return nil, err
	}
	return nil, errors.New("422: a pull request already exists for " + n.Head)
}

// Regression: when another process opened the pull request for the same
// head after Propose looked for one, Propose failed on the forge's
// "already exists" answer instead of reusing that pull request.
func TestProposeReusesPullRequestOpenedConcurrently(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/production", map[string]string{prodDir + "/deployment-web.yaml": "old\n"})
	ctx := testContext(t)
	repo := newRepo(t, rem.url)
	mem := &memPRs{}
	change := gitops.Change{Dir: prodDir, Files: render(1), Message: "Promote web to production", Provenance: testProvenance}

	p, err := repo.Propose(ctx, change, "stage/production", racingPRs{mem})
	require.NoError(t, err)
	assert.False(t, p.Opened, "another process opened it")
	pr := p.PullRequest
	assert.Equal(t, 1, pr.Number, "the other process's pull request is reused")
	assert.Len(t, mem.prs, 1)
	assert.Contains(t, pr.Body, "Railyard-Freight: "+testProvenance.FreightID, "and its body updated")
}

// Propose made WithCreateTarget creates a missing review target as an
// empty orphan, so the first pull request carries the whole render; a
// second Propose finds it and creates nothing.
func TestProposeCreatesMissingTarget(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "main", map[string]string{"README.md": "policy\n"})
	ctx := testContext(t)
	repo := newRepo(t, rem.url, gitops.WithCreateTarget(true))
	prs := &memPRs{}
	change := gitops.Change{Dir: prodDir, Files: render(1), Message: "Promote", Provenance: testProvenance}

	p, err := repo.Propose(ctx, change, "stage/production", prs)
	require.NoError(t, err)
	assert.True(t, p.TargetCreated)
	assert.True(t, p.Opened)
	target := rem.git(t, "rev-parse", "refs/heads/stage/production")
	assert.Equal(t, "4b825dc642cb6eb9a060e54bf8d69288fbee4904", rem.git(t, "rev-parse", target+"^{tree}"), "an empty tree")
	assert.Empty(t, rem.git(t, "rev-list", "--parents", "-n1", target)[len(target):], "an orphan")
	assert.Equal(t, target, rem.git(t, "rev-parse", "refs/heads/"+p.Head+"^"))
	for _, f := range p.Files {
		assert.Equal(t, "added", f.Action, f.Path)
	}

	again, err := repo.Propose(ctx, change, "stage/production", prs)
	require.NoError(t, err)
	assert.False(t, again.TargetCreated)
	assert.Equal(t, target, rem.git(t, "rev-parse", "refs/heads/stage/production"))
	assert.Equal(t, 1, prs.creates)
}
