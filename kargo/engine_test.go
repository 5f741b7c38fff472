package kargo_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"

	kargoapi "github.com/akuity/kargo/api/v1alpha1"
	"github.com/akuity/kargo/pkg/logging"
	"github.com/akuity/kargo/pkg/promotion"

	"github.com/railyard-gitops/railyard/railyardtest/demoworld"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := demoworld.Git(dir, args...)
	require.NoError(t, err)
	return out
}

// checkStage checks, with the git CLI, that a stage branch holds the
// render of commit's image in the deployment's namespace, with provenance.
func checkStage(t *testing.T, e *env, deployment, freightID, commit string) {
	t.Helper()
	tag, digest := e.world.Image(commit)
	branch := "stage/" + deployment
	dir := "apps/codeai/deployments/" + deployment + "/deploy/"
	images := git(t, e.world.GitOpsDir, "grep", "-h", "image:", branch, "--", dir)
	assert.Contains(t, images, demoworld.ImageRepo+":"+tag+"@"+digest, deployment)
	ns := git(t, e.world.GitOpsDir, "grep", "-h", "namespace:", branch, "--", dir)
	assert.Contains(t, ns, "namespace: codeai-"+deployment, deployment)
	prov := git(t, e.world.GitOpsDir, "show", branch+":"+dir+"PROVENANCE")
	assert.Contains(t, prov, freightID, deployment)
	assert.Contains(t, prov, commit, deployment)
}

// The four stages of the demo world through Kargo's engine: three commit
// to their stage branch in one reconcile; production opens a pull request,
// stays Running across reconciles (asking the forge, not rendering again),
// and succeeds with the merge commit once a reviewer merges. Promoting the
// same Freight again changes nothing.
func TestPromoteFourStages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEnv(t)
	commit := e.world.Newest().ID
	f := e.newFreight(commit)

	for _, d := range []string{"staging", "test", "levelbuilder"} {
		promo := e.newPromotion(d, f, nil)
		res, err := e.reconcile(ctx, promo, f)
		require.NoError(t, err, d)
		require.Equal(t, kargoapi.PromotionPhaseSucceeded, res.Status, "%s: %s", d, res.Message)
		out := output(promo, "render")
		assert.Equal(t, "stage/"+d, out["branch"], d)
		assert.Equal(t, "stage/"+d, out["targetBranch"], d)
		assert.Equal(t, true, out["changed"], d)
		assert.Regexp(t, `^[0-9a-f]{40}$`, out["commit"], d)
		assert.Equal(t, git(t, e.world.GitOpsDir, "rev-parse", "stage/"+d), out["commit"], d)
		assert.Equal(t, e.world.PolicyCommit, out["policyCommit"], d)
		assert.Equal(t, float64(7), out["objects"], d) // JSON numbers after the status round trip
		// The next step read the output.
		assert.Equal(t, out["commit"], output(promo, "promoted")["commit"], d)
		checkStage(t, e, d, f.Name, commit)
	}

	// Production: a pull request, reconciled until merged.
	promo := e.newPromotion("production", f, nil)
	res, err := e.reconcile(ctx, promo, f)
	require.NoError(t, err)
	require.Equal(t, kargoapi.PromotionPhaseRunning, res.Status, res.Message)
	require.NotNil(t, res.RetryAfter)
	assert.Equal(t, 30*time.Second, *res.RetryAfter)
	assert.Equal(t, kargoapi.PromotionStepStatusRunning, stepMeta(promo, "render").Status)
	out := output(promo, "render")
	pr, _ := out["pr"].(map[string]any)
	require.NotNil(t, pr, "output %v", out)
	assert.Equal(t, float64(1), pr["id"])
	assert.Equal(t, true, pr["open"])
	assert.Equal(t, false, pr["merged"])
	assert.Equal(t, "https://github.com/code-dot-org/k8s-gitops/pull/1", pr["url"])
	assert.Equal(t, "", out["commit"])
	assert.Equal(t, "stage/production", out["targetBranch"])
	assert.Equal(t, "railyard/stage/production/"+f.Name, out["branch"])
	// The forge was built with the GitOps repository's password from
	// Kargo's credentials database.
	assert.Equal(t, []string{gitPassword}, e.forge.Tokens())

	// A reconcile while the pull request is open only asks the forge.
	before := e.world.GitRequests()
	res, err = e.reconcile(ctx, promo, f)
	require.NoError(t, err)
	require.Equal(t, kargoapi.PromotionPhaseRunning, res.Status, res.Message)
	assert.Equal(t, before, e.world.GitRequests(), "no git traffic while waiting")
	assert.Equal(t, true, output(promo, "render")["pr"].(map[string]any)["open"])

	mergeCommit, err := e.world.Forge().Merge(ctx, 1)
	require.NoError(t, err)
	res, err = e.reconcile(ctx, promo, f)
	require.NoError(t, err)
	require.Equal(t, kargoapi.PromotionPhaseSucceeded, res.Status, res.Message)
	out = output(promo, "render")
	assert.Equal(t, mergeCommit, out["commit"])
	assert.Equal(t, true, out["pr"].(map[string]any)["merged"])
	assert.Equal(t, false, out["pr"].(map[string]any)["open"])
	assert.Equal(t, mergeCommit, output(promo, "promoted")["commit"])
	checkStage(t, e, "production", f.Name, commit)
	// Kargo persists and deep-copies outputs as JSON: no int may hide in
	// them (runtime.DeepCopyJSON panics on one).
	assert.NotPanics(t, func() { runtime.DeepCopyJSON(res.State) })

	// Again: nothing changes, nothing to review.
	for _, d := range e.world.Deployments {
		before := git(t, e.world.GitOpsDir, "rev-parse", "stage/"+d)
		promo := e.newPromotion(d, f, nil)
		res, err := e.reconcile(ctx, promo, f)
		require.NoError(t, err, d)
		require.Equal(t, kargoapi.PromotionPhaseSucceeded, res.Status, "%s: %s", d, res.Message)
		out := output(promo, "render")
		assert.Equal(t, false, out["changed"], d)
		assert.Nil(t, out["pr"], d)
		assert.Equal(t, before, out["commit"], d)
		assert.Equal(t, before, git(t, e.world.GitOpsDir, "rev-parse", "stage/"+d), d)
	}
}

