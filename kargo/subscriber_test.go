package kargo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kargoapi "github.com/akuity/kargo/api/v1alpha1"
	"github.com/akuity/kargo/pkg/api"
	"github.com/akuity/kargo/pkg/credentials"
	credsdb "github.com/akuity/kargo/pkg/credentials/kubernetes"
	"github.com/akuity/kargo/pkg/subscription"

	"github.com/railyard-gitops/railyard/kargo"
)

// The railyard-pairs subscriber, from the Warehouse YAML to a promotion:
// Kargo's own Warehouse decoding finds the generic subscription, Kargo's
// registry finds the subscriber for it (and Kargo's git subscriber for a
// git subscription), discovery pairs over the whole window with git
// credentials from Kargo's database, Freight is built from the first
// artifact as Kargo's Warehouse controller builds it, and a Promotion reads
// the pair with artifactFrom().
func TestPairSubscriber(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEnv(t)
	e.world.RequireGitAuth(gitUser, gitPassword) // only Kargo's credentials open the monorepo

	b, err := os.ReadFile("testdata/warehouse-pairs.yaml")
	require.NoError(t, err)
	var wh kargoapi.Warehouse
	require.NoError(t, yaml.Unmarshal(b, &wh))
	require.Len(t, wh.Spec.InternalSubscriptions, 1)
	sub := wh.Spec.InternalSubscriptions[0]
	require.NotNil(t, sub.Subscription)
	assert.Equal(t, kargo.SubscriptionType, sub.Subscription.SubscriptionType)

	// Registered in Kargo's default registry, it serves its subscriptions
	// and leaves git subscriptions to Kargo.
	require.NoError(t, kargo.RegisterSubscriber())
	gitSub := kargoapi.RepoSubscription{Git: &kargoapi.GitSubscription{RepoURL: "https://github.com/o/r.git"}}
	gitReg, err := subscription.DefaultSubscriberRegistry.Get(ctx, gitSub)
	require.NoError(t, err)
	gitSubscriber, err := gitReg.Value(ctx, nil)
	require.NoError(t, err)
	assert.NotContains(t, fmtType(gitSubscriber), "pairSubscriber")
	ourReg, err := subscription.DefaultSubscriberRegistry.Get(ctx, sub)
	require.NoError(t, err)
	ours, err := ourReg.Value(ctx, nil) // as Kargo's Warehouse webhook calls it
	require.NoError(t, err)
	assert.Contains(t, fmtType(ours), "pairSubscriber")
	assert.Empty(t, ours.ValidateSubscription(ctx, field.NewPath("spec", "subscriptions").Index(0), sub))
	bad := sub
	bad.Subscription = sub.Subscription.DeepCopy()
	bad.Subscription.Config = &apiextensionsv1.JSON{Raw: []byte(`{"repoURL":"https://u:p@github.com/o/r.git","imageRepoURL":"ghcr.io/o/a:latest"}`)}
	errs := ours.ValidateSubscription(ctx, field.NewPath("spec"), bad)
	assert.Len(t, errs, 2)
	assert.NotContains(t, errs.ToAggregate().Error(), "u:p")

	// Discovery, in a registry of the test's own (the default registry's
	// subscriber has no route to the demo world).
	reg := subscription.MustNewSubscriberRegistry()
	require.NoError(t, kargo.RegisterSubscriberIn(reg, kargo.WithDiscoveryHTTPClient(e.world.Client())))
	r, err := reg.Get(ctx, sub)
	require.NoError(t, err)
	db := credsdb.NewDatabase(e.client, nil, credentials.DefaultProviderRegistry, credsdb.DatabaseConfig{})
	s, err := r.Value(ctx, db)
	require.NoError(t, err)
	require.NoError(t, s.ApplySubscriptionDefaults(ctx, &sub))
	got, err := s.DiscoverArtifacts(ctx, project, sub, nil)
	require.NoError(t, err)
	res, ok := got.(kargoapi.DiscoveryResult)
	require.True(t, ok, "%T", got)
	assert.Equal(t, "app", res.SubscriptionName)

	var want []string // the newest 20 commits' pairs, newest first
	for _, c := range e.world.Commits[:20] {
		if c.HasImage {
			want = append(want, c.ID)
		}
	}
	require.False(t, e.world.Commits[0].HasImage, "the demo's newest build lags")
	var gotCommits []string
	for _, ref := range res.ArtifactReferences {
		var m struct {
			Commit struct{ ID string }
			Image  struct{ RepoURL, Tag, Digest string }
		}
		require.NoError(t, json.Unmarshal(ref.Metadata.Raw, &m))
		gotCommits = append(gotCommits, m.Commit.ID)
		tag, digest := e.world.Image(m.Commit.ID)
		assert.Equal(t, tag, m.Image.Tag)
		assert.Equal(t, digest, m.Image.Digest)
		assert.Equal(t, tag+"@"+digest, ref.Version)
		assert.Equal(t, kargo.ArtifactType, ref.ArtifactType)
	}
	assert.Equal(t, want, gotCommits)
	assert.Equal(t, e.world.Newest().ID, gotCommits[0], "Freight for the newest commit that has an image")

	// Kargo's Warehouse controller makes Freight of the first artifact
	// (buildFreightFromLatestArtifacts); the Warehouse holds only the
	// pairs subscription, as Kargo's Freight webhook requires.
	f := &kargoapi.Freight{
		ObjectMeta: wh.ObjectMeta,
		Origin:     kargoapi.FreightOrigin{Kind: kargoapi.FreightOriginKindWarehouse, Name: wh.Name},
		Artifacts:  []kargoapi.ArtifactReference{res.ArtifactReferences[0]},
	}
	f.Name = api.GenerateFreightID(f)
	require.NoError(t, e.client.Create(ctx, f))
	stored := &kargoapi.Warehouse{}
	require.NoError(t, e.client.Get(ctx, client.ObjectKey{Namespace: project, Name: warehouse}, stored))
	stored.Spec.InternalSubscriptions = wh.Spec.InternalSubscriptions
	require.NoError(t, e.client.Update(ctx, stored))

	promo := e.newPromotion("staging", f, loadTemplateFile(t, "testdata/pairs-promotion-template.yaml"))
	pres, err := e.reconcile(ctx, promo, f)
	require.NoError(t, err)
	require.Equal(t, kargoapi.PromotionPhaseSucceeded, pres.Status, pres.Message)
	checkStage(t, e, "staging", f.Name, gotCommits[0])
}

func fmtType(v any) string { return fmt.Sprintf("%T", v) }
