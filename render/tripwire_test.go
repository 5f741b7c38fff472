package render

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// hostileRef is a line of testdata/hostile_refs.txt.
type hostileRef struct {
	ref     string
	fetched bool // kustomize fetches it over HTTP where it loads a file
	cloned  bool // kustomize clones it where it loads a directory
}

// hostileRefs reads testdata/hostile_refs.txt, with {{tripwire}} replaced
// by addr.
func hostileRefs(t *testing.T, addr string) []hostileRef {
	t.Helper()
	data, err := os.ReadFile("testdata/hostile_refs.txt")
	require.NoError(t, err)
	var refs []hostileRef
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		flags, quoted, ok := strings.Cut(line, ` "`)
		require.True(t, ok, line)
		ref, err := strconv.Unquote(`"` + quoted)
		require.NoError(t, err, line)
		refs = append(refs, hostileRef{
			ref:     strings.ReplaceAll(ref, "{{tripwire}}", addr),
			fetched: strings.HasPrefix(flags, "F"),
			cloned:  strings.HasSuffix(flags, "D"),
		})
	}
	return refs
}

// tripwire records every attempt to reach the network: requests given to
// http.DefaultTransport (replaced by a recording RoundTripper, whose
// transport sends everything through a recording proxy on 127.0.0.1, the
// only address it dials), dials, requests that reach that proxy, and runs
// of the git program (a script on PATH that leaves a marker).
type tripwire struct {
	mu         sync.Mutex
	roundTrips []string
	dials      []string
	requests   []string
	gitRan     string // marker file
	addr       string // the server's host:port
}

