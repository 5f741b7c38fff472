package gitops

import "github.com/go-git/go-git/v5/plumbing"

// ValidateRefForTest exposes go-git's ref-name check to the external tests,
// as an independent oracle for ValidateBranch.
func ValidateRefForTest(branch string) error {
	return plumbing.NewBranchReferenceName(branch).Validate()
}

// ValidatePathForTest exposes the path check to the fuzz target.
var ValidatePathForTest = validatePath
