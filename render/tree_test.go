package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallApp is a minimal valid input: a base and a component, mounted at
// "app" and joined by the wrapper at "w".
func smallApp() fstest.MapFS {
	return fstest.MapFS{
		"base/kustomization.yaml": {Data: []byte("resources:\n  - deploy.yaml\n  - service.yaml\n")},
		"base/deploy.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx
`)},
		"base/service.yaml":       {Data: []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n")},
		"comp/kustomization.yaml": {Data: []byte("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: test-\n")},
		"templates/deploy.yaml":   {Data: []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n")},
	}
}

func smallWrapper() Wrapper {
	return Wrapper{
		Dir:        "w",
		Resources:  []string{"../app/base"},
		Components: []string{"../app/comp"},
		Namespace:  "test",
		Images:     []Image{{Name: "nginx", Tag: "1.27"}},
	}
}

func TestBuildSmallApp(t *testing.T) {
	t.Parallel()
	r, err := Build(context.Background(), []Mount{{At: "app", FS: smallApp()}}, smallWrapper())
	require.NoError(t, err)
	objs := r.Objects()
	require.Len(t, objs, 2)
	assert.Equal(t, "test-web", objs[0].Name)
	assert.Contains(t, string(r.YAML()), "image: nginx:1.27\n")
}

// billionLaughs returns a YAML document whose aliases expand to 9^depth
// scalars.
func billionLaughs(depth int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\nl0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n")
	for i := 1; i <= depth; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.Repeat(p+",", 8)+p)
	}
	return b.String()
}

type hostileCase struct {
	name   string
	edit   func(app fstest.MapFS, w *Wrapper) // nil: no change
	opts   []Option
	want   error  // sentinel
	path   string // FileError.Path
	detail string // substring of the message, when useful
}

func setFile(app fstest.MapFS, name, data string) { app[name] = &fstest.MapFile{Data: []byte(data)} }

const deployYAML = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"

var hostileCases = []hostileCase{
	{name: "https resource", want: ErrRemote, path: "app/base/kustomization.yaml", detail: "https://",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resources:\n  - deploy.yaml\n  - https://raw.githubusercontent.com/org/repo/main/evil.yaml\n")
		}},
	{name: "scp-style git resource", want: ErrRemote, path: "app/base/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resources:\n  - git@github.com:org/repo.git//deploy?ref=main\n")
		}},
	{name: "github.com shorthand in wrapper", want: ErrRemote, path: "w/kustomization.yaml",
		edit: func(_ fstest.MapFS, w *Wrapper) {
			w.Resources = append(w.Resources, "github.com/kubernetes-sigs/kustomize/examples/helloWorld?ref=v5.0.0")
		}},
	{name: "ssh component", want: ErrRemote, path: "w/kustomization.yaml",
		edit: func(_ fstest.MapFS, w *Wrapper) { w.Components = []string{"ssh://git@example.com/org/comp.git"} }},
	{name: "https patch file", want: ErrRemote, path: "app/comp/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "comp/kustomization.yaml", "kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\npatches:\n  - path: HTTPS://example.com/patch.yaml\n")
		}},
	{name: "remote configMapGenerator file", want: ErrRemote, path: "app/base/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "configMapGenerator:\n  - name: c\n    files:\n      - key=http://169.254.169.254/latest/meta-data\n")
		}},
	{name: "https openapi", want: ErrRemote, path: "app/base/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resources: [deploy.yaml]\nopenapi:\n  path: https://example.com/schema.json\n")
		}},
	{name: "absolute resource", want: ErrAbsolutePath, path: "app/base/kustomization.yaml", detail: "/etc/passwd",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resources:\n  - /etc/passwd\n")
		}},
	{name: "absolute generator env file", want: ErrAbsolutePath, path: "app/base/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "secretGenerator:\n  - name: s\n    envs: [/root/.aws/credentials]\n")
		}},
	{name: "dot-dot escape out of the tree", want: ErrEscape, path: "app/base/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resources:\n  - ../../../../../etc/passwd\n")
		}},
	{name: "escape out of the mounts", want: ErrEscape, path: "w/kustomization.yaml",
		edit: func(_ fstest.MapFS, w *Wrapper) { w.Resources = []string{"../elsewhere/base"} }},
	{name: "patch reaching into the wrapper dir", want: ErrEscape, path: "app/base/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resources: [deploy.yaml]\npatches:\n  - path: ../../w/kustomization.yaml\n")
		}},
	{name: "NUL in a path", want: ErrEscape, path: "w/kustomization.yaml",
		edit: func(_ fstest.MapFS, w *Wrapper) { w.Resources = []string{"../app/base\x00/x"} }},
	{name: "symlink out of the cone", want: ErrSymlink, path: "app/base/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			app["base/secrets.yaml"] = &fstest.MapFile{Data: []byte("/etc/shadow"), Mode: fs.ModeSymlink}
			setFile(app, "base/kustomization.yaml", "resources: [deploy.yaml, secrets.yaml]\n")
		}},
	{name: "symlinked directory", want: ErrSymlink, path: "w/kustomization.yaml",
		edit: func(app fstest.MapFS, w *Wrapper) {
			app["linked"] = &fstest.MapFile{Data: []byte("base"), Mode: fs.ModeSymlink}
			w.Resources = []string{"../app/linked"}
		}},
	{name: "missing component", want: ErrNotFound, path: "w/kustomization.yaml", detail: "app/envTypes/qa",
		edit: func(_ fstest.MapFS, w *Wrapper) { w.Components = []string{"../app/envTypes/qa"} }},
	{name: "missing resource file", want: ErrNotFound, path: "app/base/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) { delete(app, "base/service.yaml") }},
	{name: "directory without kustomization", want: ErrNotFound, path: "w/kustomization.yaml", detail: "no kustomization file in app/base",
		edit: func(app fstest.MapFS, _ *Wrapper) { delete(app, "base/kustomization.yaml") }},
	{name: "two kustomization files", want: ErrInvalidKustomization, path: "app/base",
		edit: func(app fstest.MapFS, _ *Wrapper) { setFile(app, "base/kustomization.yml", "resources: []\n") }},
	{name: "component that is a Kustomization", want: ErrInvalidKustomization, path: "app/comp/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) { setFile(app, "comp/kustomization.yaml", "namePrefix: x-\n") }},
	{name: "malformed resource YAML", want: ErrInvalidYAML, path: "app/base/deploy.yaml", detail: "line",
		edit: func(app fstest.MapFS, _ *Wrapper) { setFile(app, "base/deploy.yaml", deployYAML+"spec: [unclosed\n") }},
	{name: "malformed kustomization YAML", want: ErrInvalidYAML, path: "app/base/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resources:\n- deploy.yaml\n  - : :\n\t")
		}},
	{name: "kustomization with unknown field", want: ErrInvalidKustomization, path: "app/base/kustomization.yaml", detail: "resourcez",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resourcez: [deploy.yaml]\n")
		}},
	{name: "template with unknown fields", want: ErrInvalidKustomization, path: "app/templates/deploy.yaml", detail: "imagez",
		edit: func(app fstest.MapFS, w *Wrapper) {
			setFile(app, "templates/deploy.yaml", "kind: Kustomization\nimagez:\n  - name: nginx\n")
			w.Template = "app/templates/deploy.yaml"
		}},
	{name: "template that is a Component", want: ErrInvalidKustomization, path: "app/templates/deploy.yaml",
		edit: func(app fstest.MapFS, w *Wrapper) {
			setFile(app, "templates/deploy.yaml", "kind: Component\n")
			w.Template = "app/templates/deploy.yaml"
		}},
	{name: "duplicate objects", want: ErrDuplicateObject, path: "app/base/service.yaml", detail: "Deployment.apps/v1 default/web",
		edit: func(app fstest.MapFS, _ *Wrapper) { setFile(app, "base/service.yaml", deployYAML) }},
	{name: "duplicate objects across bases", want: ErrKustomize, path: "w/kustomization.yaml", detail: "already registered",
		edit: func(app fstest.MapFS, w *Wrapper) {
			setFile(app, "other/kustomization.yaml", "resources: [deploy.yaml]\n")
			setFile(app, "other/deploy.yaml", deployYAML)
			w.Resources = append(w.Resources, "../app/other")
		}},
	{name: "image without tag or digest", want: ErrInvalidImage, path: "w/kustomization.yaml", detail: "neither tag nor digest",
		edit: func(_ fstest.MapFS, w *Wrapper) { w.Images = []Image{{Name: "nginx", NewName: "ghcr.io/org/nginx"}} }},
	{name: "image with a short digest", want: ErrInvalidImage, path: "w/kustomization.yaml",
		edit: func(_ fstest.MapFS, w *Wrapper) { w.Images = []Image{{Name: "nginx", Digest: "sha256:abc"}} }},
	{name: "image tag injecting YAML", want: ErrInvalidImage, path: "w/kustomization.yaml",
		edit: func(_ fstest.MapFS, w *Wrapper) {
			w.Images = []Image{{Name: "nginx", Tag: "1\nresources: [https://x]"}}
		}},
	{name: "alias bomb in a resource", want: ErrAliasBomb, path: "app/base/service.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) { setFile(app, "base/service.yaml", billionLaughs(9)) }},
	{name: "alias bomb in a kustomization", want: ErrAliasBomb, path: "app/comp/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "comp/kustomization.yaml", "kind: Component\n"+strings.TrimPrefix(billionLaughs(8), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\n"))
		}},
	{name: "recursive alias", want: ErrInvalidYAML, path: "app/base/service.yaml", detail: "recursive alias",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/service.yaml", deployYAML+"spec: &s\n  again: *s\n")
		}},
	{name: "deeply nested YAML", want: ErrInvalidYAML, path: "app/base/service.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/service.yaml", "a: "+strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)+"\n")
		}},
	{name: "huge resource", want: ErrTooLarge, path: "app/base/service.yaml", opts: []Option{WithMaxInputSize(4 << 10)},
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/service.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  x: "+strings.Repeat("x", 8<<10)+"\n")
		}},
	{name: "huge input over the default limit", want: ErrTooLarge, path: "app/base/service.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/service.yaml", strings.Repeat("# padding\n", DefaultMaxInputSize/10+1))
		}},
	{name: "helm chart", want: ErrHelmRefused, path: "app/base/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "helmCharts:\n  - name: redis\n    repo: https://charts.bitnami.com/bitnami\n")
		}},
	{name: "exec plugin transformer", want: ErrPluginRefused, path: "app/base/plugin.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resources: [deploy.yaml]\ntransformers: [plugin.yaml]\n")
			setFile(app, "base/plugin.yaml", "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/sh\n")
		}},
	{name: "patch that does not apply", want: ErrKustomize, path: "w/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "comp/kustomization.yaml", "kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\npatches:\n  - target: {kind: Deployment}\n    patch: |-\n      - op: replace\n        path: /spec/nope/deeper\n        value: 1\n")
		}},
	{name: "component cycle", want: ErrKustomize, path: "w/kustomization.yaml", detail: "cycle",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "comp/kustomization.yaml", "kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\ncomponents: [../comp2]\n")
			setFile(app, "comp2/kustomization.yaml", "kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\ncomponents: [../comp]\n")
		}},
	{name: "same file listed twice", want: ErrDuplicateObject, path: "app/base/deploy.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resources: [deploy.yaml, ./deploy.yaml]\n")
		}},
	{name: "resource cycle", want: ErrKustomize, path: "w/kustomization.yaml",
		edit: func(app fstest.MapFS, _ *Wrapper) {
			setFile(app, "base/kustomization.yaml", "resources: [deploy.yaml, .]\n")
		}},
}

// jq returns s as a JSON string.
func jq(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Every hostile input is refused with its sentinel, as a FileError naming
// the file, without a panic, an HTTP request or a git process. The test is
// not parallel: it swaps http.DefaultTransport and PATH to observe that.
func TestHostileInputs(t *testing.T) {
	require.GreaterOrEqual(t, len(hostileCases), 15)
	var requests []string
	saved := http.DefaultTransport
	http.DefaultTransport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		requests = append(requests, req.URL.String())
		return nil, errors.New("network access in a test")
	})
	t.Cleanup(func() { http.DefaultTransport = saved })
	bin := t.TempDir()
	marker := filepath.Join(bin, "git-ran")
	require.NoError(t, os.WriteFile(filepath.Join(bin, "git"), []byte("#!/bin/sh\ntouch "+marker+"\nexit 1\n"), 0o755))
	t.Setenv("PATH", bin)

	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			app := maps.Clone(smallApp())
			w := smallWrapper()
			if tc.edit != nil {
				tc.edit(app, &w)
			}
			r, err := Build(context.Background(), []Mount{{At: "app", FS: app}}, w, tc.opts...)
			require.Error(t, err)
			t.Log(err)
			assert.Nil(t, r)
			assert.ErrorIs(t, err, tc.want)
			var fe *FileError
			require.ErrorAs(t, err, &fe, "%v", err)
			assert.Equal(t, tc.path, fe.Path, "%v", err)
			assert.Contains(t, err.Error(), tc.detail)
			assert.True(t, strings.HasPrefix(err.Error(), "render: "+tc.path+": "), "%v", err)
		})
	}

	assert.Empty(t, requests, "no HTTP request")
	assert.NoFileExists(t, marker, "no git process")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBuildArguments(t *testing.T) {
	t.Parallel()
	app := smallApp()
	cases := []struct {
		name   string
		mounts []Mount
		edit   func(*Wrapper)
		opts   []Option
		want   error
	}{
		{"absolute mount", []Mount{{At: "/app", FS: app}}, nil, nil, ErrInvalidMount},
		{"unclean mount", []Mount{{At: "x/../app", FS: app}}, nil, nil, ErrInvalidMount},
		{"root mount", []Mount{{At: ".", FS: app}}, nil, nil, ErrInvalidMount},
		{"nil FS", []Mount{{At: "app"}}, nil, nil, ErrInvalidMount},
		{"overlapping mounts", []Mount{{At: "app", FS: app}, {At: "app/base", FS: app}}, nil, nil, ErrInvalidMount},
		{"empty dir", []Mount{{At: "app", FS: app}}, func(w *Wrapper) { w.Dir = "" }, nil, ErrInvalidWrapper},
		{"dir in a mount", []Mount{{At: "app", FS: app}}, func(w *Wrapper) { w.Dir = "app/w" }, nil, ErrInvalidWrapper},
		{"escaping template", []Mount{{At: "app", FS: app}}, func(w *Wrapper) { w.Template = "../t.yaml" }, nil, ErrInvalidWrapper},
		{"bad namespace", []Mount{{At: "app", FS: app}}, func(w *Wrapper) { w.Namespace = "Prod_1" }, nil, ErrInvalidWrapper},
		{"nil logger", []Mount{{At: "app", FS: app}}, nil, []Option{WithLogger(nil)}, ErrInvalidOption},
		{"zero budget", []Mount{{At: "app", FS: app}}, nil, []Option{WithMaxInputSize(0)}, ErrInvalidOption},
		{"unknown naming", []Mount{{At: "app", FS: app}}, nil, []Option{WithFileNaming(FileNaming(7))}, ErrInvalidOption},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := smallWrapper()
			if tc.edit != nil {
				tc.edit(&w)
			}
			_, err := Build(context.Background(), tc.mounts, w, tc.opts...)
			assert.ErrorIs(t, err, tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "render: "), "%v", err)
		})
	}
}

func TestResolveRef(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ref              string
		file, dir, resrc error // per way of loading
	}{
		{"../base", nil, nil, nil},
		{"deploy.yaml", nil, nil, nil},
		{"", ErrNotFound, ErrNotFound, ErrNotFound},
		{"/etc/passwd", ErrAbsolutePath, ErrAbsolutePath, ErrAbsolutePath},
		{`\\server\share`, ErrAbsolutePath, ErrAbsolutePath, ErrAbsolutePath},
		{"../../..", ErrEscape, ErrEscape, ErrEscape},
		{"https://example.com/org/repo", ErrRemote, ErrRemote, ErrRemote},
		{"HTTP://example.com/org/repo", ErrRemote, ErrRemote, ErrRemote},
		// Fetched as a file; as a directory, a local name (kustomize
		// cannot split a repository path off it).
		{"https://example.com/x", ErrRemote, nil, ErrRemote},
		// kustomize clones these as directories, but reads them as plain
		// file names where it loads a file.
		{"git::https://example/org/x", nil, ErrRemote, nil},
		{"deploy@github.com:org/x", nil, ErrRemote, nil},
		{"GitHub.com/org/repo", nil, ErrRemote, nil},
		{"ssh://git@example.com/org/re", nil, ErrRemote, nil},
		{"file:///srv/repo.git", nil, ErrRemote, nil},
		// Neither fetched nor cloned: local names.
		{"file:relative", nil, nil, nil},
		{"web@v2.yaml", nil, nil, nil},
		{"web:v2.yaml", nil, nil, nil},
		{"ftp://example.com/x.yaml", nil, nil, nil},
	} {
		for kind, want := range map[loadKind]error{loadFile: tc.file, loadDir: tc.dir, loadResource: tc.resrc} {
			_, err := resolveRef("a/b", tc.ref, kind)
			if want == nil {
				assert.NoError(t, err, "%q as %d", tc.ref, kind)
			} else {
				assert.ErrorIs(t, err, want, "%q as %d", tc.ref, kind)
			}
		}
	}
	got, err := resolveRef("a/b", "../c/./d", loadFile)
	require.NoError(t, err)
	assert.Equal(t, "a/c/d", got)
}

// FuzzResolveRef: a resolved reference is always a clean relative tree
// path, and never looks remote.
func FuzzResolveRef(f *testing.F) {
	for _, seed := range []string{"../base", "https://x/y", "git@h:r", "/abs", "a/../../b", "./.", "github.com/o/r", "a\\b", "c:/x"} {
		f.Add("a/b", seed)
	}
	f.Fuzz(func(t *testing.T, dir, ref string) {
		if !validTreePath(dir) {
			return
		}
		for _, kind := range []loadKind{loadFile, loadDir, loadResource} {
			p, err := resolveRef(dir, ref, kind)
			if err != nil {
				continue
			}
			// "..0" is a file name, not an escape: only ".." as a whole element is.
			if !fs.ValidPath(p) || p == "." || p == ".." || strings.HasPrefix(p, "../") {
				t.Fatalf("resolveRef(%q, %q, %d) = %q", dir, ref, kind, p)
			}
			if strings.HasPrefix(ref, "/") || (kind != loadDir && isRemoteFile(ref)) || (kind == loadDir && isGitRepoSpec(ref)) {
				t.Fatalf("resolveRef(%q, %q, %d) accepted a remote or absolute reference", dir, ref, kind)
			}
		}
	})
}
