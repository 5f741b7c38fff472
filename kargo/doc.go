// Package kargo runs railyard inside Kargo v1.11: a promotion step runner,
// railyard-render-branch, registered in Kargo's step runner registry, and a
// Warehouse subscriber that pairs images with commits over the whole
// discovered window.
//
// It lives in its own Go module (github.com/railyard-gitops/railyard/kargo)
// so that railyard itself never depends on Kargo. A Kargo build that
// includes it must copy Kargo's kustomize replace lines into its go.mod
// (see README.md).
//
// # Usage
//
// In the main package of a Kargo controller build, before the controller
// starts:
//
//	if err := kargo.Register(); err != nil { ... }           // the step
//	if err := kargo.RegisterSubscriber(); err != nil { ... } // the subscriber
//
// or blank-import github.com/railyard-gitops/railyard/kargo/register,
// which does both with the defaults. A Promotion then uses the step:
//
//	steps:
//	  - uses: railyard-render-branch
//	    as: render
//	    config:
//	      repoURL: ${{ vars.monorepo }}
//	      commit: ${{ commitFrom(vars.monorepo).ID }}
//	      ...
//
// The step's configuration and output are those of
// [github.com/railyard-gitops/railyard/kargo/renderbranch]: [StepKind]
// documents them. Stock Kargo (no custom build) reaches the same step
// through its http step and package
// github.com/railyard-gitops/railyard/kargo/stepserver.
//
// # Credentials
//
// The step asks Kargo's credentials database (the access-credentials
// capability) for git credentials of the monorepo and of the GitOps
// repository, per Promotion project; the GitOps repository's password is
// also the forge token, as for Kargo's git-open-pr. Configuration never
// carries credentials.
//
// # Errors
//
// An error that retrying cannot fix (invalid configuration, refused
// credentials, a missing repository, commit or path, a refused
// kustomization, a pull request closed without merge) is returned as a
// promotion.TerminalError, so Kargo fails the step at once; any other error
// is returned as is, and Kargo retries the step up to its error threshold.
//
// # Concurrency
//
// Kargo's kustomize-build step and railyard's render both run kustomize,
// whose global state does not survive concurrent builds. Register replaces
// the registered kustomize-build runner with one that holds the same lock
// as railyard's renders ([KustomizeLocker]); Kargo's own lock for it is
// unexported and cannot be shared.
package kargo
