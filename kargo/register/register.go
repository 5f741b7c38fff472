// Package register, imported for its side effect, registers railyard's
// Kargo extensions with their defaults in Kargo's default registries: the
// railyard-render-branch step (kargo.Register, which also makes Kargo's
// kustomize-build share railyard's kustomize lock) and the railyard-pairs
// Warehouse subscriber (kargo.RegisterSubscriber).
//
//	import _ "github.com/railyard-gitops/railyard/kargo/register"
//
// in the main package of a Kargo controller build. It imports Kargo's
// built-in steps first, so that their kustomize-build is registered when
// it is wrapped. Builds that need options (an HTTP client, a forge) call
// kargo.Register and kargo.RegisterSubscriber themselves instead.
package register

import (
	_ "github.com/akuity/kargo/pkg/promotion/runner/builtin" // registered before the wrap below

	"github.com/railyard-gitops/railyard/kargo"
)

func init() {
	if err := kargo.Register(); err != nil {
		panic(err)
	}
	if err := kargo.RegisterSubscriber(); err != nil {
		panic(err)
	}
}
