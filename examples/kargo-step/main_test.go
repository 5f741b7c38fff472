package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// The program: every deployment of the demo world promoted by the step,
// production through a pull request that is merged.
func TestKargoStepDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, nil))
	for _, d := range []string{"staging", "test", "levelbuilder"} {
		assert.Regexp(t, `(?m)^`+d+` +stage/`+d+` +changed=true +commit=[0-9a-f]{12}$`, out.String())
	}
	assert.Regexp(t, `(?m)^production +railyard/stage/production/[0-9a-f]{40} +changed=true +commit= pr=#1 merged=[0-9a-f]{12}$`, out.String())
}

// Kargo retries and re-runs promotions: the same config twice must leave
// the branches as the first run left them, and open no second pull request.
func TestStepRunTwice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, step, configs, err := startDemo(ctx)
	require.NoError(t, err)
	defer s.Close()

	for _, cfg := range configs {
		first, err := step.Run(ctx, cfg)
		require.NoError(t, err, cfg.Deployment)
		assert.True(t, first.Changed, cfg.Deployment)
		second, err := step.Run(ctx, cfg)
		require.NoError(t, err, cfg.Deployment)
		assert.False(t, second.Changed, cfg.Deployment)
		assert.Nil(t, second.PR, "%s: nothing to review the second time", cfg.Deployment)
		if cfg.Review {
			require.NotNil(t, first.PR)
			assert.NotEmpty(t, first.MergeCommit)
		} else {
			assert.Equal(t, first.Commit, second.Commit, cfg.Deployment)
		}

		// The stage branch holds the render with the promoted image, pinned
		// by digest, in the deployment's namespace (the git CLI as oracle).
		branch := "stage/" + cfg.Deployment
		dir := "apps/codeai/deployments/" + cfg.Deployment + "/deploy/"
		files := gittest.MustGit(t, s.GitOpsDir, "ls-tree", "-r", "--name-only", branch, dir)
		assert.Contains(t, files, "PROVENANCE")
		all := gittest.MustGit(t, s.GitOpsDir, "grep", "-h", "image:", branch, "--", dir)
		assert.Contains(t, all, cfg.Image.RepoURL+":"+cfg.Image.Tag+"@"+cfg.Image.Digest, cfg.Deployment)
		ns := gittest.MustGit(t, s.GitOpsDir, "grep", "-h", "namespace:", branch, "--", dir)
		assert.Contains(t, ns, "codeai-"+cfg.Deployment, cfg.Deployment)
	}
}

// Invalid configurations are refused before any I/O: the step has no
// client and the URLs point nowhere.
func TestConfigValidate(t *testing.T) {
	good := Config{
		RepoURL: "https://example.invalid/m.git", Commit: strings.Repeat("a", 40), Paths: []string{"k8s/kustomize/base"},
		Image:         Image{Name: "app", RepoURL: "ghcr.io/o/app", Tag: "git-" + strings.Repeat("a", 40), Digest: "sha256:" + strings.Repeat("0", 64)},
		GitOpsRepoURL: "https://example.invalid/g.git", App: "codeai", Deployment: "test",
	}
	require.NoError(t, good.Validate())
	for name, edit := range map[string]func(*Config){
		"no repoURL":         func(c *Config) { c.RepoURL = "" },
		"file URL":           func(c *Config) { c.GitOpsRepoURL = "file:///etc" },
		"short commit":       func(c *Config) { c.Commit = "aaaaaaa" },
		"upper commit":       func(c *Config) { c.Commit = strings.Repeat("A", 40) },
		"no paths":           func(c *Config) { c.Paths = nil },
		"escaping path":      func(c *Config) { c.Paths = []string{"../etc"} },
		"absolute path":      func(c *Config) { c.Paths = []string{"/k8s"} },
		"tag of another sha": func(c *Config) { c.Image.Tag = "git-" + strings.Repeat("b", 40) },
		"arch tag":           func(c *Config) { c.Image.Tag += "-amd64" },
		"no digest":          func(c *Config) { c.Image.Digest = "" },
		"no image name":      func(c *Config) { c.Image.Name = "" },
		"nested deployment":  func(c *Config) { c.Deployment = "a/b" },
		"dot app":            func(c *Config) { c.App = ".." },
		"wait without PR":    func(c *Config) { c.WaitForMerge = true },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := good
			cfg.Paths = append([]string(nil), good.Paths...)
			edit(&cfg)
			_, err := (&Step{}).Run(context.Background(), cfg)
			assert.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
	review := good
	review.Review = true
	_, err := (&Step{}).Run(context.Background(), review)
	assert.ErrorIs(t, err, ErrInvalidConfig, "review without a forge")
	assert.Error(t, run(context.Background(), &bytes.Buffer{}, []string{"extra"}))
}
