package render

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// peerOutcome is how one krusty case compares.
type peerOutcome string

const (
	peerIdentical peerOutcome = "identical" // both build, byte for byte the same
	// both build, the same but for origin and transformer annotations,
	// whose paths start at the wrapper; byte for byte what kustomize
	// builds from the assembled tree (Result.Wrapper next to the mount).
	peerIdenticalWrapped peerOutcome = "identical, annotation paths from the wrapper"
	peerBothFail         peerOutcome = "both refuse"    // kustomize fails, and so does render
	peerDiffers          peerOutcome = "output differs" // both build, different bytes
	peerRenderOnly       peerOutcome = "render refuses" // kustomize builds, render refuses
	peerKrustyOnly       peerOutcome = "render builds"  // kustomize fails, render builds
)

// intendedPeerDifferences lists the krusty cases where render and
// kustomize differ on purpose, with the reason. Every other case must be
// identical or fail in both. A case that starts to agree must leave the
// list: the test fails on stale entries too.
var intendedPeerDifferences = map[string]string{
	"TestAddManagedbyLabel#2": "buildMetadata managedByLabel is refused: its value is the version of the " +
		"program kustomize runs in, not of kustomize, so no CLI would print the same",
	"TestNameReferenceDeploymentIssue3489": "a resource ../ov1 in the tree's root directory: kustomize resolves " +
		"it against the root of its in-memory file system; in a mount it leaves the mount (ErrEscape)",
}

// TestPeerKrusty runs kustomize's own krusty test cases (read from the
// kustomize api module this package builds with, see krustycases_test.go)
// through Build, with the case's tree mounted at "t" and a wrapper at "w"
// whose only resource is the directory the case builds, and compares with
// kustomize (krusty.Run, in process, with Build's options: plugins off,
// load restrictor root-only, legacy order) on the same tree.
func TestPeerKrusty(t *testing.T) {
	dir, version := krustyModuleDir(t)
	cases, skipped, tests, err := extractKrustyCases(dir + "/krusty")
	require.NoError(t, err)
	require.Greater(t, len(cases), 250, "cases extracted from %s", dir)

	counts := map[peerOutcome]int{}
	var unexpected []string
	seen := map[string]bool{}
	for _, c := range cases {
		outcome, detail := runPeerCase(t, c)
		counts[outcome]++
		reason, intended := intendedPeerDifferences[c.Name]
		seen[c.Name] = intended
		switch {
		case outcome == peerIdentical || outcome == peerIdenticalWrapped || outcome == peerBothFail:
			if intended {
				unexpected = append(unexpected, fmt.Sprintf("%s: listed as intended (%s) but %s", c.Name, reason, outcome))
			}
		case !intended:
			unexpected = append(unexpected, fmt.Sprintf("%s: %s\n%s", c.Name, outcome, detail))
		}
	}
	for name := range intendedPeerDifferences {
		if _, ok := seen[name]; !ok {
			unexpected = append(unexpected, name+": listed as intended but not a case")
		}
	}
	t.Logf("kustomize api %s: %d krusty tests, %d builds extracted, %d tests (or parts) not extracted", version, tests, len(cases), len(skipped))
	for _, o := range []peerOutcome{peerIdentical, peerIdenticalWrapped, peerBothFail, peerDiffers, peerRenderOnly, peerKrustyOnly} {
		t.Logf("  %-45s %d", o, counts[o])
	}
	for _, name := range slices.Sorted(maps.Keys(skipped)) {
		t.Logf("  not extracted: %s: %s", name, skipped[name])
	}
	slices.Sort(unexpected)
	for _, u := range unexpected {
		t.Error(u)
	}
}

// runPeerCase builds c with kustomize and with Build and compares.
func runPeerCase(t *testing.T, c krustyCase) (peerOutcome, string) {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	app := fstest.MapFS{}
	for name, content := range c.Files {
		require.NoError(t, mem.WriteFile("/"+name, []byte(content)), name)
		app[name] = &fstest.MapFile{Data: []byte(content)}
	}
	want, kerr := peerKrusty(mem, path.Join("/", c.Dir))

	target := "../t"
	if c.Dir != "." {
		target += "/" + c.Dir
	}
	w := Wrapper{Dir: "w"}
	if isComponentDir(c.Files, c.Dir) {
		w.Components = []string{target}
	} else {
		w.Resources = []string{target}
	}
	r, rerr := Build(context.Background(), []Mount{{At: "t", FS: app}}, w)
	switch {
	case kerr != nil && rerr != nil:
		return peerBothFail, ""
	case kerr != nil:
		return peerKrustyOnly, "kustomize: " + kerr.Error()
	case rerr != nil:
		return peerRenderOnly, "render: " + rerr.Error()
	}
	got := string(r.YAML())

	// Result.Wrapper laid next to the tree reproduces the output exactly,
	// always.
	require.NoError(t, mem.WriteFile("/w/kustomization.yaml", r.Wrapper()))
	for name, content := range c.Files {
		require.NoError(t, mem.WriteFile("/t/"+name, []byte(content)))
	}
	assembled, aerr := peerKrusty(mem, "/w")
	if aerr != nil {
		return peerDiffers, "kustomize on the assembled tree: " + aerr.Error()
	}
	if got != assembled {
		return peerDiffers, "kustomize on the assembled tree: " + firstDifference(assembled, got)
	}
	if got != want {
		// Origin and transformer annotations (buildMetadata) name files
		// relative to the kustomization built: the wrapper, for Build.
		if targetAnnotatesOrigins(c) {
			return peerIdenticalWrapped, ""
		}
		return peerDiffers, firstDifference(want, got)
	}
	return peerIdentical, ""
}

// targetAnnotatesOrigins reports whether the kustomization c builds asks
// for origin or transformer annotations.
func targetAnnotatesOrigins(c krustyCase) bool {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if content, ok := c.Files[path.Join(c.Dir, name)]; ok {
			var k types.Kustomization
			if k.Unmarshal([]byte(content)) != nil {
				return false
			}
			return slices.Contains(k.BuildMetadata, types.OriginAnnotations) ||
				slices.Contains(k.BuildMetadata, types.TransformerAnnotations)
		}
	}
	return false
}

// peerKrusty builds dir of mem as Build configures kustomize, from a
// clean OpenAPI state (kustomize leaves the schema a kustomization sets in
// global state, to the next build), holding Build's lock.
func peerKrusty(mem filesys.FileSystem, dir string) (out string, err error) {
	kustomizeSlot <- struct{}{}
	defer func() { <-kustomizeSlot }()
	resetSchemaIfSet()
	defer resetSchemaIfSet()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		Reorder:          krusty.ReorderOptionUnspecified,
		LoadRestrictions: types.LoadRestrictionsRootOnly,
		PluginConfig:     types.DisabledPluginConfig(),
	})
	rm, err := k.Run(mem, dir)
	if err != nil {
		return "", err
	}
	y, err := rm.AsYaml()
	if err != nil {
		return "", err
	}
	return string(y), nil
}

func isComponentDir(files map[string]string, dir string) bool {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		p := name
		if dir != "." {
			p = dir + "/" + name
		}
		if content, ok := files[p]; ok {
			var k types.Kustomization
			return k.Unmarshal([]byte(content)) == nil && k.Kind == types.ComponentKind
		}
	}
	return false
}

// firstDifference shows where two outputs part.
func firstDifference(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d: kustomize %q, render %q", i+1, w, g)
		}
	}
	return "same lines"
}
