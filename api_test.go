package railyard_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/apilist"
)

var updateAPI = flag.Bool("update-api", false, "rewrite api.txt from the current source")

// The public API is committed in api.txt. A change to it fails this test
// until api.txt is updated in the same commit (go test . -run TestAPI
// -update-api), so every API change is visible in review and recorded in
// CHANGELOG.md; after v0.1.0, a removed or changed line is a breaking
// change.
func TestAPI(t *testing.T) {
	t.Parallel()
	lines, err := apilist.Module(".", module)
	require.NoError(t, err)
	got := strings.Join(lines, "\n") + "\n"
	if *updateAPI {
		require.NoError(t, os.WriteFile("api.txt", []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile("api.txt")
	require.NoError(t, err, "api.txt is missing: run go test . -run TestAPI -update-api")
	if got != string(want) {
		removed, added := diffLines(string(want), got)
		t.Fatalf("the public API changed; if intended, run `go test . -run TestAPI -update-api` and record it in CHANGELOG.md\nremoved:\n%s\nadded:\n%s",
			strings.Join(removed, "\n"), strings.Join(added, "\n"))
	}
}

func diffLines(old, new string) (removed, added []string) {
	o, n := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(old, "\n") {
		o[l] = true
	}
	for _, l := range strings.Split(new, "\n") {
		n[l] = true
		if !o[l] {
			added = append(added, "+ "+l)
		}
	}
	for _, l := range strings.Split(old, "\n") {
		if !n[l] {
			removed = append(removed, "- "+l)
		}
	}
	return removed, added
}
