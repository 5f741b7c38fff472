package gitops

import "strings"

// maxBranchLen bounds branch names; git itself allows longer names, but no
// stage or review branch needs them and some forges refuse them.
const maxBranchLen = 200

// ValidateBranch reports whether name is acceptable as a branch name: what
// `git check-ref-format --branch` accepts, restricted further to printable
// ASCII, no leading '-' (it would read as an option), no "refs/" prefix (it
// would nest a ref namespace) and at most 200 bytes. It returns nil or a
// *[BranchError] matching [ErrInvalidBranch].
func ValidateBranch(name string) error {
	if reason := branchProblem(name); reason != "" {
		return &BranchError{Name: name, Reason: reason}
	}
	return nil
}

func branchProblem(name string) string {
	switch {
	case name == "":
		return "empty"
	case len(name) > maxBranchLen:
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
