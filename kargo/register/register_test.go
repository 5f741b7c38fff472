package register_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	kargoapi "github.com/akuity/kargo/api/v1alpha1"
	"github.com/akuity/kargo/pkg/promotion"
	"github.com/akuity/kargo/pkg/subscription"

	"github.com/railyard-gitops/railyard/kargo"
	_ "github.com/railyard-gitops/railyard/kargo/register"
)

// Importing the package is enough: the step and the subscriber are in
// Kargo's default registries, with the step's capabilities declared.
func TestRegistered(t *testing.T) {
	reg, err := promotion.DefaultStepRunnerRegistry.Get(kargo.StepKind)
	require.NoError(t, err)
	assert.ElementsMatch(t, []promotion.StepRunnerCapability{
		promotion.StepCapabilityAccessCredentials, promotion.StepCapabilityAccessGitUser,
	}, reg.Metadata.RequiredCapabilities)
	assert.Equal(t, uint32(kargo.DefaultErrorThreshold), reg.Metadata.DefaultErrorThreshold)
	assert.NotNil(t, reg.Value(promotion.StepRunnerCapabilities{}))

	sub := kargoapi.RepoSubscription{Subscription: &kargoapi.Subscription{
		SubscriptionType: kargo.SubscriptionType, Name: "app",
	}}
	_, err = subscription.DefaultSubscriberRegistry.Get(context.Background(), sub)
	require.NoError(t, err)
}
