package demo_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// small is one small world shared by the read-only tests.
var small = sync.OnceValues(func() (*demo.World, error) {
	dir, err := os.MkdirTemp("", "demo-test-")
	if err != nil {
		return nil, err
	}
	return demo.Build(dir, demo.Small, demo.DefaultSeed)
})

func TestMain(m *testing.M) {
	code := m.Run()
	if w, err := small(); err == nil {
		_ = os.RemoveAll(w.Dir)
	}
	os.Exit(code)
}

func smallWorld(t *testing.T) *demo.World {
	t.Helper()
	w, err := small()
	require.NoError(t, err)
	return w
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return gittest.MustGit(t, dir, args...)
}

func TestBuildIsDeterministic(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	start := time.Now()
	again, err := demo.Build(t.TempDir(), demo.Small, demo.DefaultSeed)
	require.NoError(t, err)
	t.Logf("small world: %v (%d files, %d bytes at the tip, %d commits)", time.Since(start),
		again.Stats.Files, again.Stats.TipBytes, again.Stats.Commits)
	assert.Equal(t, w.Commits, again.Commits)
	assert.Equal(t, w.OffBranch, again.OffBranch)
	assert.Equal(t, w.Tags, again.Tags)
	assert.Equal(t, w.PolicyCommit, again.PolicyCommit)
	assert.Equal(t, w.Legacy, again.Legacy)

	other, err := demo.Build(t.TempDir(), demo.Small, demo.DefaultSeed+1)
	require.NoError(t, err)
	assert.NotEqual(t, w.Commits[0].ID, other.Commits[0].ID, "another seed gives another world")
}

func TestBuildReusesFinishedWorld(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := demo.Build(dir, demo.Small, 7)
	require.NoError(t, err)
	marker, err := os.Stat(filepath.Join(dir, "demo-world.json"))
	require.NoError(t, err)

	again, err := demo.Build(dir, demo.Small, 7)
	require.NoError(t, err)
	assert.Equal(t, w, again)
	after, err := os.Stat(filepath.Join(dir, "demo-world.json"))
	require.NoError(t, err)
	assert.Equal(t, marker.ModTime(), after.ModTime(), "a finished world is reused, not rebuilt")

	// Another seed in the same directory replaces the world.
	other, err := demo.Build(dir, demo.Small, 8)
	require.NoError(t, err)
	assert.NotEqual(t, w.Commits[0].ID, other.Commits[0].ID)
	assert.Equal(t, other.Commits[0].ID, git(t, other.MonorepoDir, "rev-parse", "main"))
}

func TestBuildRejectsUnknownPreset(t *testing.T) {
	t.Parallel()
	_, err := demo.Build(t.TempDir(), demo.Preset("huge"), 1)
	assert.ErrorContains(t, err, `unknown preset "huge"`)
}

