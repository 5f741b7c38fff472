// Package railyard is a library for one GitOps promotion pattern:
// "common-case freight + rendered branches", used with Kargo and Argo CD.
//
// A monorepo's CI builds the application image from a commit and pushes it
// with the immutable tag "git-<full-commit-sha>". railyard turns that into
// deployments without any synthetic release record. The flow has four steps,
// each in its own package; none of the packages imports another, so callers
// (Kargo extensions, CI jobs, internal tools and the programs in examples/)
// compose them:
//
//  1. [github.com/railyard-gitops/railyard/freight] discovers promotion
//     candidates ("Freight"): a candidate exists only where an image tag and
//     a commit of the watched branch pair up exactly on git-<sha>, over the
//     whole discovered window, with Kargo-compatible Freight IDs.
//  2. [github.com/railyard-gitops/railyard/sparse] fetches only the deploy
//     package (for example k8s/kustomize) of a multi-gigabyte monorepo at the
//     exact promoted commit, with little data and little memory.
//  3. [github.com/railyard-gitops/railyard/render] joins the GitOps repo's
//     env-type Components, the shared deploy template and the deploy package
//     in an in-memory wrapper kustomization, sets the image and builds
//     deterministic manifests.
//  4. [github.com/railyard-gitops/railyard/gitops] commits the manifests to
//     stage/<deployment> branches, safely under concurrent writers, and for a
//     reviewed stage opens (or reuses) a pull request and waits for its merge.
//
// The program in examples/promote runs the whole flow on an embedded demo
// world: go run ./examples/promote.
package railyard
