package demo_test

import (
	"context"
	"fmt"
	"os"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

func ExampleBuild() {
	dir, err := os.MkdirTemp("", "demo-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	w, err := demo.Build(dir, demo.Small, demo.DefaultSeed)
	if err != nil {
		panic(err)
	}
	fmt.Println("commits on", w.Branch+":", len(w.Commits))
	fmt.Println("newest commit has an image:", w.Lagging().HasImage)
	fmt.Println("late image is C3's:", w.Late().Commit == w.Commits[3].ID)
	fmt.Println("candidates:", len(w.Candidates()), "of", len(w.Tags), "tags")
	fmt.Println("deployments:", w.Deployments)
	// Output:
	// commits on main: 40
	// newest commit has an image: false
	// late image is C3's: true
	// candidates: 38 of 131 tags
	// deployments: [staging test levelbuilder production]
}

func ExampleServe() {
	dir, err := os.MkdirTemp("", "demo-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	w, err := demo.Build(dir, demo.Small, demo.DefaultSeed)
	if err != nil {
		panic(err)
	}
	s, err := demo.Serve(context.Background(), w)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	head, err := gittest.Git("", "ls-remote", s.MonorepoURL, "refs/heads/main")
	if err != nil {
		panic(err)
	}
	fmt.Println("served tip is the newest commit:", head[:40] == w.Commits[0].ID)
	fmt.Println("every tag has a digest:", len(s.Digests) == len(w.Tags))
	fmt.Println("staging points at C1's index:", s.Digests["staging"] == s.Digests["git-"+w.Commits[1].ID])
	// Output:
	// served tip is the newest commit: true
	// every tag has a digest: true
	// staging points at C1's index: true
}
