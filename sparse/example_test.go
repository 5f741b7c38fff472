package sparse_test

import (
	"context"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/sparse"
)

func ExampleFetch() {
	// A real git server on loopback, serving a small monorepo.
	srv, err := gittest.Start("")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	dir, err := srv.InitBare("monorepo.git")
	if err != nil {
		log.Fatal(err)
	}
	commit, err := gittest.CommitFiles(dir, "main", "deploy v1", map[string]string{
		"k8s/kustomize/base/kustomization.yaml":     "resources:\n- deployment.yaml\n",
		"k8s/kustomize/base/deployment.yaml":        "kind: Deployment\n",
		"k8s/kustomize-old/base/kustomization.yaml": "old\n",
		"apps/dashboard/main.go":                    "package main\n",
	})
	if err != nil {
		log.Fatal(err)
	}

	co, err := sparse.Fetch(context.Background(), sparse.Request{
		URL:    srv.RepoURL("monorepo.git"),
		Commit: commit,
		Paths:  []string{"k8s/kustomize"},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = fs.WalkDir(co.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fmt.Println(p)
		}
		return err
	})
	fmt.Println(co.Commit == commit, co.Stats.Strategy)
	// Output:
	// k8s/kustomize/base/deployment.yaml
	// k8s/kustomize/base/kustomization.yaml
	// true path-walk
}

func ExampleCheckout_WriteTo() {
	srv, err := gittest.Start("")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	dir, err := srv.InitBare("monorepo.git")
	if err != nil {
		log.Fatal(err)
	}
	commit, err := gittest.CommitTree(dir, "main", "deploy", []gittest.File{
		{Path: "k8s/kustomize/base/kustomization.yaml", Data: "resources: []\n"},
		{Path: "k8s/kustomize/bin/render", Data: "#!/bin/sh\n", Mode: "100755"},
	})
	if err != nil {
		log.Fatal(err)
	}
	co, err := sparse.Fetch(context.Background(), sparse.Request{
		URL: srv.RepoURL("monorepo.git"), Commit: commit, Paths: []string{"k8s/kustomize"},
	})
	if err != nil {
		log.Fatal(err)
	}

	tmp, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "deploy") // created atomically, complete or not at all
	if err := co.WriteTo(out); err != nil {
		log.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(out, "k8s/kustomize/bin/render"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Mode().Perm()&0o100 != 0)
	// Output: true
}

func ExampleResolve() {
	srv, err := gittest.Start("")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	dir, err := srv.InitBare("gitops.git")
	if err != nil {
		log.Fatal(err)
	}
	tip, err := gittest.CommitFiles(dir, "main", "policy", map[string]string{"apps/app/deployments/test/deployment.yaml": "envType: test\n"})
	if err != nil {
		log.Fatal(err)
	}

	// Pin the moving branch once, then fetch that exact commit.
	id, err := sparse.Resolve(context.Background(), srv.RepoURL("gitops.git"), "main")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id == tip)
	// Output: true
}
