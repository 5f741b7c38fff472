package gitops

import "github.com/railyard-gitops/railyard/internal/refname"

// ValidateBranch reports whether name is acceptable as a branch name: what
// `git check-ref-format --branch` accepts, restricted further to printable
// ASCII, no leading '-' (it would read as an option), no "refs/" prefix (it
// would nest a ref namespace) and at most 200 bytes. It returns nil or a
// *[BranchError] matching [ErrInvalidBranch].
func ValidateBranch(name string) error {
	if reason := refname.BranchProblem(name); reason != "" {
		return &BranchError{Name: name, Reason: reason}
	}
	return nil
}
