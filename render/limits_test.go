package render

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/rsstest"
)

// aliasBomb is 100 aliases of one scalar of size bytes, in a ConfigMap.
func aliasBomb(size int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a: &a ")
	b.WriteString(strings.Repeat("x", size))
	b.WriteString("\n")
	for i := range 100 {
		fmt.Fprintf(&b, "  b%d: *a\n", i)
	}
	return b.String()
}

// hostileTrees are small inputs that amplify. Each must be refused with
// ErrLimitExceeded before it costs memory.
func hostileTrees() map[string]fstest.MapFS {
	configMap := func(name string, size int) string {
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata:\n  x: %s\n", name, strings.Repeat("x", size))
	}
	trees := map[string]fstest.MapFS{}

	// 100 aliases of one 4 MiB scalar: 4 MiB in, 404 MiB expanded.
	trees["alias bomb of 4 MiB"] = tree(map[string]string{
		"base/kustomization.yaml": "resources: [bomb.yaml]\n",
		"base/bomb.yaml":          aliasBomb(4 << 20),
	})
	// 8 aliases of one 4 MiB scalar: under the alias ratio, over the
	// output estimate.
	trees["aliases under the ratio"] = tree(map[string]string{
		"base/kustomization.yaml": "resources: [bomb.yaml]\n",
		"base/bomb.yaml":          strings.Join(strings.SplitAfter(aliasBomb(4<<20), "\n")[:13], ""),
	})
	// A billion laughs: a few hundred bytes, 9^9 nodes.
	trees["billion laughs"] = tree(map[string]string{
		"base/kustomization.yaml": "resources: [lol.yaml]\n",
		"base/lol.yaml":           billionLaughs(9),
	})
	// One 256 KiB base included by 100 overlays with their own prefixes.
	fan := map[string]string{"base/kustomization.yaml": "resources: [big.yaml]\n", "base/big.yaml": configMap("big", 256<<10)}
	var overlays []string
	for i := range 100 {
		fan[fmt.Sprintf("o%d/kustomization.yaml", i)] = fmt.Sprintf("namePrefix: p%d-\nresources: [../big]\n", i)
		overlays = append(overlays, fmt.Sprintf("../o%d", i))
	}
	fan["big/kustomization.yaml"] = "resources: [../base]\n"
	fan["all/kustomization.yaml"] = "resources: [" + strings.Join(overlays, ", ") + "]\n"
	trees["base included 100 times"] = tree(fan)
	// A generator listing one 512 KiB file 100 times.
	var files []string
	for i := range 100 {
		files = append(files, fmt.Sprintf("k%d=data.txt", i))
	}
	trees["generator repeating a file"] = tree(map[string]string{
		"base/kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [" + strings.Join(files, ", ") + "]\n",
		"base/data.txt":           strings.Repeat("d", 512<<10),
	})
	// A 64 KiB patch reaching 200 objects.
	var cms []string
	many := map[string]string{"base/patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: any}\ndata:\n  p: " + strings.Repeat("p", 64<<10) + "\n"}
	for i := range 200 {
		name := fmt.Sprintf("cm%d.yaml", i)
		many["base/"+name] = configMap(fmt.Sprintf("c%d", i), 16)
		cms = append(cms, name)
	}
	many["base/kustomization.yaml"] = "resources: [" + strings.Join(cms, ", ") + "]\npatches:\n- path: patch.yaml\n  target: {kind: ConfigMap}\n"
	trees["patch reaching every object"] = tree(many)
	// JSON 6902 copies doubling an object 30 times.
	var ops []string
	for range 30 {
		ops = append(ops, `{"op": "copy", "from": "/data", "path": "/data/x"}`)
	}
	trees["json patch copies"] = tree(map[string]string{
		"base/kustomization.yaml": "resources: [cm.yaml]\npatchesJson6902:\n- path: ops.json\n  target: {version: v1, kind: ConfigMap, name: c}\n",
		"base/cm.yaml":            configMap("c", 1024),
		"base/ops.json":           "[" + strings.Join(ops, ", ") + "]",
	})
	return trees
}

// The target built by each hostile tree.
func hostileTarget(name string) string {
	if name == "base included 100 times" {
		return "../t/all"
	}
	return "../t/base"
}

// Every hostile tree is refused with ErrLimitExceeded, naming a file.
func TestHostileTreesRefused(t *testing.T) {
	t.Parallel()
	for name, fsys := range hostileTrees() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Build(context.Background(), []Mount{{At: "t", FS: fsys}}, Wrapper{Dir: "w", Resources: []string{hostileTarget(name)}})
			assert.ErrorIs(t, err, ErrLimitExceeded)
			var le *LimitError
			assert.ErrorAs(t, err, &le)
			var fe *FileError
			assert.ErrorAs(t, err, &fe)
			t.Log(err)
		})
	}
}

// The same, in a child process whose peak resident memory must stay
// under 128 MiB: the refusal comes before the memory is spent. A 1 MiB
// tree that builds stays under the bound too.
func TestHostileTreesMemory(t *testing.T) {
	for name, fsys := range hostileTrees() {
		t.Run(name, func(t *testing.T) {
			rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
				_, err := Build(context.Background(), []Mount{{At: "t", FS: fsys}}, Wrapper{Dir: "w", Resources: []string{hostileTarget(name)}})
				require.ErrorIs(t, err, ErrLimitExceeded)
			})
		})
	}
	t.Run("1 MiB that builds", func(t *testing.T) {
		files := map[string]string{}
		var res []string
		for i := range 64 {
			name := fmt.Sprintf("cm%d.yaml", i)
			files["base/"+name] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\ndata:\n  x: %s\n", i, strings.Repeat("x", 16<<10))
			res = append(res, name)
		}
		files["base/kustomization.yaml"] = "resources: [" + strings.Join(res, ", ") + "]\ncommonLabels: {app: x}\n"
		fsys := tree(files)
		rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
			r, err := Build(context.Background(), []Mount{{At: "t", FS: fsys}}, Wrapper{Dir: "w", Resources: []string{"../t/base"}})
			require.NoError(t, err)
			require.Len(t, r.Objects(), 64)
		})
	})
}

// WithMaxOutputSize bounds the real output too, and the estimate does
// not refuse what fits.
func TestWithMaxOutputSize(t *testing.T) {
	t.Parallel()
	mounts, w := []Mount{{At: "app", FS: smallApp()}}, smallWrapper()
	r, err := Build(context.Background(), mounts, w)
	require.NoError(t, err)
	size := int64(len(r.YAML()))
	_, err = Build(context.Background(), mounts, w, WithMaxOutputSize(size-1))
	assert.ErrorIs(t, err, ErrOutputTooLarge)
	_, err = Build(context.Background(), mounts, w, WithMaxOutputSize(0))
	assert.ErrorIs(t, err, ErrInvalidOption)
	_, err = Build(context.Background(), mounts, w, WithMaxOutputSize(4*size))
	assert.NoError(t, err, "the estimate stays near the output for an ordinary tree")
}