// setTripwire installs a tripwire for the rest of t, which must not be
// parallel: it replaces http.DefaultTransport and PATH.
func setTripwire(t testing.TB) *tripwire {
	tw := &tripwire{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw.mu.Lock()
		tw.requests = append(tw.requests, r.Method+" "+r.Host+r.URL.Path)
		tw.mu.Unlock()
		http.Error(w, "tripwire", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	tw.addr = u.Host
	var proxied *http.Transport
	saved := http.DefaultTransport
	http.DefaultTransport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		tw.mu.Lock()
		tw.roundTrips = append(tw.roundTrips, r.URL.String())
		tw.mu.Unlock()
		return proxied.RoundTrip(r)
	})
	proxied = &http.Transport{
		Proxy: http.ProxyURL(u),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			tw.mu.Lock()
			tw.dials = append(tw.dials, addr)
			tw.mu.Unlock()
			if addr != tw.addr {
				return nil, errors.New("tripwire: only the proxy is dialled")
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(func() { http.DefaultTransport = saved })

	bin := t.TempDir()
	tw.gitRan = filepath.Join(bin, "git-ran")
	require.NoError(t, os.WriteFile(filepath.Join(bin, "git"), []byte("#!/bin/sh\necho \"$@\" >> "+tw.gitRan+"\nexit 1\n"), 0o755))
	t.Setenv("PATH", bin)
	// kustomize makes a directory on the disk for each clone it tries
	// and, building from memory, does not remove it on failure.
	t.Setenv("TMPDIR", t.TempDir())
	return tw
}

// reset forgets what was recorded.
func (tw *tripwire) reset() {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	tw.roundTrips, tw.dials, tw.requests = nil, nil, nil
	os.Remove(tw.gitRan)
}

// tripped returns what was recorded since the last reset.
func (tw *tripwire) tripped() (network, git bool) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	_, err := os.Stat(tw.gitRan)
	return len(tw.roundTrips)+len(tw.dials)+len(tw.requests) > 0, err == nil
}

// A field kustomize loads a reference from: where the reference goes in
// the app (smallApp, base/kustomization.yaml), and how kustomize loads it.
type loadingField struct {
	name  string
	kind  loadKind
	place func(app fstest.MapFS, ref string)
}

// builtinConfig returns a plugin configuration of kind with ref in its
// file-naming field.
func builtinConfig(kind, ref string) string {
	head := "apiVersion: builtin\nkind: " + kind + "\nmetadata: {name: x}\n"
	switch kind {
	case "ConfigMapGenerator/files", "SecretGenerator/files":
		return strings.Replace(head, "/files", "", 1) + "files: [" + jq(ref) + "]\n"
	case "ConfigMapGenerator/envs", "SecretGenerator/envs":
		return strings.Replace(head, "/envs", "", 1) + "envs: [" + jq(ref) + "]\n"
	case "PatchTransformer", "PatchJson6902Transformer":
		return head + "path: " + jq(ref) + "\ntarget: {kind: Deployment}\n"
	case "PatchStrategicMergeTransformer":
		return head + "paths: [" + jq(ref) + "]\n"
	case "ReplacementTransformer":
		return head + "replacements: [{path: " + jq(ref) + "}]\n"
	case "ValueAddTransformer":
		return head + "value: v\ntargetFilePath: " + jq(ref) + "\n"
	}
	panic(kind)
}

// builtinFileFields are the builtin plugin configurations that name files.
var builtinFileFields = []string{
	"ConfigMapGenerator/files", "ConfigMapGenerator/envs", "SecretGenerator/files", "SecretGenerator/envs",
	"PatchTransformer", "PatchJson6902Transformer", "PatchStrategicMergeTransformer",
	"ReplacementTransformer", "ValueAddTransformer",
}

// loadingFields lists every field through which kustomize loads a file or
// a directory: the kustomization's own (kustomizationFields, in walk.go)
// and the file-naming fields of builtin plugin configurations, inline in
// generators, transformers and validators, in a file they list, and in a
// kustomization directory they list.
func loadingFields() []loadingField {
	k := func(body string) func(fstest.MapFS, string) {
		return func(app fstest.MapFS, ref string) {
			setFile(app, "base/kustomization.yaml", "resources: [deploy.yaml]\n"+strings.ReplaceAll(body, "REF", jq(ref)))
		}
	}
	fields := []loadingField{
		{"resources", loadResource, k("resources: [deploy.yaml, REF]\n")},
		{"bases", loadResource, k("bases: [REF]\n")},
		{"components", loadDir, k("components: [REF]\n")},
		{"crds", loadFile, k("crds: [REF]\n")},
		{"configurations", loadFile, k("configurations: [REF]\n")},
		{"openapi.path", loadFile, k("openapi: {path: REF}\n")},
		{"patches[].path", loadFile, k("patches: [{path: REF}]\n")},
		{"patchesStrategicMerge[]", loadFile, k("patchesStrategicMerge: [REF]\n")},
		{"patchesJson6902[].path", loadFile, k("patchesJson6902: [{path: REF, target: {kind: Deployment, name: web}}]\n")},
		{"replacements[].path", loadFile, k("replacements: [{path: REF}]\n")},
		{"configMapGenerator[].files", loadFile, k("configMapGenerator: [{name: c, files: [REF]}]\n")},
		{"configMapGenerator[].envs", loadFile, k("configMapGenerator: [{name: c, envs: [REF]}]\n")},
		{"configMapGenerator[].env", loadFile, k("configMapGenerator: [{name: c, env: REF}]\n")},
		{"secretGenerator[].files", loadFile, k("secretGenerator: [{name: s, files: [REF]}]\n")},
		{"secretGenerator[].envs", loadFile, k("secretGenerator: [{name: s, envs: [REF]}]\n")},
		{"secretGenerator[].env", loadFile, k("secretGenerator: [{name: s, env: REF}]\n")},
		{"generators[]", loadResource, k("generators: [REF]\n")},
		{"transformers[]", loadResource, k("transformers: [REF]\n")},
		{"validators[]", loadResource, k("validators: [REF]\n")},
		// Helm is refused whatever it names.
		{"helmCharts", loadFile, k("helmCharts: [{name: c, repo: REF, valuesFile: REF}]\n")},
		{"helmGlobals", loadFile, k("helmGlobals: {chartHome: REF}\n")},
		{"helmChartInflationGenerator", loadFile, k("helmChartInflationGenerator: [{chartName: c, chartRepoUrl: REF}]\n")},
	}
	for _, list := range []string{"generators", "transformers", "validators"} {
		for _, kind := range builtinFileFields {
			fields = append(fields,
				loadingField{list + "[] inline " + kind, loadFile, func(app fstest.MapFS, ref string) {
					setFile(app, "base/kustomization.yaml", "resources: [deploy.yaml]\n"+list+":\n- |\n"+indent(builtinConfig(kind, ref), "  "))
				}},
				loadingField{list + "[] file " + kind, loadFile, func(app fstest.MapFS, ref string) {
					setFile(app, "base/kustomization.yaml", "resources: [deploy.yaml]\n"+list+": [plugin.yaml]\n")
					setFile(app, "base/plugin.yaml", builtinConfig(kind, ref))
				}},
				loadingField{list + "[] directory " + kind, loadFile, func(app fstest.MapFS, ref string) {
					setFile(app, "base/kustomization.yaml", "resources: [deploy.yaml]\n"+list+": [plugins]\n")
					setFile(app, "base/plugins/kustomization.yaml", "resources: [plugin.yaml]\n")
					setFile(app, "base/plugins/plugin.yaml", builtinConfig(kind, ref))
				}},
			)
		}
	}
	return fields
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix) + "\n"
}

