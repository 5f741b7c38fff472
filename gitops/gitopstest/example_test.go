package gitopstest_test

import (
	"context"
	"fmt"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitopstest"
)

// A controller's reconcile loop, tested without a forge: the pull request
// stays open, then a reviewer merges it.
func ExamplePullRequests() {
	ctx := context.Background()
	prs := &gitopstest.PullRequests{}
	pr, _ := prs.Create(ctx, gitops.NewPullRequest{Title: "Promote", Head: "railyard/stage/production/f1", Base: "stage/production"})

	_, merged, _ := gitops.CheckMerge(ctx, prs, pr)
	fmt.Println("merged:", merged)

	_ = prs.Merge(pr.Number, "0123456789abcdef0123456789abcdef01234567")
	commit, merged, _ := gitops.CheckMerge(ctx, prs, pr)
	fmt.Println("merged:", merged, commit[:7])
	// Output:
	// merged: false
	// merged: true 0123456
}