// A transient failure (the GitOps repository's server answering 503 for
// longer than railyard's own retries) is returned to Kargo as a plain error:
// the step is Errored with one error counted and retried at the next
// reconcile, which succeeds.
func TestTransientFaultIsRetried(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEnv(t)
	f := e.newFreight(e.world.Newest().ID)
	var failing atomic.Bool
	failing.Store(true)
	e.world.SetGitFault(func(r demoworld.GitRequest) *demoworld.Fault {
		if failing.Load() && r.Repo == "gitops.git" {
			return &demoworld.Fault{Status: http.StatusServiceUnavailable}
		}
		return nil
	})

	promo := e.newPromotion("test", f, nil)
	res, err := e.reconcile(ctx, promo, f)
	require.Error(t, err)
	assert.False(t, promotion.IsTerminal(err), "%v", err)
	assert.Equal(t, kargoapi.PromotionPhaseRunning, res.Status)
	meta := stepMeta(promo, "render")
	assert.Equal(t, kargoapi.PromotionStepStatusErrored, meta.Status)
	assert.Equal(t, uint32(1), meta.ErrorCount)
	assert.Contains(t, meta.Message, "step will be retried")
	assert.Nil(t, meta.FinishedAt)

	failing.Store(false)
	res, err = e.reconcile(ctx, promo, f)
	require.NoError(t, err)
	require.Equal(t, kargoapi.PromotionPhaseSucceeded, res.Status, res.Message)
	assert.Equal(t, true, output(promo, "render")["changed"])
	checkStage(t, e, "test", f.Name, f.Commits[0].ID)
}

