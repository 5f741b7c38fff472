package kargo

import (
	"context"
	"fmt"
	"sync"

	"github.com/akuity/kargo/pkg/promotion"
)

// kustomizeMu is the lock railyard's renders and Kargo's kustomize-build
// share once Register has run.
var kustomizeMu sync.Mutex

// KustomizeLocker returns the process-wide lock held around every
// kustomize build of railyard's step and, once [Register] has wrapped it,
// of Kargo's kustomize-build step. Other kustomize users in the process
// should hold it too.
func KustomizeLocker() sync.Locker { return &kustomizeMu }

// kustomizeBuildKind is Kargo's built-in kustomize-build step.
const kustomizeBuildKind = "kustomize-build"

// Register registers the railyard-render-branch step in Kargo's
// promotion.DefaultStepRunnerRegistry, the registry Kargo's local engine
// uses, and wraps the kustomize-build runner registered there (if any) so
// that it holds [KustomizeLocker]. Call it once, from the main package of
// the Kargo build, before the controller starts; registering again
// replaces the earlier registration (Kargo's registry allows overwriting).
func Register(opts ...Option) error {
	return RegisterIn(promotion.DefaultStepRunnerRegistry, opts...)
}

// RegisterIn is [Register] for another registry.
func RegisterIn(reg promotion.StepRunnerRegistry, opts ...Option) error {
	// Fail now, not at the first Promotion, on invalid options.
	if _, err := NewStepRunner(promotion.StepRunnerCapabilities{}, opts...); err != nil {
		return fmt.Errorf("%s: %w", StepKind, err)
	}
	if err := reg.Register(promotion.StepRunnerRegistration{
		Name: StepKind,
		Metadata: promotion.StepRunnerMetadata{
			DefaultErrorThreshold: DefaultErrorThreshold,
			RequiredCapabilities: []promotion.StepRunnerCapability{
				promotion.StepCapabilityAccessCredentials,
				promotion.StepCapabilityAccessGitUser,
			},
		},
		Value: func(caps promotion.StepRunnerCapabilities) promotion.StepRunner {
			r, err := NewStepRunner(caps, opts...)
			if err != nil { // checked above; cannot happen
				panic(err)
			}
			return r
		},
	}); err != nil {
		return fmt.Errorf("register %s: %w", StepKind, err)
	}
	return wrapKustomizeBuild(reg)
}

// wrapKustomizeBuild re-registers Kargo's kustomize-build with a runner
// holding kustomizeMu around each run. It is idempotent.
func wrapKustomizeBuild(reg promotion.StepRunnerRegistry) error {
	orig, err := reg.Get(kustomizeBuildKind)
	if err != nil {
		return nil // not registered: nothing to share the lock with
	}
	if _, done := wrapped.Load(reg); done {
		return nil
	}
	factory := orig.Value
	orig.Value = func(caps promotion.StepRunnerCapabilities) promotion.StepRunner {
		return lockedRunner{next: factory(caps)}
	}
	if err := reg.Register(orig); err != nil {
		return fmt.Errorf("wrap %s: %w", kustomizeBuildKind, err)
	}
	wrapped.Store(reg, true)
	return nil
}

// wrapped remembers the registries whose kustomize-build is wrapped.
var wrapped sync.Map

type lockedRunner struct{ next promotion.StepRunner }

func (l lockedRunner) Run(ctx context.Context, stepCtx *promotion.StepContext) (promotion.StepResult, error) {
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	return l.next.Run(ctx, stepCtx)
}
