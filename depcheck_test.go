package railyard_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/railyard-gitops/railyard"

// The four packages are independent: none imports another, and the test
// infrastructure under internal/ never reaches a non-test build of them.
func TestImportGraph(t *testing.T) {
	t.Parallel()
	packages := []string{"freight", "sparse", "render", "gitops"}
	forbiddenInternal := []string{
		module + "/internal/testkit",
		module + "/internal/bench",
		"testing",
		"github.com/stretchr/testify",
	}
	for _, p := range packages {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command("go", "list", "-deps", "./"+p+"/...").CombinedOutput()
			require.NoError(t, err, string(out))
			deps := strings.Fields(string(out))
			require.NotEmpty(t, deps)
			for _, d := range deps {
				for _, other := range packages {
					if other == p || strings.HasPrefix(p, other+"/") {
						continue
					}
					full := module + "/" + other
					assert.False(t, d == full || strings.HasPrefix(d, full+"/"),
						"%s must not import %s", p, d)
				}
				for _, f := range forbiddenInternal {
					assert.False(t, d == f || strings.HasPrefix(d, f+"/"),
						"non-test build of %s must not import %s", p, d)
				}
			}
		})
	}
}
