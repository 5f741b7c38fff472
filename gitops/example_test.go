package gitops_test

import (
	"context"
	"fmt"
	"log"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

func ExampleRepo_Commit() {
	// A real git server on loopback with a GitOps repository whose main
	// branch holds the policy.
	srv, err := gittest.Start("")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	dir, err := srv.InitBare("gitops.git")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := gittest.CommitFiles(dir, "main", "policy", map[string]string{
		"apps/web/deployments/test/deployment.yaml": "envType: test\nbranch: stage/test\n",
	}); err != nil {
		log.Fatal(err)
	}

	repo, err := gitops.NewRepo(srv.RepoURL("gitops.git"), gitops.WithAuthor("Kargo", "kargo@example.com"))
	if err != nil {
		log.Fatal(err)
	}
	change := gitops.Change{
		Branch: "stage/test",
		Base:   "main", // stage/test does not exist yet: start it from main
		Dir:    "apps/web/deployments/test/deploy",
		Files: map[string][]byte{
			"deployment-test-web.yaml": []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: test-web\n"),
		},
		Message: "Promote web to test",
		Provenance: &gitops.Provenance{
			SourceRepo:   "https://github.com/example/monorepo",
			SourceCommit: "0123456789abcdef0123456789abcdef01234567",
			Images:       []string{"ghcr.io/example/web:git-0123456789abcdef0123456789abcdef01234567@sha256:" + fmt.Sprintf("%064d", 0)},
		},
	}
	ctx := context.Background()
	for range 2 {
		res, err := repo.Commit(ctx, change)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("changed=%v attempts=%d files=%v\n", res.Changed, res.Attempts, res.Files)
	}
	// Output:
	// changed=true attempts=1 files=[{PROVENANCE added} {deployment-test-web.yaml added}]
	// changed=false attempts=1 files=[]
}
