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
// Another repository layout of deployment files is read with a
// [DeploymentSchema].
//
// [Result.YAML] is the stream `kustomize build` prints for the same tree,
// with the kustomize CLI built on the kustomize api render is built with
// (v5.8.2 for api v0.21.2; v5.7.1 for v0.20.1, Kargo's pin);
// [Result.Files] is one file per object for a rendered branch (Kargo's
// naming with [WithFileNaming]); [Diff] summarises what a Result changes in
// an existing folder, for a pull request body or a log line.
//
// # Security
//
// Build never touches the network or the disk. Before kustomize runs, it
// walks every kustomization reachable from the wrapper and every field
// through which kustomize (api v0.21; v0.20 reads the same) loads a file
// or a URL:
//
//   - resources and bases (a file first, else a directory), components,
//     crds, configurations, openapi.path;
//   - patches[].path, patchesStrategicMerge (each entry inline YAML, else
//     a file), patchesJson6902[].path, replacements[].path;
//   - configMapGenerator and secretGenerator files ([key=]path), envs and
//     env;
//   - generators, transformers and validators: inline configurations,
//     files of configurations, and kustomization directories of them;
//     only kustomize's builtins run, and in their configurations the
//     fields that name files are walked too (ConfigMapGenerator and
//     SecretGenerator files and envs, PatchTransformer and
//     PatchJson6902Transformer path, PatchStrategicMergeTransformer
//     paths, ReplacementTransformer replacements[].path,
//     ValueAddTransformer targetFilePath), relative to the kustomization
//     listing them, as kustomize resolves them;
//   - helmCharts, helmGlobals, helmChartInflationGenerator and
//     HelmChartInflationGenerator configurations: refused
//     ([ErrHelmRefused]).
//
// A reference is remote exactly where kustomize would fetch it: an
// http(s) URL where it loads a file, a git repository spec (https://,
// ssh://, file://, user@host:path, github.com/...) where it loads a
// directory; a local file named like one ("web@v2.yaml") is a file, as
// for kustomize. Remote references ([ErrRemote]), absolute paths, paths
// leaving the mounts, symbolic links, plugins and functions
// ([ErrPluginRefused]) are refused, all matching [ErrUnsafeContent];
// malformed YAML, alias bombs (counted in expanded bytes) and input
// beyond a byte budget ([WithMaxInputSize]) are refused too, and an
// output estimated or built beyond [WithMaxOutputSize] ([ErrLimitExceeded]).
// Only the files the walk validated are copied into an in-memory file
// system of Build's own, so nothing of a mount that no kustomization
// references (such as overlays/ or bin/) is ever opened. Kustomize runs
// with plugins and exec functions disabled and the root-only load
// restrictor. kustomize's OpenAPI schema, global state a kustomization
// can set, is reset so it does not leak into later builds. Panics inside
// kustomize are recovered ([ErrPanic]). Errors name files by their path
// in the assembled tree, never by a path on the disk.
//
// # Concurrency
//
// Build may be called from many goroutines; the kustomize phase, which is
// not safe for concurrent use, is serialized on a package-wide lock, or on
// the caller's ([WithLocker]) for a program that runs kustomize itself.
// A waiting Build returns when its context ends, and so does a Build
// whose context ends while kustomize runs (kustomize cannot be
// interrupted; it runs on, in memory, and releases the lock when it
// ends). A [Result] is immutable and safe for concurrent use. Identical
// inputs give byte-identical results.
//
// # Errors
//
// Every error matches one of [ErrInvalid], [ErrNotFound],
// [ErrUnsafeContent] and [ErrLimitExceeded] (test with [errors.Is]), and
// a more specific sentinel of errors.go; errors about one input file are
// a [*FileError] whose Path names it, limits a [*LimitError] (test with
// [errors.As]). [IsRetryable] says whether retrying can help: only for a
// ctx deadline or a transient failure of a mount's FS.
//
// kustomize prints deprecation warnings for some fields (bases,
// commonLabels, patchesStrategicMerge, ...) to the process's standard
// error while it builds; Build cannot silence them.
package render
