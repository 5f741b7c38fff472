package kargo_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	kargoapi "github.com/akuity/kargo/api/v1alpha1"
	"github.com/akuity/kargo/pkg/api"
	kargogit "github.com/akuity/kargo/pkg/controller/git"
	"github.com/akuity/kargo/pkg/credentials"
	_ "github.com/akuity/kargo/pkg/credentials/basic" // the basic (username/password) provider, as Kargo's controller links it
	credsdb "github.com/akuity/kargo/pkg/credentials/kubernetes"
	"github.com/akuity/kargo/pkg/promotion"
	_ "github.com/akuity/kargo/pkg/promotion/runner/builtin" // Kargo's built-in steps

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/kargo"
	"github.com/railyard-gitops/railyard/kargo/renderbranch"
	"github.com/railyard-gitops/railyard/railyardtest/demoworld"
)

const (
	project   = "codeai"
	warehouse = "codeai"
	// The git credentials Kargo's credentials database holds for both
	// repositories (a Secret in the project's namespace).
	gitUser     = "kargo-bot"
	gitPassword = "s3cret-token-4711"
)

// env is one Kargo "cluster" over the demo world: a fake controller-runtime
// client holding the Warehouse, the Stages, the Freight and the credentials
// Secret (the one fake: Kubernetes cannot run here), Kargo's real
// credentials database over it, and Kargo's real local promotion engine
// with railyard's step registered in Kargo's default registry.
type env struct {
	t      testing.TB
	world  *demoworld.World
	client client.Client
	engine *promotion.LocalEngine
	forge  *recordingForge
}

// recordingForge is the demo world's forge, remembering the token the step
// built it with (the GitOps repository's password from Kargo's database).
type recordingForge struct {
	*demoworld.Forge
	mu     sync.Mutex
	tokens []string
}

func (f *recordingForge) Tokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tokens...)
}

// The step registration is process-wide (Kargo's default registry), so
// tests using env do not run in parallel.
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvIn(t, demoworld.Start(t))
}

// newEnvIn is newEnv over the world w.
func newEnvIn(t testing.TB, w *demoworld.World) *env {
	t.Helper()
	scheme := runtime.NewScheme()
	require.NoError(t, kargoapi.AddToScheme(scheme))
	require.NoError(t, corev1.AddToScheme(scheme))

	objs := []client.Object{
		&kargoapi.Warehouse{
			ObjectMeta: metav1.ObjectMeta{Name: warehouse, Namespace: project},
			Spec: kargoapi.WarehouseSpec{InternalSubscriptions: []kargoapi.RepoSubscription{
				{Git: &kargoapi.GitSubscription{RepoURL: demoworld.MonorepoURL, Branch: demoworld.Branch}},
				{Image: &kargoapi.ImageSubscription{RepoURL: demoworld.ImageRepo}},
			}},
		},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: "github-code-dot-org", Namespace: project,
				Labels: map[string]string{kargoapi.LabelKeyCredentialType: credentials.TypeGit.String()},
			},
			Data: map[string][]byte{
				credentials.FieldRepoURL:        []byte(`^https://github\.com/code-dot-org/`),
				credentials.FieldRepoURLIsRegex: []byte("true"),
				credentials.FieldUsername:       []byte(gitUser),
				credentials.FieldPassword:       []byte(gitPassword),
			},
		},
	}
	for _, d := range w.Deployments {
		objs = append(objs, &kargoapi.Stage{
			ObjectMeta: metav1.ObjectMeta{Name: d, Namespace: project},
			Spec: kargoapi.StageSpec{RequestedFreight: []kargoapi.FreightRequest{{
				Origin:  kargoapi.FreightOrigin{Kind: kargoapi.FreightOriginKindWarehouse, Name: warehouse},
				Sources: kargoapi.FreightSources{Direct: true},
			}}},
		})
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	db := credsdb.NewDatabase(c, nil, credentials.DefaultProviderRegistry, credsdb.DatabaseConfig{})
	users := promotion.NewGitUserResolver(c, "kargo", kargogit.User{Name: "Kargo Test", Email: "kargo@example.com"})

	e := &env{t: t, world: w, client: c, forge: &recordingForge{Forge: w.Forge()}}
	require.NoError(t, kargo.Register(kargo.WithRunnerOptions(
		renderbranch.WithHTTPClient(w.Client()),
		renderbranch.WithPullRequests(func(_ context.Context, cfg renderbranch.Config, creds renderbranch.Credentials) (gitops.PullRequests, error) {
			e.forge.mu.Lock()
			defer e.forge.mu.Unlock()
			e.forge.tokens = append(e.forge.tokens, creds.Password)
			return e.forge, nil
		}),
	)))
	e.engine = promotion.NewLocalEngine(c, nil, db, users, promotion.DefaultExprDataCacheFn)
	return e
}

