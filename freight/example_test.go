package freight_test

import (
	"fmt"
	"strings"

	"github.com/railyard-gitops/railyard/freight"
)

func ExampleMatches() {
	c := freight.Commit{ID: "0123456789abcdef0123456789abcdef01234567"}
	for _, tag := range []string{
		"git-0123456789abcdef0123456789abcdef01234567",
		"git-0123456789abcdef0123456789abcdef01234567-amd64",
		"git-0123456",
		"git-0123456789ABCDEF0123456789ABCDEF01234567",
		"staging",
	} {
		fmt.Println(freight.Matches(freight.Image{Tag: tag}, c))
	}
	// Output:
	// true
	// false
	// false
	// false
	// false
}

func ExamplePair() {
	id := func(n int) string { return fmt.Sprintf("%040x", n) }
	// The branch, newest first: commit 3 has no image yet (its build lags),
	// commit 1's image landed late, after commit 2's.
	commits := []freight.Commit{{ID: id(3)}, {ID: id(2)}, {ID: id(1)}}
	images := []freight.Image{
		{RepoURL: "ghcr.io/org/app", Tag: "git-" + id(2)},
		{RepoURL: "ghcr.io/org/app", Tag: "git-" + id(2) + "-arm64"},
		{RepoURL: "ghcr.io/org/app", Tag: "git-" + id(1)},
		{RepoURL: "ghcr.io/org/app", Tag: "staging"},
	}
	for _, f := range freight.Pair(images, commits) {
		fmt.Println(strings.TrimLeft(f.Commit.ID, "0"), f.Images[0].Tag == "git-"+f.Commit.ID)
	}
	// Output:
	// 2 true
	// 1 true
}

func ExampleKargoID() {
	sha := "0123456789abcdef0123456789abcdef01234567"
	f := freight.Freight{
		Commit: freight.Commit{RepoURL: "https://github.com/code-dot-org/code-dot-org.git", ID: sha},
		Images: []freight.Image{{
			RepoURL: "ghcr.io/code-dot-org/code-dot-org",
			Tag:     "git-" + sha,
			Digest:  "sha256:" + strings.Repeat("a", 64),
		}},
	}
	// Kargo normalizes the git URL, so both spellings name the same Freight.
	id := freight.KargoID("codeai", f)
	f.Commit.RepoURL = "https://github.com/code-dot-org/code-dot-org"
	fmt.Println(len(id), id == freight.KargoID("codeai", f))
	// Output:
	// 40 true
}

func ExampleCriteriaExpression() {
	fmt.Println(freight.CriteriaExpression(
		[]string{"ghcr.io/org/app"}, "https://github.com/org/monorepo.git"))
	// Output:
	// imageFrom('ghcr.io/org/app').Tag == 'git-' + commitFrom('https://github.com/org/monorepo.git').ID
}

func ExampleWarehouseYAML() {
	y, err := freight.WarehouseYAML(freight.KargoWarehouse{
		Name: "app", Project: "org",
		GitURL: "https://github.com/org/monorepo.git", Branch: "main",
		ImageRepos: []string{"ghcr.io/org/app"},
		Manual:     true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(y))
	// Output:
	// apiVersion: kargo.akuity.io/v1alpha1
	// kind: Warehouse
	// metadata:
	//   name: app
	//   namespace: org
	// spec:
	//   interval: 5m0s
	//   freightCreationPolicy: Manual
	//   subscriptions:
	//     - git:
	//         repoURL: https://github.com/org/monorepo.git
	//         branch: main
	//         commitSelectionStrategy: NewestFromBranch
	//         discoveryLimit: 20
	//     - image:
	//         repoURL: ghcr.io/org/app
	//         imageSelectionStrategy: NewestBuild
	//         allowTagsRegexes:
	//           - ^git-[0-9a-f]{40}$
	//         ignoreTagsRegexes:
	//           - ^git-[0-9a-f]{40}-.+$
	//         discoveryLimit: 20
}
