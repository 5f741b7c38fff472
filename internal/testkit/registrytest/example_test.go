package registrytest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

// A registry with one multi-arch image under three tags, listed two tags
// per page, and a listing that fails once with 429.
func Example() {
	reg, err := registrytest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Close()
	ctx := context.Background()

	sha := "0123456789abcdef0123456789abcdef01234567"
	digest, err := reg.PushIndex(ctx, "org/app", "git-"+sha, registrytest.IndexOptions{Revision: sha, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	if err := reg.TagMany(ctx, "org/app", digest, []string{"staging", "latest"}); err != nil {
		log.Fatal(err)
	}

	reg.ResetStats()
	repo, err := name.NewRepository(reg.Repo("org/app"))
	if err != nil {
		log.Fatal(err)
	}
	tags, err := remote.List(repo, remote.WithContext(ctx), remote.WithPageSize(2))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(tags), "tags in", reg.Stats()[registrytest.KindTags], "pages")

	reg.SetFault(func(r registrytest.Request) *registrytest.Fault {
		if r.Kind == registrytest.KindTags && r.N == 3 {
			return &registrytest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}
		}
		return nil
	})
	_, err = remote.List(repo, remote.WithContext(ctx), remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	fmt.Println("rate limited:", err != nil)
	// Output:
	// 3 tags in 2 pages
	// rate limited: true
}
