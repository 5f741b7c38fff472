// Package gitops commits rendered manifests to stage branches of a GitOps
// repository and drives the review flow for stages that need approval.
package gitops
