package freight

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// id returns a deterministic 40-hex commit id for n.
func id(n int) string { return fmt.Sprintf("%040x", n+0xc0ffee) }

func img(repo, tag string) Image { return Image{RepoURL: repo, Tag: tag} }

func commits(ns ...int) []Commit {
	out := make([]Commit, 0, len(ns))
	for _, n := range ns {
		out = append(out, Commit{RepoURL: "https://git.example/mono.git", ID: id(n)})
	}
	return out
}

func TestMatches(t *testing.T) {
	t.Parallel()
	c := Commit{ID: sha1ID}
	for _, tc := range tagCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := tc.wantSHA1 == sha1ID
			assert.Equal(t, want, Matches(Image{Tag: tc.tag}, c))
		})
	}
	cases := []struct {
		name string
		img  Image
		c    Commit
		want bool
	}{
		{"sha256 pair", Image{Tag: "git-" + sha256ID}, Commit{ID: sha256ID}, true},
		{"short commit id", Image{Tag: "git-0123456"}, Commit{ID: "0123456"}, false},
		{"upper commit id", Image{Tag: "git-" + strings.ToUpper(sha1ID)}, Commit{ID: strings.ToUpper(sha1ID)}, false},
		{"empty commit id", Image{Tag: "git-"}, Commit{}, false},
		{"decorated commit id", Image{Tag: "git-" + sha1ID + "-amd64"}, Commit{ID: sha1ID + "-amd64"}, false},
		{"other commit", Image{Tag: "git-" + id(1)}, Commit{ID: id(2)}, false},
		{"repo and digest ignored", Image{RepoURL: "x", Tag: "git-" + sha1ID, Digest: "sha256:00"}, Commit{RepoURL: "y", ID: sha1ID}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, Matches(tc.img, tc.c))
		})
	}
}