func TestMonorepoLayout(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	assert.Equal(t, filepath.Join(w.Dir, "monorepo.git"), w.MonorepoDir)
	assert.Equal(t, filepath.Join(w.Dir, "gitops.git"), w.GitOpsDir)
	assert.Equal(t, "main", w.Branch)
	assert.Equal(t, "codeai", w.App)
	assert.Equal(t, []string{"staging", "test", "levelbuilder", "production"}, w.Deployments)
	assert.Equal(t, "code-dot-org/code-dot-org", w.ImageRepo)

	modes := map[string]string{}
	for _, line := range strings.Split(git(t, w.MonorepoDir, "ls-tree", "-r", "main"), "\n") {
		meta, p, _ := strings.Cut(line, "\t")
		modes[p] = strings.Fields(meta)[0]
	}
	assert.Len(t, modes, w.Stats.Files)
	for _, p := range []string{
		"k8s/kustomize/base/kustomization.yaml", "k8s/kustomize/base/deployment.yaml",
		"k8s/kustomize/base/service.yaml", "k8s/kustomize/base/ingress.yaml",
		"k8s/kustomize/base/cronjob.yaml", "k8s/kustomize/base/cdo-locals.yml",
		"k8s/kustomize/components/newrelic/kustomization.yaml",
		"k8s/kustomize/components/maintenance-page/kustomization.yaml",
		"k8s/kustomize/overlays/local/kustomization.yaml",
		"k8s/kustomize-old/base/kustomization.yaml",
	} {
		assert.Equal(t, "100644", modes[p], p)
	}
	assert.Equal(t, "100755", modes["k8s/bin/render-local"])
	assert.Equal(t, "100755", modes["k8s/bin/kustomize-diff"])
	assert.Equal(t, "120000", modes["k8s/bin/deploy"], "a symlink pointing out of k8s/")
	assert.Equal(t, "../../bin/cdo-deploy", git(t, w.MonorepoDir, "cat-file", "blob", "main:k8s/bin/deploy"))
	assert.Equal(t, "100755", modes["bin/cdo-deploy"], "the symlink's target")
	for _, top := range []string{"dashboard/", "apps/", "pegasus/", "lib/"} {
		n := 0
		for p := range modes {
			if strings.HasPrefix(p, top) {
				n++
			}
		}
		assert.Positive(t, n, "bulk content under %s", top)
	}

	deploy := git(t, w.MonorepoDir, "show", "main:k8s/kustomize/base/deployment.yaml")
	assert.Contains(t, deploy, "name: cdo-dashboard")
	assert.Contains(t, deploy, "- name: dashboard\n        image: code-dot-org\n")
	assert.Contains(t, git(t, w.MonorepoDir, "show", "main:k8s/kustomize/base/kustomization.yaml"), "- cdo-locals.yml")
}

func TestCommitsMatchHistory(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	require.Len(t, w.Commits, 40)
	log := strings.Split(git(t, w.MonorepoDir, "log", "--format=%H%x00%s%x00%an%x00%ae%x00%at", "main"), "\n")
	require.Len(t, log, len(w.Commits))
	var deploy, app int
	for i, c := range w.Commits {
		f := strings.Split(log[i], "\x00")
		sec, err := strconv.ParseInt(f[4], 10, 64)
		require.NoError(t, err)
		assert.Equal(t, []string{c.ID, c.Subject, c.Author, c.Email}, f[:4])
		assert.True(t, c.Time.Equal(time.Unix(sec, 0)), c.ID)
		if i == len(w.Commits)-1 {
			assert.True(t, c.DeployChanged, "the root commit adds the deploy package")
			continue
		}
		changed := git(t, w.MonorepoDir, "rev-parse", c.ID+":k8s/kustomize") != git(t, w.MonorepoDir, "rev-parse", c.ID+"~:k8s/kustomize")
		assert.Equal(t, changed, c.DeployChanged, "commit %d %s", i, c.Subject)
		paths := strings.Fields(git(t, w.MonorepoDir, "diff-tree", "--no-commit-id", "-r", "--name-only", c.ID))
		assert.ElementsMatch(t, paths, c.Paths, c.ID)
		if c.DeployChanged {
			deploy++
		} else {
			app++
		}
	}
	assert.GreaterOrEqual(t, deploy, 2, "some commits change the deploy package")
	assert.GreaterOrEqual(t, app, 10, "most commits do not")

	assert.False(t, w.Commits[0].DeployChanged)
	assert.True(t, w.Commits[1].DeployChanged)
	assert.Equal(t, []string{"k8s/kustomize-old/base/replicas.yaml"}, w.Commits[2].Paths,
		"C2 touches only the sibling decoy directory")

	require.Len(t, w.OffBranch, 2)
	assert.Equal(t, w.OffBranch[0].ID, git(t, w.MonorepoDir, "rev-parse", "refs/heads/"+demo.FeatureBranch))
	assert.Equal(t, w.Commits[8].ID, git(t, w.MonorepoDir, "merge-base", "main", demo.FeatureBranch))
}

