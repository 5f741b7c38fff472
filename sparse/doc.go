// Package sparse fetches only a cone of directories (for example
// k8s/kustomize) of a large git repository at an exact commit.
package sparse
