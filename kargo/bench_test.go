package kargo_test

import (
	"context"
	"flag"
	"testing"

	"github.com/stretchr/testify/require"

	kargoapi "github.com/akuity/kargo/api/v1alpha1"

	"github.com/railyard-gitops/railyard/railyardtest/demoworld"
)

// benchWorld is the size of the demo world BenchmarkFourStages promotes in
// (the unit tests always use the small one).
var benchWorld = flag.String("world", string(demoworld.Small), "demo world size for BenchmarkFourStages: small, medium or large")

// BenchmarkFourStages promotes the demo world's newest pair to its four
// stages through Kargo's local engine, two ways, each iteration on a fresh
// copy of the world (set up outside the timer):
//
//   - railyard: the railyard-render-branch step (production: a pull
//     request, Running, merged by the demo forge, Succeeded on the next
//     reconcile);
//   - kargo-chain: Kargo's built-in git-clone (blobless, sparse) →
//     git-clone → yaml-parse → git-clear → file-write →
//     kustomize-set-image → kustomize-build → git-commit → git-push
//     (production: push to a generated branch; Kargo's git-open-pr needs a
//     forge API, which the demo world does not serve).
//
// Reported: time per four-stage promotion, git requests and response bytes
// the git server counted.
//
//	kargo/hack/kargo-go test -run '^$' -bench FourStages -benchtime 3x . -world medium
func BenchmarkFourStages(b *testing.B) {
	for _, way := range []string{"railyard", "kargo-chain"} {
		b.Run(way, func(b *testing.B) {
			ctx := context.Background()
			var requests, bytes int64
			for range b.N {
				b.StopTimer()
				e := newEnvIn(b, demoworld.StartSize(b, demoworld.Size(*benchWorld)))
				f := e.newFreight(e.world.Newest().ID)
				var spec *kargoapi.PromotionTemplateSpec
				if way == "kargo-chain" {
					spec = chainTemplate(b, e.world)
				}
				r0, b0 := e.world.GitRequests(), e.world.GitBytesServed()
				b.StartTimer()
				for _, d := range e.world.Deployments {
					promo := e.newPromotion(d, f, spec)
					res, err := e.reconcile(ctx, promo, f)
					require.NoError(b, err, d)
					if res.Status == kargoapi.PromotionPhaseRunning && way == "railyard" {
						// The reviewer merges; Kargo reconciles again.
						_, err := e.world.Forge().Merge(ctx, 1)
						require.NoError(b, err)
						res, err = e.reconcile(ctx, promo, f)
						require.NoError(b, err)
					}
					require.Equal(b, kargoapi.PromotionPhaseSucceeded, res.Status, "%s: %s", d, res.Message)
				}
				b.StopTimer()
				requests += e.world.GitRequests() - r0
				bytes += e.world.GitBytesServed() - b0
			}
			b.ReportMetric(float64(requests)/float64(b.N), "git-requests/op")
			b.ReportMetric(float64(bytes)/float64(b.N), "git-bytes/op")
		})
	}
}
