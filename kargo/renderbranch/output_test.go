package renderbranch_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/railyard-gitops/railyard/kargo/renderbranch"
)

// Kargo deep-copies step output with runtime.DeepCopyJSON, which panics on
// an int: Map holds only JSON-like values, and survives a JSON round trip.
func TestMapIsJSONLike(t *testing.T) {
	out := renderbranch.Output{
		Branch: "railyard/stage/production/abc", TargetBranch: "stage/production", Changed: true,
		PolicyCommit: "p", Objects: 9, PR: &renderbranch.PullRequest{ID: 7, URL: "https://x/pull/7", Open: true},
	}
	m := out.Map()
	assert.NotPanics(t, func() { runtime.DeepCopyJSON(m) })
	assert.Equal(t, int64(9), m["objects"])
	assert.Equal(t, map[string]any{"id": int64(7), "url": "https://x/pull/7", "open": true, "merged": false}, m["pr"])
	assert.True(t, out.Waiting())
	b, err := json.Marshal(m)
	require.NoError(t, err)
	assert.JSONEq(t, `{"branch":"railyard/stage/production/abc","targetBranch":"stage/production","commit":"",
		"changed":true,"objects":9,"policyCommit":"p","pr":{"id":7,"url":"https://x/pull/7","open":true,"merged":false}}`, string(b))

	plain := renderbranch.Output{Branch: "stage/test", TargetBranch: "stage/test", Commit: "c"}.Map()
	assert.NotContains(t, plain, "pr")
	assert.NotContains(t, plain, "policyCommit")
	assert.NotPanics(t, func() { runtime.DeepCopyJSON(plain) })
}
