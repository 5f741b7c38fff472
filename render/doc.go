// Package render builds Kubernetes manifests from an in-memory wrapper
// kustomization that joins env-type Components, a deploy template and a
// source package.
package render
