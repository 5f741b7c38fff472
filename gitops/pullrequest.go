package gitops

import "context"

// PRState is the state of a pull request.
type PRState string

// Pull request states. A merged pull request is also closed; it reports
// PRMerged.
const (
	PROpen   PRState = "open"
	PRClosed PRState = "closed" // closed without merge
	PRMerged PRState = "merged"
)

// PullRequest is a pull request as a forge reports it.
type PullRequest struct {
	Number      int
	URL         string // the web page
	Title, Body string
	Head, Base  string // branch names
	State       PRState
	MergeCommit string // the merge commit's id once State is PRMerged, else ""
}

// NewPullRequest describes a pull request to open.
type NewPullRequest struct {
	Title, Body string
	Head, Base  string // branch names in the same repository
}

// PullRequests is the small part of a forge's API that [Repo.Propose] and
// [WaitForMerge] need, for one repository. The subpackages gitops/github
// and gitops/gitea implement it. Implementations must be safe for
// concurrent use and retry idempotent reads on transient failures
// themselves.
type PullRequests interface {
	// FindOpen returns the open pull request from head into base, or an
	// error matching [ErrNotFound].
	FindOpen(ctx context.Context, head, base string) (*PullRequest, error)
	// Create opens a pull request.
	Create(ctx context.Context, pr NewPullRequest) (*PullRequest, error)
	// UpdateBody replaces the body of pull request number.
	UpdateBody(ctx context.Context, number int, body string) (*PullRequest, error)
	// Get returns pull request number, or an error matching [ErrNotFound].
	Get(ctx context.Context, number int) (*PullRequest, error)
}