func TestPair(t *testing.T) {
	t.Parallel()
	const app, static = "ghcr.io/org/app", "ghcr.io/org/static"
	tag := func(n int) string { return "git-" + id(n) }
	cases := []struct {
		name    string
		images  []Image
		commits []Commit
		want    []int // commit numbers of the Freight, in order
	}{
		{"nothing", nil, nil, nil},
		{"no images", nil, commits(3, 2, 1), nil},
		{"no commits", []Image{img(app, tag(1))}, nil, nil},
		{"all paired, newest first", []Image{img(app, tag(1)), img(app, tag(3)), img(app, tag(2))}, commits(3, 2, 1), []int{3, 2, 1}},
		{"lagging build", []Image{img(app, tag(2)), img(app, tag(1))}, commits(3, 2, 1), []int{2, 1}},
		{"late image for an older commit", []Image{img(app, tag(3)), img(app, tag(1))}, commits(3, 2, 1), []int{3, 1}},
		{"image for a commit not on the branch", []Image{img(app, tag(9))}, commits(3, 2, 1), nil},
		{"decoys only", []Image{img(app, "git-"+id(3)[:7]), img(app, tag(3)+"-amd64"), img(app, "staging"), img(app, "git-"+strings.ToUpper(id(3)))}, commits(3), nil},
		{"decoys beside the real tag", []Image{img(app, tag(3)+"-arm64"), img(app, tag(3)), img(app, "latest")}, commits(3), []int{3}},
		{"duplicate commit pairs once", []Image{img(app, tag(3))}, commits(3, 3), []int{3}},
		{"duplicate image kept once", []Image{img(app, tag(3)), img(app, tag(3))}, commits(3), []int{3}},
		{"two repos, both built", []Image{img(app, tag(2)), img(static, tag(2))}, commits(2), []int{2}},
		{"two repos, one missing", []Image{img(app, tag(3)), img(app, tag(2)), img(static, tag(2))}, commits(3, 2), []int{2}},
		{"invalid commit id skipped", []Image{img(app, "git-abc")}, []Commit{{ID: "abc"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Pair(tc.images, tc.commits)
			var ids []int
			for _, f := range got {
				assert.Empty(t, f.ID)
				assert.Empty(t, f.Origin)
				assert.Equal(t, repositories(tc.images), reposOf(f.Images), "one image per repository, sorted")
				for _, im := range f.Images {
					assert.True(t, Matches(im, f.Commit))
				}
				for n := 0; n < 20; n++ {
					if f.Commit.ID == id(n) {
						ids = append(ids, n)
					}
				}
			}
			assert.Equal(t, tc.want, ids)
			assert.Equal(t, got, Pair(tc.images, tc.commits), "deterministic")
		})
	}
}

func reposOf(images []Image) []string {
	out := make([]string, 0, len(images))
	for _, im := range images {
		out = append(out, im.RepoURL)
	}
	return out
}

// kargoNewestVsNewest is what Kargo's freightCreationCriteria
// (imageFrom(IMG).Tag == 'git-' + commitFrom(GIT).ID) decides: with the
// NewestBuild strategy it sees only the most recently built image and the
// branch tip, and creates Freight only when those two match.
func kargoNewestVsNewest(builds []Image, commits []Commit) []Freight {
	if len(builds) == 0 || len(commits) == 0 {
		return nil
	}
	newest := builds[len(builds)-1]
	if newest.Tag != "git-"+commits[0].ID {
		return nil
	}
	return []Freight{{Commit: commits[0], Images: []Image{newest}}}
}

// TestPairVersusKargoNewestVsNewest is the reason railyard exists: in the
// lagging-build and late-image cases, Kargo's criteria find no Freight (or
// miss one) while Pair pairs every commit that has its image.
func TestPairVersusKargoNewestVsNewest(t *testing.T) {
	t.Parallel()
	const app = "ghcr.io/org/app"
	tag := func(n int) string { return "git-" + id(n) }
	cases := []struct {
		name           string
		builds         []Image // in build order, oldest first
		commits        []Commit
		kargo, railway []int
	}{
		{"in step", []Image{img(app, tag(1)), img(app, tag(2))}, commits(2, 1), []int{2}, []int{2, 1}},
		{"build lags one commit", []Image{img(app, tag(1)), img(app, tag(2))}, commits(3, 2, 1), nil, []int{2, 1}},
		{"older commit's image lands late", []Image{img(app, tag(3)), img(app, tag(1))}, commits(3, 2, 1), nil, []int{3, 1}},
		{"arch tag pushed last", []Image{img(app, tag(3)), img(app, tag(3)+"-arm64")}, commits(3), nil, []int{3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			number := func(fs []Freight) []int {
				var out []int
				for _, f := range fs {
					for n := 0; n < 10; n++ {
						if id(n) == f.Commit.ID {
							out = append(out, n)
						}
					}
				}
				return out
			}
			assert.Equal(t, tc.kargo, number(kargoNewestVsNewest(tc.builds, tc.commits)), "kargo")
			assert.Equal(t, tc.railway, number(Pair(tc.builds, tc.commits)), "railyard")
		})
	}
}

// FuzzMatches checks the predicate on arbitrary tags and ids: no panics,
// agreement with TagForCommit, and no match without a full id.
func FuzzMatches(f *testing.F) {
	for _, tc := range tagCases {
		f.Add(tc.tag, sha1ID)
	}
	f.Add("git-"+sha256ID, sha256ID)
	f.Fuzz(func(t *testing.T, tag, commitID string) {
		got := Matches(Image{Tag: tag}, Commit{ID: commitID, Time: time.Unix(0, 0)})
		want := false
		for _, format := range []objectFormat{formatSHA1, formatSHA256} {
			if expected, err := format.TagForCommit(commitID); err == nil && expected == tag {
				want = true
			}
		}
		if got != want {
			t.Fatalf("Matches(%q, %q) = %v, want %v", tag, commitID, got, want)
		}
		if got {
			require.Len(t, Pair([]Image{{Tag: tag}}, []Commit{{ID: commitID}}), 1)
		}
	})
}
