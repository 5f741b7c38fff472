package render

import (
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// FuzzRemoteRules holds isRemoteFile and isGitRepoSpec to kustomize's own
// behaviour: behind the tripwire, kustomize makes an HTTP request for a
// patch path only when isRemoteFile says so, and reads a local file
// only when it does not; it runs git for a component exactly when
// isGitRepoSpec says so.
func FuzzRemoteRules(f *testing.F) {
	for _, seed := range []string{
		"https://example.com/x.yaml", "HTTP://h/org/repo", "https:opaque", "https:/one-slash",
		"git@github.com:org/repo", "user@host:path", "github.com/org/repo", "github.com:org/repo",
		"ssh://h/org/repo", "git::https://h/org/repo", "file:///srv/repo", "file://r",
		"web@v2.yaml", "web:v2.yaml", "https://h/_git/r", "https://h/org/repo//../..", "ftp://h/a/b",
	} {
		f.Add(seed)
	}
	tw := setTripwire(f)
	run := func(kust string) (network, git bool, err error) {
		tw.reset()
		mem := filesys.MakeFsInMemory()
		if err := mem.WriteFile("/app/kustomization.yaml", []byte(kust)); err != nil {
			panic(err)
		}
		_, err = krusty.MakeKustomizer(&krusty.Options{LoadRestrictions: types.LoadRestrictionsRootOnly,
			PluginConfig: types.DisabledPluginConfig()}).Run(mem, "/app")
		network, git = tw.tripped()
		return network, git, err
	}
	f.Fuzz(func(t *testing.T, ref string) {
		if ref == "" || !utf8.ValidString(ref) || strings.ContainsAny(ref, "\x00\r") {
			return // refused before either question is asked
		}
		var k types.Kustomization
		if k.Unmarshal([]byte("components: ["+jq(ref)+"]\n")) != nil || len(k.Components) != 1 || k.Components[0] != ref {
			return // kustomize would not read this kustomization at all
		}
		// A URL kustomize cannot even make a request of ("https://#x")
		// is still one it does not read as a local file.
		network, _, err := run("resources: []\npatches: [{path: " + jq(ref) + "}]\n")
		local := err != nil && strings.Contains(err.Error(), "doesn't exist")
		if network && !isRemoteFile(ref) || isRemoteFile(ref) && local {
			t.Fatalf("kustomize fetches patch %q: %v (%v), isRemoteFile: %v", ref, network, err, isRemoteFile(ref))
		}
		if _, git, _ := run("components: [" + jq(ref) + "]\n"); git != isGitRepoSpec(ref) {
			t.Fatalf("kustomize clones component %q: %v, isGitRepoSpec: %v", ref, git, isGitRepoSpec(ref))
		}
	})
}

// FuzzParseInline holds parseInline to kustomize's own test of whether a
// generators/transformers/validators or patchesStrategicMerge entry is
// inline YAML, and checks that the builtin configurations it finds give
// their file references without a panic.
func FuzzParseInline(f *testing.F) {
	for _, seed := range []string{
		"gen.yaml", "", "{}", "---", "kind: X\nmetadata: {name: n}\n", "kind: X", "a: b", "[a]", "null",
		"apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: p.yaml\n",
		"apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: c}\nfiles: [k=v.txt, bad==x]\nenvs: [e.env]\n",
		"kind: X\nmetadata: {name: n}\n---\nfoo",
		// plainPath's edges: null spellings, document markers, scalars
		// that are not strings.
		"Null", "NULL", "nULL", "~", "...", "....", ".", "..", "-", "-a", "1", "1.5", ".inf", "true", "y", "no",
		"../base", "a/b_c-d.yaml", "a..b",
	} {
		f.Add(seed)
	}
	rf := resmap.NewFactory(provider.NewDefaultDepProvider().GetResourceFactory())
	f.Fuzz(func(t *testing.T, entry string) {
		if len(entry) > 4096 {
			return
		}
		docs, inline := parseInline(entry)
		_, err := rf.NewResMapFromBytes([]byte(entry))
		if inline != (err == nil) {
			t.Fatalf("%q: parseInline says inline %v, kustomize: %v", entry, inline, err)
		}
		for _, d := range docs {
			refs, err := configFiles(pluginConfig{file: "f", doc: d})
			if err == nil {
				for _, r := range refs {
					if r.ref == "" {
						t.Fatalf("%q: empty file reference", entry)
					}
				}
			}
		}
	})
}

// TestPlainPathIsNeverInline checks plainPath against kustomize on every
// string of up to four characters over path characters and the letters of
// "null": each one plainPath calls a path, kustomize refuses as inline.
func TestPlainPathIsNeverInline(t *testing.T) {
	rf := resmap.NewFactory(provider.NewDefaultDepProvider().GetResourceFactory())
	const alphabet = "a0._/-nulNUL"
	var paths int
	var gen func(prefix string)
	gen = func(prefix string) {
		if plainPath(prefix) {
			paths++
			if _, err := rf.NewResMapFromBytes([]byte(prefix)); err == nil {
				t.Errorf("%q: plainPath calls it a path, kustomize reads it as inline", prefix)
			}
		}
		if len(prefix) == 4 {
			return
		}
		for _, c := range alphabet {
			gen(prefix + string(c))
		}
	}
	gen("")
	if paths < 10000 {
		t.Fatalf("only %d strings were paths to plainPath", paths)
	}
}