// newFreight stores the Freight of a commit of the monorepo and its image,
// named as Kargo's Warehouse names it, and returns it.
func (e *env) newFreight(commit string) *kargoapi.Freight {
	e.t.Helper()
	tag, digest := e.world.Image(commit)
	require.NotEmpty(e.t, tag, "commit %s has no image", commit)
	f := &kargoapi.Freight{
		ObjectMeta: metav1.ObjectMeta{Namespace: project},
		Origin:     kargoapi.FreightOrigin{Kind: kargoapi.FreightOriginKindWarehouse, Name: warehouse},
		Commits:    []kargoapi.GitCommit{{RepoURL: demoworld.MonorepoURL, ID: commit, Branch: demoworld.Branch}},
		Images:     []kargoapi.Image{{RepoURL: demoworld.ImageRepo, Tag: tag, Digest: digest}},
	}
	f.Name = api.GenerateFreightID(f)
	// railyard computes the same name (freight.KargoID).
	require.Equal(e.t, f.Name, freight.KargoID(warehouse, freight.Freight{
		Commit: freight.Commit{RepoURL: demoworld.MonorepoURL, ID: commit},
		Images: []freight.Image{{RepoURL: demoworld.ImageRepo, Tag: tag, Digest: digest}},
	}))
	err := e.client.Create(context.Background(), f)
	if err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(e.t, err)
	}
	return f
}

// newPromotion returns a Promotion of f to stage with the given steps
// (nil: testdata/promotion-template.yaml).
func (e *env) newPromotion(stage string, f *kargoapi.Freight, spec *kargoapi.PromotionTemplateSpec) *kargoapi.Promotion {
	e.t.Helper()
	if spec == nil {
		spec = loadTemplate(e.t)
	}
	promo := &kargoapi.Promotion{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%s.%d", stage, f.Name[:7], time.Now().UnixNano()), Namespace: project},
		Spec:       kargoapi.PromotionSpec{Stage: stage, Freight: f.Name, Vars: spec.Vars, Steps: spec.Steps},
	}
	// What Kargo's Promotion webhook does on creation: tasks inflated,
	// every step given an alias (step-<i> when the template has none).
	require.NoError(e.t, api.InflateSteps(context.Background(), e.client, promo))
	return promo
}

func loadTemplate(t testing.TB) *kargoapi.PromotionTemplateSpec {
	t.Helper()
	return loadTemplateFile(t, "testdata/promotion-template.yaml")
}

func loadTemplateFile(t testing.TB, name string) *kargoapi.PromotionTemplateSpec {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	var spec kargoapi.PromotionTemplateSpec
	require.NoError(t, yaml.UnmarshalStrict(b, &spec))
	return &spec
}

// reconcile is one reconciliation of promo by Kargo's Promotion controller:
// what pkg/controller/promotions.(*reconciler).promote does around the
// engine (its reconciler needs a manager and a cluster), then the engine
// itself. promo's status is updated as the controller would patch it, its
// state round-tripping through JSON as it does through the API server.
func (e *env) reconcile(ctx context.Context, promo *kargoapi.Promotion, f *kargoapi.Freight) (promotion.Result, error) {
	e.t.Helper()
	stage := &kargoapi.Stage{}
	require.NoError(e.t, e.client.Get(ctx, client.ObjectKey{Namespace: project, Name: promo.Spec.Stage}, stage))
	ref := kargoapi.FreightReference{Name: f.Name, Commits: f.Commits, Images: f.Images, Artifacts: f.Artifacts, Origin: f.Origin}
	working := promo.DeepCopy()
	working.Status.Freight = &ref
	working.Status.FreightCollection = &kargoapi.FreightCollection{}
	working.Status.FreightCollection.UpdateOrPush(ref)
	promoCtx := promotion.NewContext(working, stage, promotion.WithActor("test"), promotion.WithTargetFreightAlias(f.Alias))
	res, err := e.engine.Promote(ctx, promoCtx, promotion.NewSteps(working))
	promo.Status.Phase = res.Status
	promo.Status.Message = res.Message
	promo.Status.CurrentStep = res.CurrentStep
	promo.Status.StepExecutionMetadata = res.StepExecutionMetadata
	promo.Status.State = &apiextensionsv1.JSON{Raw: res.State.ToJSON()}
	return res, err
}

// output returns the output the promotion's step with alias left in its
// state.
func output(promo *kargoapi.Promotion, alias string) map[string]any {
	out, _ := promo.Status.GetState()[alias].(map[string]any)
	return out
}

// stepMeta returns the execution metadata of the step with alias.
func stepMeta(promo *kargoapi.Promotion, alias string) kargoapi.StepExecutionMetadata {
	for _, m := range promo.Status.StepExecutionMetadata {
		if m.Alias == alias {
			return m
		}
	}
	return kargoapi.StepExecutionMetadata{}
}