func TestTags(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	kinds := map[string]int{}
	names := map[string]bool{}
	for i, tag := range w.Tags {
		kinds[tag.Decoy]++
		assert.False(t, names[tag.Name], "duplicate tag %s", tag.Name)
		names[tag.Name] = true
		if i > 0 {
			assert.False(t, tag.Built.Before(w.Tags[i-1].Built), "tags are in build order")
		}
	}
	for _, k := range []string{"", demo.DecoyArch, demo.DecoyShort, demo.DecoyUpper, demo.DecoyAlias, demo.DecoyOffBranch} {
		assert.Positive(t, kinds[k], "tags of kind %q", k)
	}
	assert.ElementsMatch(t, []string{"staging", "latest"}, tagNames(w.Decoys(demo.DecoyAlias)))

	lag := w.Lagging()
	assert.Equal(t, w.Commits[0], lag)
	assert.False(t, lag.HasImage, "the newest commit has no image yet")
	assert.False(t, names["git-"+lag.ID])

	var withImage []string
	for _, c := range w.Commits {
		if c.HasImage {
			withImage = append(withImage, "git-"+c.ID)
		}
	}
	assert.Less(t, len(withImage), len(w.Commits)-1, "not every older commit has an image")
	assert.Equal(t, withImage, tagNames(w.Candidates()), "candidates, newest commit first")
	for _, c := range w.Candidates() {
		assert.Equal(t, "git-"+c.Commit, c.Name)
		assert.Equal(t, demo.Arches, c.Arches)
		assert.True(t, names[c.Name+"-amd64"] && names[c.Name+"-arm64"], "per-arch tags of %s", c.Name)
	}

	late := w.Late()
	assert.Equal(t, "git-"+w.Commits[3].ID, late.Name)
	assert.Equal(t, late.Built, w.Tags[len(w.Tags)-1].Built, "the late image is the newest build")
	for _, tag := range w.Candidates() {
		assert.False(t, tag.Built.After(late.Built))
	}

	offBranch := w.Decoys(demo.DecoyOffBranch)
	require.Len(t, offBranch, 2)
	for _, tag := range offBranch {
		_, onBranch := w.Commit(tag.Commit)
		assert.False(t, onBranch)
	}
	assert.Contains(t, tagNames(offBranch), "git-"+w.OffBranch[0].ID)
}

func tagNames(tags []demo.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, t.Name)
	}
	return out
}

func TestGitOpsRepo(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	assert.Equal(t, w.PolicyCommit, git(t, w.GitOpsDir, "rev-parse", "main"))
	show := func(p string) []byte { return []byte(git(t, w.GitOpsDir, "show", "main:"+p)) }
	for _, d := range w.Deployments {
		var dep struct{ EnvType, Namespace, Branch string }
		require.NoError(t, yaml.UnmarshalStrict(show("apps/codeai/deployments/"+d+"/deployment.yaml"), &dep), d)
		assert.Equal(t, struct{ EnvType, Namespace, Branch string }{d, "codeai-" + d, "stage/" + d}, dep)

		var comp struct {
			Kind       string
			NamePrefix string `json:"namePrefix"`
			Labels     []struct {
				Pairs            map[string]string
				IncludeSelectors bool `json:"includeSelectors"`
			}
			Resources, Components []string
			Patches               []map[string]any
		}
		require.NoError(t, yaml.Unmarshal(show("apps/codeai/envTypes/"+d+"/kustomization.yaml"), &comp), d)
		assert.Equal(t, "Component", comp.Kind)
		assert.Equal(t, d+"-", comp.NamePrefix)
		require.Len(t, comp.Labels, 1)
		assert.True(t, comp.Labels[0].IncludeSelectors)
		assert.NotEmpty(t, comp.Resources)
		assert.Len(t, comp.Patches, 3)
		if d == "production" {
			assert.Equal(t, []string{"../components/autoscaling"}, comp.Components)
		} else {
			assert.Empty(t, comp.Components)
		}
	}
	assert.Contains(t, string(show("apps/codeai/envTypes/components/autoscaling/hpa.yaml")), "kind: HorizontalPodAutoscaler")
	var tmpl map[string]any
	require.NoError(t, yaml.Unmarshal(show("apps/codeai/kargo/templates/deploy/kustomization.yaml"), &tmpl))
	assert.Equal(t, []any{}, tmpl["resources"])
	assert.Equal(t, []any{}, tmpl["components"])

	for _, d := range w.Deployments {
		require.NotEmpty(t, w.Legacy[d], d)
		for _, id := range w.Legacy[d] {
			var rec struct{ Revision, Tag, MergedAt string }
			p := "warehouses/codeai/legacy-gitflow/" + d + "/merged/git-" + id + ".yaml"
			require.NoError(t, yaml.UnmarshalStrict(show(p), &rec), p)
			assert.Equal(t, id, rec.Revision)
			assert.Equal(t, "git-"+id, rec.Tag)
			_, err := time.Parse(time.RFC3339, rec.MergedAt)
			assert.NoError(t, err)
		}
	}
	assert.Less(t, len(w.Legacy["production"]), len(w.Legacy["staging"]), "production only for some commits")
	assert.Equal(t, w.Commits[1].ID, w.Legacy["staging"][0], "the newest commit with an image is recorded")
	assert.NotContains(t, w.Legacy["production"], w.Commits[1].ID)
}

