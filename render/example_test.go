package render_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing/fstest"

	"github.com/railyard-gitops/railyard/render"
)

// The monorepo's deploy package, as a sparse checkout would return it.
var monorepo = fstest.MapFS{
	"k8s/kustomize/base/kustomization.yaml": {Data: []byte("resources:\n  - deployment.yaml\n  - service.yaml\n")},
	"k8s/kustomize/base/deployment.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: cdo-dashboard
spec:
  template:
    spec:
      containers:
        - name: dashboard
          image: code-dot-org
`)},
	"k8s/kustomize/base/service.yaml":                 {Data: []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: cdo-dashboard\n")},
	"k8s/kustomize/overlays/local/kustomization.yaml": {Data: []byte("resources: [https://example.com/never-read.yaml]\n")},
}

// The GitOps repository's policy for one deployment and its env type.
var gitops = fstest.MapFS{
	"apps/codeai/deployments/test/deployment.yaml": {Data: []byte("envType: test\nnamespace: codeai-test\nbranch: stage/test\n")},
	"apps/codeai/envTypes/test/kustomization.yaml": {Data: []byte(`apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
namePrefix: test-
labels:
  - pairs: {codeai.code.org/env-type: test}
    includeSelectors: true
`)},
}

func ExampleBuild() {
	dep, err := render.LoadDeployment(gitops, "apps/codeai/deployments/test/deployment.yaml")
	if err != nil {
		panic(err)
	}
	res, err := render.Build(context.Background(),
		[]render.Mount{{At: "src", FS: monorepo}, {At: "gitops", FS: gitops}},
		render.Wrapper{
			Dir:        "wrapper",
			Resources:  []string{"../src/k8s/kustomize/base"},
			Components: []string{"../gitops/apps/codeai/envTypes/" + dep.EnvType},
			Namespace:  dep.Namespace,
			Images: []render.Image{{
				Name:    "code-dot-org",
				NewName: "ghcr.io/code-dot-org/code-dot-org",
				Tag:     "git-4f1c2b9d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c",
			}},
		})
	if err != nil {
		panic(err)
	}
	for _, o := range res.Objects() {
		fmt.Println(o.Kind, o.Namespace, o.Name)
	}
	fmt.Println(slices.Sorted(maps.Keys(res.Files())))
	// Output:
	// Service codeai-test test-cdo-dashboard
	// Deployment codeai-test test-cdo-dashboard
	// [codeai-test_apps_v1_deployment_test-cdo-dashboard.yaml codeai-test_v1_service_test-cdo-dashboard.yaml]
}

func ExampleDiff() {
	build := func(tag string) *render.Result {
		res, err := render.Build(context.Background(), []render.Mount{{At: "src", FS: monorepo}},
			render.Wrapper{
				Dir:       "wrapper",
				Resources: []string{"../src/k8s/kustomize/base"},
				Namespace: "codeai-test",
				Images:    []render.Image{{Name: "code-dot-org", Tag: tag}},
			}, render.WithFileNaming(render.NamingKargo))
		if err != nil {
			panic(err)
		}
		return res
	}
	// The stage branch as the previous promotion left it.
	stage := fstest.MapFS{}
	for name, data := range build("git-1111111111111111111111111111111111111111").Files() {
		stage["apps/codeai/deployments/test/deploy/"+name] = &fstest.MapFile{Data: data}
	}

	s, err := render.Diff(stage, "apps/codeai/deployments/test/deploy", build("git-2222222222222222222222222222222222222222"))
	if err != nil {
		panic(err)
	}
	fmt.Println(s)
	fmt.Print(s.Markdown())
	// Output:
	// 0 added, 1 changed, 0 removed, 1 unchanged
	// **0 added, 1 changed, 0 removed** (1 unchanged)
	//
	// | change | kind | namespace | name |
	// |---|---|---|---|
	// | changed | `Deployment` | `codeai-test` | `cdo-dashboard` |
}

func ExampleLoadDeployment() {
	dep, err := render.LoadDeployment(gitops, "apps/codeai/deployments/test/deployment.yaml")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", dep)
	// Output:
	// {Name:test EnvType:test Namespace:codeai-test Branch:stage/test}
}

// A program that runs kustomize itself (as Kargo's kustomize-build step
// does, behind its own mutex) passes that mutex, so that the two never run
// kustomize at the same time.
func ExampleWithLocker() {
	var kustomizeMu sync.Mutex // the program's own kustomize lock
	res, err := render.Build(context.Background(),
		[]render.Mount{{At: "src", FS: monorepo}},
		render.Wrapper{Dir: "wrapper", Resources: []string{"../src/k8s/kustomize/base"}},
		render.WithLocker(&kustomizeMu))
	if err != nil {
		panic(err)
	}
	fmt.Println(len(res.Objects()), "objects")
	// Output:
	// 2 objects
}

// A reference kustomize would fetch is refused before anything is built,
// and retrying cannot help.
func ExampleIsRetryable() {
	_, err := render.Build(context.Background(),
		[]render.Mount{{At: "src", FS: monorepo}},
		render.Wrapper{Dir: "wrapper", Resources: []string{"../src/k8s/kustomize/overlays/local"}})
	fmt.Println(errors.Is(err, render.ErrRemote), errors.Is(err, render.ErrUnsafeContent), render.IsRetryable(err))
	// Output:
	// true true false
}

// A build whose output would be over the limit is refused, from an
// estimate made before kustomize runs when the input multiplies objects.
func ExampleWithMaxOutputSize() {
	_, err := render.Build(context.Background(),
		[]render.Mount{{At: "src", FS: monorepo}},
		render.Wrapper{Dir: "wrapper", Resources: []string{"../src/k8s/kustomize/base"}},
		render.WithMaxOutputSize(100))
	var limit *render.LimitError
	fmt.Println(errors.Is(err, render.ErrLimitExceeded), errors.As(err, &limit) && limit.Option == "WithMaxOutputSize")
	// Output:
	// true true
}

// Deployment files of another layout: other keys, nested, next to keys of
// the team's own.
func ExampleDeploymentSchema_Load() {
	fsys := fstest.MapFS{"clusters/prod/app.yaml": {Data: []byte(`owner: team-a
spec:
  tier: production
  namespace: app-prod
gitops:
  branch: stage/prod
`)}}
	schema := render.DeploymentSchema{EnvType: "spec.tier", Namespace: "spec.namespace", Branch: "gitops.branch", AllowOtherKeys: true}
	dep, err := schema.Load(fsys, "clusters/prod/app.yaml")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", dep)
	// Output:
	// {Name:prod EnvType:production Namespace:app-prod Branch:stage/prod}
}
