// Package render builds Kubernetes manifests from an in-memory wrapper
// kustomization that joins env-type Components, a deploy template and a
// source package, with the promoted image set.
//
// # Usage
//
// Each input is a [Mount]: an [fs.FS] placed at a directory of one
// assembled tree (a sparse checkout of the monorepo, directories of the
// GitOps repository, or a whole repository). A [Wrapper] describes the
// kustomization written at Wrapper.Dir of that tree: optionally start from
// the GitOps repo's deploy template (apps/<app>/kargo/templates/deploy),
// whose relative references then resolve from Dir, and set resources,
// components, namespace and images:
//
//	dep, err := render.LoadDeployment(gitops, "apps/codeai/deployments/test/deployment.yaml")
//	...
//	res, err := render.Build(ctx, []render.Mount{
//		{At: "src", FS: checkout.FS},
//		{At: "gitops", FS: gitops},
//	}, render.Wrapper{
//		Dir:        "wrapper",
//		Resources:  []string{"../src/k8s/kustomize/base"},
//		Components: []string{"../gitops/apps/codeai/envTypes/" + dep.EnvType},
//		Namespace:  dep.Namespace,
//		Images: []render.Image{{
//			Name: "code-dot-org", NewName: "ghcr.io/code-dot-org/code-dot-org",
//			Tag: "git-" + sha, Digest: digest,
//		}},
//	})
//
// [Result.YAML] is the stream `kustomize build` prints for the same tree;
// [Result.Files] is one file per object for a rendered branch (Kargo's
// naming with [WithFileNaming]); [Diff] summarises what a Result changes in
// an existing folder, for a pull request body or a log line.
//
// # Security
//
// Build never touches the network or the disk. Before kustomize runs, it
// walks every kustomization reachable from the wrapper and refuses remote
// references (kustomize would fetch https://, git@host: and github.com/...
// even from an in-memory filesystem), absolute paths, paths leaving the
// mounts, symbolic links, malformed YAML, alias bombs and input beyond a
// byte budget ([WithMaxInputBytes]). Only the files it validated are copied
// into kustomize's in-memory filesystem, so nothing of a mount that no
// kustomization references (such as overlays/ or bin/) is ever opened.
// Kustomize runs with plugins and exec functions disabled and the
// root-only load restrictor; Helm charts are refused ([ErrHelmRefused]).
// Panics inside kustomize are recovered ([ErrPanic]). Errors name files by
// their path in the assembled tree, never by a path on the disk.
//
// # Concurrency
//
// Build may be called from many goroutines; the kustomize phase, which is
// not safe for concurrent use, is serialized inside the package, and a
// waiting Build returns when its context ends. A [Result] is immutable and
// safe for concurrent use. Identical inputs give byte-identical results.
//
// # Errors
//
// Every error wraps one of the sentinels in errors.go (test with
// [errors.Is]); errors about one input file are a [*FileError] whose Path
// names it (test with [errors.As]).
package render