func TestServe(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	ctx := context.Background()
	start := time.Now()
	s, err := demo.Serve(ctx, w)
	require.NoError(t, err)
	defer s.Close()
	t.Logf("serve small: %v", time.Since(start))

	clone := filepath.Join(t.TempDir(), "monorepo")
	git(t, "", "clone", "--quiet", "--no-checkout", s.MonorepoURL, clone)
	assert.Equal(t, w.Commits[0].ID, git(t, clone, "rev-parse", "HEAD"))
	gitops := filepath.Join(t.TempDir(), "gitops")
	git(t, "", "clone", "--quiet", s.GitOpsURL, gitops)
	assert.FileExists(t, filepath.Join(gitops, "apps/codeai/deployments/production/deployment.yaml"))

	// Pushes land in the served copy only.
	git(t, gitops, "push", "--quiet", "origin", "HEAD:refs/heads/stage/test")
	assert.Equal(t, w.PolicyCommit, git(t, s.GitOpsDir, "rev-parse", "stage/test"))
	_, err = gittest.Git(w.GitOpsDir, "rev-parse", "--verify", "--quiet", "stage/test")
	assert.Error(t, err, "the world's own repository is untouched")

	repo, err := name.NewRepository(s.ImageRepo, name.Insecure)
	require.NoError(t, err)
	assert.Equal(t, s.Registry.Host+"/code-dot-org/code-dot-org", s.ImageRepo)
	tags, err := remote.List(repo, remote.WithContext(ctx))
	require.NoError(t, err)
	assert.ElementsMatch(t, tagNames(w.Tags), tags)
	assert.Len(t, s.Digests, len(w.Tags))

	for _, tag := range append(w.Candidates(), w.Decoys(demo.DecoyAlias)...) {
		idx, err := remote.Index(repo.Tag(tag.Name), remote.WithContext(ctx))
		require.NoError(t, err, tag.Name)
		d, err := idx.Digest()
		require.NoError(t, err)
		assert.Equal(t, s.Digests[tag.Name], d.String(), tag.Name)
		m, err := idx.IndexManifest()
		require.NoError(t, err)
		assert.Equal(t, tag.Commit, m.Annotations["org.opencontainers.image.revision"], tag.Name)
		var arches []string
		for _, desc := range m.Manifests {
			arches = append(arches, desc.Platform.Architecture)
			assert.Equal(t, desc.Digest.String(), s.Digests["git-"+tag.Commit+"-"+desc.Platform.Architecture], "per-arch tag of %s", tag.Name)
		}
		if tag.Decoy == "" {
			assert.Equal(t, demo.Arches, arches)
		}
	}
	assert.Equal(t, s.Digests["git-"+w.Late().Commit], s.Digests["latest"])
	assert.Equal(t, s.Digests["git-"+w.Commits[1].ID], s.Digests["staging"])
	img, err := remote.Image(repo.Tag("git-"+w.Commits[1].ID), remote.WithContext(ctx),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "arm64"}))
	require.NoError(t, err)
	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "arm64", cfg.Architecture)
	assert.Equal(t, w.Commits[1].ID, cfg.Config.Labels["org.opencontainers.image.revision"])

	s.Close()
	s.Close()
	_, err = os.Stat(s.MonorepoDir)
	assert.True(t, os.IsNotExist(err), "Close removes the served copies")
	assert.True(t, slices.Contains(tags, "git-"+w.Commits[1].ID))
}
