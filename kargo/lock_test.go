package kargo_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	kargoapi "github.com/akuity/kargo/api/v1alpha1"
	"github.com/akuity/kargo/pkg/promotion"

	"github.com/railyard-gitops/railyard/kargo"
)

// After Register, Kargo's real kustomize-build step waits for the lock
// railyard's renders hold (kustomize's global state does not survive two
// concurrent builds), and runs once it is free.
func TestKustomizeBuildHoldsTheSharedLock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, kargo.Register())
	require.NoError(t, kargo.Register()) // idempotent: wrapped once
	reg, err := promotion.DefaultStepRunnerRegistry.Get("kustomize-build")
	require.NoError(t, err)
	runner := reg.Value(promotion.StepRunnerCapabilities{})

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(
		"configMapGenerator:\n- name: app\n  literals: [a=b]\n"), 0o600))
	stepCtx := &promotion.StepContext{WorkDir: dir, Config: promotion.Config{"path": ".", "outPath": "out.yaml"}}

	type result struct {
		res promotion.StepResult
		err error
	}
	l := kargo.KustomizeLocker()
	l.Lock()
	done := make(chan result, 1)
	go func() {
		res, err := runner.Run(ctx, stepCtx)
		done <- result{res, err}
	}()
	select {
	case <-done:
		l.Unlock()
		t.Fatal("kustomize-build ran while railyard held the kustomize lock")
	case <-time.After(300 * time.Millisecond):
	}
	l.Unlock()
	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, kargoapi.PromotionStepStatusSucceeded, r.res.Status)
	out, err := os.ReadFile(filepath.Join(dir, "out.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(out), "kind: ConfigMap")
}
