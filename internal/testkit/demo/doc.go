// Package demo generates railyard's demo world: a monorepo shaped like a
// real one, a GitOps repository holding promotion policy, and the image tags
// a registry would hold for them — deterministically from a seed, at three
// sizes.
//
// # Usage
//
// [Build] writes the two repositories as bare repositories under a
// directory (with one `git fast-import` stream each) and returns the
// [World]: the watched branch's commits, newest first, and the registry tags
// with what each one is (a real candidate or a decoy, and why). [Serve]
// puts the world online for a test: a [gittest.Server] over copies of both
// repositories and a [registrytest.Registry] holding every tag.
//
//	w, err := demo.Build(t.TempDir(), demo.Small, demo.DefaultSeed)
//	s, err := demo.Serve(ctx, w)
//	defer s.Close()
//
// [Small] builds in well under a second and is meant for unit tests;
// [Medium] and [Large] are for benchmarks, and [BuildCached] keeps them
// across runs in the user's cache directory.
//
// # The world
//
// The monorepo (branch "main") holds k8s/kustomize/base and
// k8s/kustomize/components (the deploy package that is rendered),
// k8s/kustomize/overlays and k8s/bin (never rendered), the decoy sibling
// k8s/kustomize-old, and bulk application content (dashboard/, apps/,
// pegasus/, lib/, ...). Some commits change the deploy package
// ([Commit.DeployChanged]), most change only application content. A branch
// "feature/ai-tutor-preview" forks off main; its tip has an image tag that
// must never pair.
//
// The GitOps repository (branch "main") holds apps/codeai/deployments,
// apps/codeai/envTypes (kustomize Components), the shared autoscaling
// component, the deploy template apps/codeai/kargo/templates/deploy (empty
// resources and components to be filled in; templates/deploy-fixed is the
// variant with fixed relative paths) and legacy gitflow records under
// warehouses/codeai/legacy-gitflow/<env>/merged/.
//
// The tags model a CI that builds every commit: the newest commit has no
// image yet ([World.Lagging]), one older commit's image was pushed after the
// images of newer commits ([World.Late]), and a few commits never got an
// image. Decoys sit next to the real `git-<sha>` tags (see the Decoy
// constants).
//
// # Concurrency
//
// [Build] locks its directory, so concurrent builds of the same directory,
// also from several processes, build once and share the result. A [World]
// is immutable after Build and safe to share; a [Served] is safe for
// concurrent use.
//
// # Errors
//
// Errors wrap the git CLI's or the registry's; a failed Build leaves no
// finished marker behind, so the next Build starts over.
package demo
