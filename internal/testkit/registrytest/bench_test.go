package registrytest_test

import (
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

// manyTags returns n distinct git-<sha> style tags.
func manyTags(n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("git-%040x", i)
	}
	return tags
}

// BenchmarkTagMany10k measures filling a repository with 10,000 tags, the
// size of the benchmark fixtures.
func BenchmarkTagMany10k(b *testing.B) {
	reg := registrytest.New(b)
	d, err := reg.PushIndex(b.Context(), "app", "base", registrytest.IndexOptions{Seed: 1})
	require.NoError(b, err)
	tags := manyTags(10_000)
	for b.Loop() {
		require.NoError(b, reg.TagMany(b.Context(), "app", d, tags))
	}
}

// BenchmarkList10k measures a paged listing (100 per page) of 10,000 tags:
// the server's share of a discovery benchmark.
func BenchmarkList10k(b *testing.B) {
	reg := registrytest.New(b)
	d, err := reg.PushIndex(b.Context(), "app", "base", registrytest.IndexOptions{Seed: 1})
	require.NoError(b, err)
	require.NoError(b, reg.TagMany(b.Context(), "app", d, manyTags(10_000)))
	repo := repoRef(b, reg, "app")
	for b.Loop() {
		tags, err := remote.List(repo, remote.WithContext(b.Context()), remote.WithPageSize(100))
		require.NoError(b, err)
		require.Len(b, tags, 10_001)
	}
}

// BenchmarkPushIndexes10k measures pushing 10,000 distinct git-<sha>
// indexes.
func BenchmarkPushIndexes10k(b *testing.B) {
	reg := registrytest.New(b)
	revisions := map[string]string{}
	for i := range 10_000 {
		rev := fmt.Sprintf("%040x", i)
		revisions["git-"+rev] = rev
	}
	for b.Loop() {
		_, err := reg.PushIndexes(b.Context(), "app", registrytest.IndexOptions{Seed: 1}, revisions)
		require.NoError(b, err)
	}
}

// BenchmarkPushIndex measures one full multi-arch push.
func BenchmarkPushIndex(b *testing.B) {
	reg := registrytest.New(b)
	var seed int64
	for b.Loop() {
		seed++
		_, err := reg.PushIndex(b.Context(), "app", "x", registrytest.IndexOptions{Seed: seed})
		require.NoError(b, err)
	}
}
