package registrytest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestPushIndex(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	ctx := t.Context()
	d, err := reg.PushIndex(ctx, "org/app", "git-"+sha, registrytest.IndexOptions{Revision: sha, Seed: 7})
	require.NoError(t, err)
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, d)

	desc, err := remote.Head(tagRef(t, reg, "org/app", "git-"+sha), remote.WithContext(ctx))
	require.NoError(t, err)
	assert.Equal(t, d, desc.Digest.String())
	assert.Equal(t, types.OCIImageIndex, desc.MediaType)

	idx, err := remote.Index(tagRef(t, reg, "org/app", "git-"+sha), remote.WithContext(ctx))
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	assert.Equal(t, sha, m.Annotations[registrytest.RevisionKey])
	require.Len(t, m.Manifests, 2)
	for i, arch := range []string{"amd64", "arm64"} {
		child := m.Manifests[i]
		require.NotNil(t, child.Platform)
		assert.Equal(t, "linux", child.Platform.OS)
		assert.Equal(t, arch, child.Platform.Architecture)
		img, err := idx.Image(child.Digest)
		require.NoError(t, err)
		cfg, err := img.ConfigFile()
		require.NoError(t, err)
		assert.Equal(t, arch, cfg.Architecture)
		assert.Equal(t, sha, cfg.Config.Labels[registrytest.RevisionKey])
		layers, err := img.Layers()
		require.NoError(t, err)
		assert.Len(t, layers, 1)
	}
	assert.NotEqual(t, m.Manifests[0].Digest, m.Manifests[1].Digest)
}

func TestPushIndexIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := registrytest.New(t), registrytest.New(t)
	ctx := t.Context()
	o := registrytest.IndexOptions{Revision: sha, Arches: []string{"amd64", "arm/v7"}, Seed: 3}
	da, err := a.PushIndex(ctx, "app", "x", o)
	require.NoError(t, err)
	db, err := b.PushIndex(ctx, "other", "y", o)
	require.NoError(t, err)
	assert.Equal(t, da, db, "same options, same digest, whatever registry or tag")

	seen := map[string]string{da: "base"}
	for name, o := range map[string]registrytest.IndexOptions{
		"seed":        {Revision: sha, Arches: []string{"amd64", "arm/v7"}, Seed: 4},
		"revision":    {Revision: "f" + sha[1:], Arches: []string{"amd64", "arm/v7"}, Seed: 3},
		"no revision": {Arches: []string{"amd64", "arm/v7"}, Seed: 3},
		"arches":      {Revision: sha, Seed: 3},
	} {
		d, err := a.PushIndex(ctx, "app", "x", o)
		require.NoError(t, err, name)
		assert.NotContains(t, seen, d, "%s must change the digest", name)
		seen[d] = name
	}

	idx, err := remote.Index(tagRef(t, b, "other", "y"), remote.WithContext(ctx))
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, m.Manifests, 2)
	assert.Equal(t, "arm", m.Manifests[1].Platform.Architecture)
	assert.Equal(t, "v7", m.Manifests[1].Platform.Variant)
}

func TestPushImage(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	ctx := t.Context()
	d1, err := reg.PushImage(ctx, "app", "git-"+sha+"-amd64", 1)
	require.NoError(t, err)
	d2, err := reg.PushImage(ctx, "app", "git-"+sha+"-arm64", 2)
	require.NoError(t, err)
	assert.NotEqual(t, d1, d2)
	desc, err := remote.Head(tagRef(t, reg, "app", "git-"+sha+"-amd64"), remote.WithContext(ctx))
	require.NoError(t, err)
	assert.Equal(t, d1, desc.Digest.String())
	assert.Equal(t, types.OCIManifestSchema1, desc.MediaType)
}

