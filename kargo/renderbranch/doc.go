// Package renderbranch is the railyard-render-branch promotion step,
// independent of Kargo: one call renders a Freight's commit and image for
// one deployment of a GitOps repository and delivers the manifests to the
// deployment's stage branch, or to a pull request against it.
//
// Kargo runs it in process through the StepRunner of the parent package
// (github.com/railyard-gitops/railyard/kargo), and a stock Kargo through
// its built-in http step and the server in package
// github.com/railyard-gitops/railyard/kargo/stepserver. Both take the same
// [Config] and report the same [Output].
//
// # Usage
//
//	r, err := renderbranch.New(
//		renderbranch.WithCredentials(lookup), // from Kargo's credentials database
//		renderbranch.WithLocker(&kustomizeMu),
//	)
//	out, err := r.Run(ctx, cfg)
//	for out.PR != nil && out.PR.Open { // a review deployment: non-blocking
//		time.Sleep(30 * time.Second)
//		out, err = r.CheckMerge(ctx, cfg, out)
//	}
//
// One Run reads the deployment's policy (deployment.yaml) from the GitOps
// repository's policy branch, pinned to one commit; fetches only the
// deploy package of the monorepo at the Freight's commit (sparse); renders
// the wrapper kustomization in memory with the image set to
// repo:git-<sha>@digest; and commits the manifests to the stage branch
// with a lease, or, for a review deployment, pushes them to a
// deterministic head branch and opens (or reuses) a pull request. It never
// waits for a merge: [Runner.CheckMerge] asks the forge once.
//
// # Security
//
// Credentials come only from the [CredentialsFunc] given with
// [WithCredentials], asked per repository URL; a Config whose URLs carry
// credentials is refused. Credentials never appear in errors or logs.
//
// # Concurrency
//
// A Runner is safe for concurrent use. Two runs for the same stage branch
// are kept apart by the push lease: neither loses the other's commit.
//
// # Errors
//
// Errors wrap [ErrInvalidConfig], [ErrClosed] or the errors of the railyard
// packages. [IsRetryable] tells whether running again may help: an invalid
// configuration, refused credentials, a missing repository, path or commit,
// or a refused kustomization never will; a network failure, a 5xx answer or
// a lost race might.
package renderbranch
