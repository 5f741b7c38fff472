package render

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// primaryKustomize is the kustomize api version go.mod requires.
const primaryKustomize = "v0.21.2"

// corpusTrees returns the names of the trees of testdata/corpus.
func corpusTrees(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("testdata/corpus")
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	require.GreaterOrEqual(t, len(names), 10)
	return names
}

// buildCorpus builds corpus tree name with Build, as the wrapped target.
func buildCorpus(t *testing.T, name string) *Result {
	t.Helper()
	r, err := Build(context.Background(), []Mount{{At: "t", FS: os.DirFS(filepath.Join("testdata/corpus", name))}},
		Wrapper{Dir: "w", Resources: []string{"../t"}})
	require.NoError(t, err)
	return r
}

// TestCorpus: every tree of testdata/corpus builds, byte for byte what
// kustomize builds from the disk, and what the golden file holds (the
// kustomize CLI's output, see TestOracleCorpus).
func TestCorpus(t *testing.T) {
	t.Parallel()
	for _, name := range corpusTrees(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := string(buildCorpus(t, name).YAML())
			dir, err := filepath.Abs(filepath.Join("testdata/corpus", name))
			require.NoError(t, err)
			want, err := peerKrusty(filesys.MakeFsOnDisk(), dir)
			require.NoError(t, err)
			assert.Equal(t, want, got, "kustomize on the disk")
			// kustomize api versions print some trees differently (see
			// testdata/corpus/README.md): for another version than the
			// one go.mod requires, a tree it prints differently has a
			// golden file of its own, under testdata/golden/<version>/.
			// A version prints the primary's golden file, or has its own.
			file := "corpus-" + name + ".yaml"
			if _, version := krustyModuleDir(t); version != primaryKustomize {
				primary, err := os.ReadFile(filepath.Join("testdata/golden", file))
				require.NoError(t, err)
				if string(primary) != got {
					file = version + "/" + file
				}
			}
			golden(t, file, []byte(got))
		})
	}
}
