package railyardtest_test

import (
	"context"
	"testing"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitopstest"
	"github.com/railyard-gitops/railyard/railyardtest"
)

// A test of code that promotes through a pull request, with real git and
// an in-memory forge.
func TestPromoteThroughReview(t *testing.T) {
	t.Parallel()
	git := railyardtest.NewGitServer(t)
	url := git.CreateRepo(t, "org/gitops.git")
	git.Commit(t, "org/gitops.git", "main", "policy", map[string]string{"apps/web/deployments/production/deployment.yaml": "branch: stage/production\n"})

	repo, err := gitops.NewRepo(url, gitops.WithCreateTarget(true))
	if err != nil {
		t.Fatal(err)
	}
	prs := &gitopstest.PullRequests{}
	change := gitops.Change{
		Dir:        "apps/web/deployments/production/deploy",
		Files:      map[string][]byte{"deployment.yaml": []byte("kind: Deployment\n")},
		Provenance: &gitops.Provenance{FreightID: "f1"},
	}
	p, err := repo.Propose(context.Background(), change, "stage/production", prs)
	if err != nil {
		t.Fatal(err)
	}
	files := git.Files(t, "org/gitops.git", p.Head)
	if got := files["apps/web/deployments/production/deploy/deployment.yaml"]; got != "kind: Deployment\n" {
		t.Fatalf("head holds %q", got)
	}
	if err := prs.Merge(p.PullRequest.Number, git.Head(t, "org/gitops.git", p.Head)); err != nil {
		t.Fatal(err)
	}
	commit, merged, err := gitops.CheckMerge(context.Background(), prs, p.PullRequest)
	if err != nil || !merged || commit != git.Head(t, "org/gitops.git", p.Head) {
		t.Fatalf("CheckMerge = %q, %v, %v", commit, merged, err)
	}
	if !p.TargetCreated || git.Head(t, "org/gitops.git", "stage/production") == "" {
		t.Fatal("the review target was not created")
	}
}
