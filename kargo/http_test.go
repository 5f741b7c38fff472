package kargo_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kargoapi "github.com/akuity/kargo/api/v1alpha1"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/kargo/renderbranch"
	"github.com/railyard-gitops/railyard/kargo/stepserver"
)

const stepToken = "step-server-token-0815"

// startStepServer serves the step on loopback as railyard-step-server
// would, with its own credentials for the demo repositories, and stores
// the token Kargo sends in a Secret of the project.
func startStepServer(t *testing.T, e *env) string {
	t.Helper()
	runner, err := renderbranch.New(
		renderbranch.WithHTTPClient(e.world.Client()),
		renderbranch.WithCredentials(func(_ context.Context, repoURL string) (renderbranch.Credentials, error) {
			if strings.HasPrefix(repoURL, "https://github.com/code-dot-org/") {
				return renderbranch.Credentials{Username: gitUser, Password: gitPassword}, nil
			}
			return renderbranch.Credentials{}, nil
		}),
		renderbranch.WithPullRequests(func(context.Context, renderbranch.Config, renderbranch.Credentials) (gitops.PullRequests, error) {
			return e.world.Forge(), nil
		}),
	)
	require.NoError(t, err)
	h, err := stepserver.New(runner, stepserver.WithBearerToken(stepToken))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	require.NoError(t, e.client.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "railyard-step-server", Namespace: project},
		Data:       map[string][]byte{"token": []byte(stepToken)},
	}))
	return srv.URL + "/v1/render-branch"
}

func httpTemplate(t *testing.T, url string) *kargoapi.PromotionTemplateSpec {
	t.Helper()
	spec := loadTemplateFile(t, "testdata/http-promotion-template.yaml")
	for i := range spec.Vars {
		if spec.Vars[i].Name == "stepServer" {
			spec.Vars[i].Value = url
		}
	}
	return spec
}

// Stock Kargo: its real http step runner, in its real engine, calls the
// step server for the four stages. The outputs are the in-process step's,
// production is Running until its pull request is merged, and a 4xx answer
// fails the step for good.
func TestHTTPStep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEnv(t)
	spec := httpTemplate(t, startStepServer(t, e))
	commit := e.world.Newest().ID
	f := e.newFreight(commit)

	for _, d := range []string{"staging", "test", "levelbuilder"} {
		promo := e.newPromotion(d, f, spec)
		res, err := e.reconcile(ctx, promo, f)
		require.NoError(t, err, d)
		require.Equal(t, kargoapi.PromotionPhaseSucceeded, res.Status, "%s: %s", d, res.Message)
		out := output(promo, "render")
		assert.Equal(t, "stage/"+d, out["branch"], d)
		assert.Equal(t, true, out["changed"], d)
		assert.Equal(t, float64(7), out["objects"], d)
		assert.Equal(t, git(t, e.world.GitOpsDir, "rev-parse", "stage/"+d), out["commit"], d)
		assert.Equal(t, e.world.PolicyCommit, out["policyCommit"], d)
		checkStage(t, e, d, f.Name, commit)
	}

	promo := e.newPromotion("production", f, spec)
	for range 2 {
		res, err := e.reconcile(ctx, promo, f)
		require.NoError(t, err)
		require.Equal(t, kargoapi.PromotionPhaseRunning, res.Status, res.Message)
		require.NotNil(t, res.RetryAfter)
		assert.Equal(t, 30*time.Second, *res.RetryAfter)
	}
	mergeCommit, err := e.world.Forge().Merge(ctx, 1)
	require.NoError(t, err)
	res, err := e.reconcile(ctx, promo, f)
	require.NoError(t, err)
	require.Equal(t, kargoapi.PromotionPhaseSucceeded, res.Status, res.Message)
	// The server keeps no state: the call after the merge renders again and
	// finds the stage branch holding the render, at the merge commit.
	out := output(promo, "render")
	assert.Equal(t, mergeCommit, out["commit"])
	assert.Equal(t, "stage/production", out["targetBranch"])
	assert.Equal(t, false, out["changed"])
	assert.Nil(t, out["pr"])
	checkStage(t, e, "production", f.Name, commit)

	// The same keys as the in-process step's output.
	keys := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		return ks
	}
	inProcess := renderbranch.Output{PolicyCommit: "x", PR: &renderbranch.PullRequest{}}.Map()
	assert.ElementsMatch(t, keys(inProcess), keys(out))

	t.Run("refused", func(t *testing.T) {
		// An image tag of another commit: 400 from the server, Failed.
		bad := httpTemplate(t, spec.Vars[len(spec.Vars)-1].Value)
		other := e.world.Commits[len(e.world.Commits)-1].ID
		bad.Steps[0].Config = &apiextensionsv1.JSON{Raw: []byte(strings.Replace(string(bad.Steps[0].Config.Raw),
			`imageFrom(vars.imageRepo).Tag`, `'git-`+other+`'`, 1))}
		promo := e.newPromotion("staging", f, bad)
		res, err := e.reconcile(ctx, promo, f)
		require.NoError(t, err)
		assert.Equal(t, kargoapi.PromotionPhaseFailed, res.Status)
		assert.Contains(t, stepMeta(promo, "render").Message, "image.tag must be git-<commit>")
	})
}