func TestTagMany(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	ctx := t.Context()
	d, err := reg.PushIndex(ctx, "app", "base", registrytest.IndexOptions{Seed: 1})
	require.NoError(t, err)
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf("git-%040x", i)
	}
	reg.ResetStats()
	require.NoError(t, reg.TagMany(ctx, "app", d, many))
	assert.Equal(t, int64(len(many)), reg.Stats()[registrytest.KindManifestPut], "one request per tag")

	got, err := remote.List(repoRef(t, reg, "app"), remote.WithContext(ctx), remote.WithPageSize(100))
	require.NoError(t, err)
	assert.Equal(t, append([]string{"base"}, many...), got, `"base" sorts before "git-"`)
	for _, tag := range []string{many[0], many[len(many)-1]} {
		desc, err := remote.Head(tagRef(t, reg, "app", tag), remote.WithContext(ctx))
		require.NoError(t, err)
		assert.Equal(t, d, desc.Digest.String())
	}

	require.NoError(t, reg.Tag(ctx, "app", d, "staging"))
	desc, err := remote.Head(tagRef(t, reg, "app", "staging"), remote.WithContext(ctx))
	require.NoError(t, err)
	assert.Equal(t, d, desc.Digest.String())
}

func TestPushErrors(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	ctx := t.Context()
	d, err := reg.PushImage(ctx, "app", "v1", 1)
	require.NoError(t, err)
	reg.ResetStats()

	_, err = reg.PushIndex(ctx, "app", "bad tag", registrytest.IndexOptions{})
	assert.Error(t, err)
	_, err = reg.PushIndex(ctx, "App", "v2", registrytest.IndexOptions{})
	assert.Error(t, err, "upper-case repository")
	_, err = reg.PushIndex(ctx, "app", "v2", registrytest.IndexOptions{Arches: []string{"/v7"}})
	assert.Error(t, err)
	_, err = reg.PushImage(ctx, "app", "-dash", 1)
	assert.Error(t, err)
	assert.Error(t, reg.TagMany(ctx, "app", d, []string{"ok", "not ok"}))
	assert.Error(t, reg.Tag(ctx, "app", "sha256:short", "v2"))
	for k, n := range reg.Stats() {
		assert.Zero(t, n, "invalid input must fail before any %s request", k)
	}

	err = reg.Tag(ctx, "app", "sha256:"+fmt.Sprintf("%064x", 1), "v2")
	assert.Error(t, err, "unknown digest")

	reg.SetFault(onKind(registrytest.KindManifestPut, registrytest.Fault{Status: http.StatusInternalServerError}))
	assert.Error(t, reg.TagMany(ctx, "app", d, []string{"a", "b"}))
}

func TestPushIndexes(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	ctx := t.Context()
	revisions := map[string]string{}
	for i := range 200 {
		rev := fmt.Sprintf("%040x", i)
		revisions["git-"+rev] = rev
	}
	reg.ResetStats()
	digests, err := reg.PushIndexes(ctx, "app", registrytest.IndexOptions{Seed: 5, Revision: "ignored"}, revisions)
	require.NoError(t, err)
	require.Len(t, digests, len(revisions))
	assert.Equal(t, int64(len(revisions)+3), reg.Stats()[registrytest.KindManifestPut],
		"two images and the base index once, then one PUT per tag")

	seen := map[string]bool{}
	for _, d := range digests {
		assert.False(t, seen[d], "digests must be distinct")
		seen[d] = true
	}
	var children []string
	for _, tag := range []string{"git-" + fmt.Sprintf("%040x", 0), "git-" + fmt.Sprintf("%040x", 199)} {
		ref := tagRef(t, reg, "app", tag)
		desc, err := remote.Head(ref, remote.WithContext(ctx))
		require.NoError(t, err)
		assert.Equal(t, digests[tag], desc.Digest.String())
		idx, err := remote.Index(ref, remote.WithContext(ctx))
		require.NoError(t, err)
		m, err := idx.IndexManifest()
		require.NoError(t, err)
		assert.Equal(t, revisions[tag], m.Annotations[registrytest.RevisionKey])
		require.Len(t, m.Manifests, 2)
		img, err := idx.Image(m.Manifests[1].Digest)
		require.NoError(t, err, "children are in the registry")
		cfg, err := img.ConfigFile()
		require.NoError(t, err)
		assert.Equal(t, "arm64", cfg.Architecture)
		children = append(children, m.Manifests[0].Digest.String())
	}
	assert.Equal(t, children[0], children[1], "indexes share their images")

	reg.ResetStats()
	_, err = reg.PushIndexes(ctx, "app", registrytest.IndexOptions{}, map[string]string{"ok": "a", "not ok": "b"})
	assert.Error(t, err)
	assert.Zero(t, reg.Stats()[registrytest.KindOther], "invalid tags fail before any request")
}
