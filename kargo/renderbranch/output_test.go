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

// A step's output comes back from the Promotion's status after a JSON
// round trip (numbers as float64); OutputFromMap reads it back.
func TestOutputFromMap(t *testing.T) {
	out := renderbranch.Output{
		Branch: "railyard/stage/production/abc", TargetBranch: "stage/production", Changed: true,
		PolicyCommit: "p", Objects: 9, PR: &renderbranch.PullRequest{ID: 7, URL: "https://x/pull/7", Open: true},
	}
	got, ok := renderbranch.OutputFromMap(out.Map())
	require.True(t, ok)
	assert.Equal(t, out, got)

	b, err := json.Marshal(out.Map())
	require.NoError(t, err)
	var roundTripped map[string]any
	require.NoError(t, json.Unmarshal(b, &roundTripped))
	got, ok = renderbranch.OutputFromMap(roundTripped)
	require.True(t, ok)
	assert.Equal(t, out, got)

	for name, m := range map[string]map[string]any{
		"nil":           nil,
		"branch type":   {"branch": 3},
		"objects float": {"objects": 1.5},
		"pr no id":      {"pr": map[string]any{"url": "u", "open": true, "merged": false}},
		"pr zero id":    {"pr": map[string]any{"id": 0.0, "url": "u", "open": true, "merged": false}},
		"pr not a map":  {"pr": "7"},
	} {
		_, ok := renderbranch.OutputFromMap(m)
		assert.False(t, ok, name)
	}
}