// Errors retrying cannot fix end the step at once, as a TerminalError: no
// error count, no second attempt.
func TestTerminalErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEnv(t)
	commit := e.world.Newest().ID
	f := e.newFreight(commit)

	t.Run("refused credentials", func(t *testing.T) {
		// The server wants another password than the one Kargo's
		// credentials database holds.
		e.world.RequireGitAuth(gitUser, "rotated-elsewhere")
		defer e.world.RequireGitAuth("", "")
		var logs bytes.Buffer
		logger := logging.Wrap(zap.New(zapcore.NewCore(
			zapcore.NewJSONEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.AddSync(&logs), zapcore.DebugLevel)))
		before, refused := e.world.GitRequests(), e.world.Refused()
		promo := e.newPromotion("staging", f, nil)
		res, err := e.reconcile(logging.ContextWithLogger(ctx, logger), promo, f)
		require.NoError(t, err)
		assert.Equal(t, kargoapi.PromotionPhaseErrored, res.Status)
		meta := stepMeta(promo, "render")
		assert.Equal(t, kargoapi.PromotionStepStatusErrored, meta.Status)
		assert.Contains(t, meta.Message, "an unrecoverable error occurred")
		assert.Contains(t, meta.Message, "unauthorized") // sparse.ErrUnauthorized
		assert.Contains(t, meta.Message, "HTTP 401")
		assert.Equal(t, uint32(0), meta.ErrorCount)
		assert.NotNil(t, meta.FinishedAt)
		assert.Equal(t, refused+1, e.world.Refused(), "one refused request, no retries")
		assert.Equal(t, before, e.world.GitRequests())
		assert.NotContains(t, meta.Message, gitPassword)
		assert.NotContains(t, logs.String(), gitPassword)
		assert.NotContains(t, res.Message, gitPassword)
	})

	t.Run("invalid config", func(t *testing.T) {
		spec := loadTemplate(t)
		// An image tag that is not the commit's: pairing violated.
		other := e.world.Commits[len(e.world.Commits)-1].ID
		spec.Steps[0].Config.Raw = bytes.Replace(spec.Steps[0].Config.Raw,
			[]byte(`"${{ imageFrom(vars.imageRepo).Tag }}"`), []byte(`"git-`+other+`"`), 1)
		before := e.world.GitRequests()
		promo := e.newPromotion("staging", f, spec)
		res, err := e.reconcile(ctx, promo, f)
		require.NoError(t, err)
		assert.Equal(t, kargoapi.PromotionPhaseFailed, res.Status)
		meta := stepMeta(promo, "render")
		assert.Equal(t, kargoapi.PromotionStepStatusFailed, meta.Status)
		assert.Contains(t, meta.Message, "image.tag must be git-<commit>")
		assert.Equal(t, before, e.world.GitRequests(), "refused before any I/O")
	})

	t.Run("pull request closed", func(t *testing.T) {
		promo := e.newPromotion("production", f, nil)
		res, err := e.reconcile(ctx, promo, f)
		require.NoError(t, err)
		require.Equal(t, kargoapi.PromotionPhaseRunning, res.Status, res.Message)
		number := int(output(promo, "render")["pr"].(map[string]any)["id"].(float64))
		require.NoError(t, e.world.Forge().Close(ctx, number))
		res, err = e.reconcile(ctx, promo, f)
		require.NoError(t, err)
		assert.Equal(t, kargoapi.PromotionPhaseFailed, res.Status)
		meta := stepMeta(promo, "render")
		assert.Equal(t, kargoapi.PromotionStepStatusFailed, meta.Status)
		assert.Contains(t, meta.Message, "closed without merge")
	})
}

// Two Promotions of different Freight to one Stage at once: both succeed,
// the stage branch keeps both commits in a linear history (the push lease,
// never a force push), and its tip holds one whole render.
func TestRacingPromotionsOnOneStage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEnv(t)
	var commits []string
	for _, c := range e.world.Commits {
		if c.HasImage && len(commits) < 2 {
			commits = append(commits, c.ID)
		}
	}
	require.Len(t, commits, 2)
	fs := []*kargoapi.Freight{e.newFreight(commits[0]), e.newFreight(commits[1])}
	promos := []*kargoapi.Promotion{e.newPromotion("test", fs[0], nil), e.newPromotion("test", fs[1], nil)}
	results := make([]promotion.Result, 2)
	errs := make([]error, 2)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range promos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			results[i], errs[i] = e.reconcile(ctx, promos[i], fs[i])
		}()
	}
	start.Done()
	wg.Wait()
	tip := git(t, e.world.GitOpsDir, "rev-parse", "stage/test")
	for i := range promos {
		require.NoError(t, errs[i])
		require.Equal(t, kargoapi.PromotionPhaseSucceeded, results[i].Status, results[i].Message)
		c := output(promos[i], "render")["commit"].(string)
		_, err := demoworld.Git(e.world.GitOpsDir, "merge-base", "--is-ancestor", c, tip)
		assert.NoError(t, err, "promotion %d's commit %s was lost", i, c)
	}
	log := git(t, e.world.GitOpsDir, "log", "--format=%H %P", "stage/test")
	for _, line := range strings.Split(log, "\n") {
		assert.LessOrEqual(t, len(strings.Fields(line)), 2, "linear history: %s", line)
	}
	last := git(t, e.world.GitOpsDir, "show", "stage/test:apps/codeai/deployments/test/deploy/PROVENANCE")
	assert.True(t, strings.Contains(last, commits[0]) != strings.Contains(last, commits[1]), "the tip holds one whole render")
}
