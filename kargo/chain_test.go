package kargo_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	kargoapi "github.com/akuity/kargo/api/v1alpha1"

	"github.com/railyard-gitops/railyard/railyardtest/demoworld"
)

// chainTemplate is Kargo's built-in step chain for the same promotion
// (testdata/kargo-chain-template.yaml), cloning from the world's loopback
// URLs.
func chainTemplate(t testing.TB, w *demoworld.World) *kargoapi.PromotionTemplateSpec {
	t.Helper()
	// git-clone's create: true runs `git worktree add --orphan` (git 2.42);
	// for older git CLIs the stage branches are made here, empty.
	tree := gitTB(t, w.GitOpsDir, "hash-object", "-w", "-t", "tree", "/dev/null")
	root := gitTB(t, w.GitOpsDir, "commit-tree", tree, "-m", "Create the stage branch")
	for _, d := range w.Deployments {
		gitTB(t, w.GitOpsDir, "update-ref", "refs/heads/kargo/stage/"+d, root)
	}
	spec := loadTemplateFile(t, "testdata/kargo-chain-template.yaml")
	for i, v := range spec.Vars {
		switch v.Name {
		case "monorepoClone":
			spec.Vars[i].Value = w.LoopbackMonorepoURL
		case "gitopsClone":
			spec.Vars[i].Value = w.LoopbackGitOpsURL
		}
	}
	return spec
}

func gitTB(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := demoworld.Git(dir, args...)
	require.NoError(t, err)
	return out
}

// objects returns the Kubernetes objects under dir on branch, one YAML
// document each, sorted, with image references reduced to the repository
// (Kargo's kustomize-set-image takes a tag or a digest, so the chain pins
// repo@digest; railyard pins repo:tag@digest).
func objects(t *testing.T, gitopsDir, branch, dir string) []string {
	t.Helper()
	imageRef := regexp.MustCompile(`(image: [^\s:@]+(?::[0-9]+)?/[^\s:@]+)(:[^\s@]+)?(@sha256:[0-9a-f]{64})?`)
	var docs []string
	for _, name := range strings.Fields(git(t, gitopsDir, "ls-tree", "-r", "--name-only", branch, "--", dir)) {
		if !strings.HasSuffix(name, ".yaml") {
			continue // railyard's PROVENANCE
		}
		for _, doc := range strings.Split(git(t, gitopsDir, "show", branch+":"+name), "\n---\n") {
			doc = strings.TrimSpace(strings.TrimPrefix(doc, "---\n"))
			if doc != "" {
				docs = append(docs, imageRef.ReplaceAllString(doc, "$1"))
			}
		}
	}
	slices.Sort(docs)
	return docs
}

// railyard's step and Kargo's own seven-step chain, in the same engine over
// the same world, leave the same Kubernetes objects on the stage branches:
// railyard's in-memory render matches Kargo's kustomize-build on disk, with
// whichever kustomize this build links (the test runs on v0.20.1 and
// v0.21.2).
func TestKargoChainMatchesRailyard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e := newEnv(t)
	f := e.newFreight(e.world.Newest().ID)
	chain := chainTemplate(t, e.world)
	for _, d := range []string{"staging", "test", "levelbuilder"} {
		for _, spec := range []*kargoapi.PromotionTemplateSpec{nil, chain} {
			promo := e.newPromotion(d, f, spec)
			res, err := e.reconcile(ctx, promo, f)
			require.NoError(t, err, d)
			require.Equal(t, kargoapi.PromotionPhaseSucceeded, res.Status, "%s: %s", d, res.Message)
		}
		dir := "apps/codeai/deployments/" + d + "/deploy"
		ours := objects(t, e.world.GitOpsDir, "stage/"+d, dir)
		theirs := objects(t, e.world.GitOpsDir, "kargo/stage/"+d, dir)
		require.Len(t, ours, 7, d)
		assert.Equal(t, theirs, ours, d)
		_, digest := e.world.Image(f.Commits[0].ID)
		assert.Contains(t, git(t, e.world.GitOpsDir, "grep", "-h", "image:", "kargo/stage/"+d, "--", dir),
			demoworld.ImageRepo+"@"+digest, d)
	}
}
