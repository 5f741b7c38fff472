// Package refname is railyard's one branch-name validator, shared by
// render (a deployment's branch) and gitops (the branches it writes).
package refname

import "strings"

// MaxBranchLen is the longest branch name accepted, in bytes.
const MaxBranchLen = 200

// BranchProblem returns why git would refuse name as a branch name (git
// check-ref-format --branch), or why railyard refuses it because it could be
// read as an option, a revision expression or a full ref; "" when name is
// acceptable. Names are ASCII only.
func BranchProblem(name string) string {
	switch {
	case name == "":
		return "empty"
	case len(name) > MaxBranchLen:
		return "longer than 200 bytes"
	case name == "HEAD":
		return "reserved name"
	case strings.HasPrefix(name, "-"):
		return "starts with '-'"
	case strings.HasPrefix(name, "refs/"):
		return "starts with 'refs/'"
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
		return "starts or ends with '/'"
	case strings.HasSuffix(name, "."):
		return "ends with '.'"
	case strings.Contains(name, ".."):
		return "contains '..'"
	case strings.Contains(name, "@{"):
		return "contains '@{'"
	case strings.Contains(name, "//"):
		return "contains '//'"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f {
			return "contains a space, control or non-ASCII byte"
		}
		if strings.IndexByte(`~^:?*[\`, c) >= 0 {
			return "contains one of ~ ^ : ? * [ \\"
		}
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return "a component starts with '.'"
		}
		if strings.HasSuffix(part, ".lock") {
			return "a component ends with '.lock'"
		}
		if part == "@" {
			return "a component is '@'"
		}
	}
	return ""
}