// Every field listed in walk.go's kustomizationFields is in the tripwire
// table, and the other way round.
func TestEveryLoadingFieldIsWalked(t *testing.T) {
	t.Parallel()
	var names []string
	for _, f := range loadingFields() {
		if !strings.Contains(f.name, " ") {
			names = append(names, f.name)
		}
	}
	assert.ElementsMatch(t, kustomizationFields, names)
}

// TestNoNetwork: for every reference spelling of testdata/hostile_refs.txt
// in every field kustomize loads from, Build fails (nothing of that name
// exists), with ErrUnsafeContent wherever kustomize would fetch or clone
// it, and nothing reaches the network or runs git. Before that, plain
// kustomize on the same spellings proves both the tripwire and the flags
// of the table: it does fetch and clone exactly where the table says.
// Not parallel: it replaces http.DefaultTransport and PATH.
func TestNoNetwork(t *testing.T) {
	tw := setTripwire(t)
	refs := hostileRefs(t, tw.addr)
	require.GreaterOrEqual(t, len(refs), 50)

	t.Run("kustomize fetches and clones where the table says", func(t *testing.T) {
		for _, r := range refs {
			for _, probe := range []struct {
				field string
				kust  string
				want  bool // fetched, or cloned
				git   bool
			}{
				{"patches", "resources: []\npatches: [{path: REF}]\n", r.fetched, false},
				{"components", "components: [REF]\n", r.cloned, true},
			} {
				tw.reset()
				mem := filesys.MakeFsInMemory()
				require.NoError(t, mem.WriteFile("/app/kustomization.yaml", []byte(strings.ReplaceAll(probe.kust, "REF", jq(r.ref)))))
				_, err := krusty.MakeKustomizer(&krusty.Options{LoadRestrictions: types.LoadRestrictionsRootOnly,
					PluginConfig: types.DisabledPluginConfig()}).Run(mem, "/app")
				require.Error(t, err, "%q does not exist", r.ref)
				network, git := tw.tripped()
				got := network
				if probe.git {
					got = git
				}
				assert.Equal(t, probe.want, got, "kustomize on %s %q: %v", probe.field, r.ref, err)
			}
		}
	})

	fields := loadingFields()
	require.Len(t, fields, len(kustomizationFields)+9*len(builtinFileFields))
	tw.reset()
	builds := 0
	for _, f := range fields {
		for _, r := range refs {
			app := maps.Clone(smallApp())
			f.place(app, r.ref)
			_, err := Build(context.Background(), []Mount{{At: "app", FS: app}}, smallWrapper())
			builds++
			require.Error(t, err, "%s %q", f.name, r.ref)
			remote := (f.kind != loadDir && r.fetched) || (f.kind != loadFile && r.cloned) || strings.HasPrefix(f.name, "helm")
			if remote {
				assert.ErrorIs(t, err, ErrUnsafeContent, "%s %q", f.name, r.ref)
			}
			assert.NotContains(t, err.Error(), "s3cr3t-token", "credentials in a URL are redacted")
			if network, git := tw.tripped(); network || git {
				t.Fatalf("%s %q reached the network (%v) or ran git (%v): %v", f.name, r.ref, network, git, err)
			}
		}
	}
	t.Logf("%d fields x %d spellings = %d builds, no request, no git", len(fields), len(refs), builds)
}
