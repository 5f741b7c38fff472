package freight

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKargoIDReferenceVector(t *testing.T) {
	t.Parallel()
	f := Freight{
		Commit: Commit{RepoURL: "https://github.com/code-dot-org/code-dot-org.git", ID: sha1ID},
		Images: []Image{{
			RepoURL: "ghcr.io/code-dot-org/code-dot-org",
			Tag:     "git-" + sha1ID,
			Digest:  "sha256:" + strings.Repeat("a", 64),
		}},
	}
	const want = "60814b127a48372407b88fa1c2dce855e4282496"
	assert.Equal(t, want, KargoID("codeai", f))
	assert.Equal(t, want, KargoID("Warehouse/codeai", f), "explicit kind")

	// Spellings Kargo normalizes to the same repository yield the same ID.
	for _, u := range []string{
		"https://github.com/code-dot-org/code-dot-org",
		"https://github.com/code-dot-org/code-dot-org/",
		"https://github.com/code-dot-org/code-dot-org.git/",
		"HTTPS://GitHub.com/Code-Dot-Org/code-dot-org.git",
		"https://x-access-token:secret@github.com/code-dot-org/code-dot-org.git",
		"  https://github.com/code-dot-org/code-dot-org.git\u200b",
	} {
		g := f
		g.Commit.RepoURL = u
		assert.Equal(t, want, KargoID("codeai", g), u)
	}

	// Everything else that Kargo hashes changes the ID.
	changed := []Freight{f, f, f, f}
	changed[0].Commit.ID = id(1)
	changed[1].Images = []Image{{RepoURL: "ghcr.io/code-dot-org/code-dot-org/", Tag: f.Images[0].Tag, Digest: f.Images[0].Digest}}
	changed[2].Images = []Image{{RepoURL: f.Images[0].RepoURL, Tag: f.Images[0].Tag, Digest: "sha256:" + strings.Repeat("b", 64)}}
	changed[3].Commit.RepoURL = "https://github.com/code-dot-org/other.git"
	for i, g := range changed {
		assert.NotEqual(t, want, KargoID("codeai", g), "change %d", i)
	}
	assert.NotEqual(t, want, KargoID("other", f))
}

func TestKargoIDSortsArtifacts(t *testing.T) {
	t.Parallel()
	a := Image{RepoURL: "ghcr.io/org/app", Tag: "git-" + sha1ID, Digest: "sha256:" + strings.Repeat("1", 64)}
	b := Image{RepoURL: "ghcr.io/org/static", Tag: "git-" + sha1ID, Digest: "sha256:" + strings.Repeat("2", 64)}
	c := Commit{RepoURL: "https://github.com/org/mono", ID: sha1ID}
	assert.Equal(t,
		KargoID("w", Freight{Commit: c, Images: []Image{a, b}}),
		KargoID("w", Freight{Commit: c, Images: []Image{b, a}}))
	assert.Len(t, KargoID("w", Freight{Commit: c}), 40)
}

// TestNormalizeGitURL covers every URL form Kargo's normalization handles:
// http(s) with and without proxy credentials, port, .git suffix and trailing
// slash; ssh:// with and without user and port; SCP-like; and the inputs it
// returns unchanged.
func TestNormalizeGitURL(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		// returned as given (and Kargo's quirks, kept for identical IDs)
		"https://not a url":                          "https://not a url",
		"http://git.example/org/repo?x=1":            "http://git.example/org/repo?x=1",
		"ssh://not a url":                            "ssh://not a url",
		"ssh://git.example/org/repo?x=1":             "ssh://git.example/org/repo?x=1",
		"definitely not a url":                       "definitely not a url",
		"HTTPS://Not A URL":                          "HTTPS://Not A URL",
		"file:///srv/git/repo.git":                   "ssh://file////srv/git/repo", // Kargo reads it as SCP-like
		"":                                           "",
		"https://git.example":                        "https://git.example",
		"https://git.example/":                       "https://git.example",
		"https://u:p@git.example":                    "https://git.example",
		"https://u:p@git.example/":                   "https://git.example",
		"http://git.example/org/repo":                "http://git.example/org/repo",
		"https://git.example/org/repo":               "https://git.example/org/repo",
		"https://git.example/org/repo/":              "https://git.example/org/repo",
		"https://git.example/org/repo.git":           "https://git.example/org/repo",
		"https://git.example/org/repo.git/":          "https://git.example/org/repo",
		"https://git.example/org/repo.GIT":           "https://git.example/org/repo",
		"https://git.example/org/repo/.git":          "https://git.example/org/repo/",
		"https://git.example:8443/org/repo.git/":     "https://git.example:8443/org/repo",
		"https://u:p@git.example/org/repo.git":       "https://git.example/org/repo",
		"https://u:p@git.example:8443/org/repo.git/": "https://git.example:8443/org/repo",
		"https://token@git.example/org/repo":         "https://git.example/org/repo",
		"https://Git.Example/Org/Repo":               "https://git.example/org/repo",
		"  https://git.example/org/repo.git  ":       "https://git.example/org/repo",
		"\ufeffhttps://git.example/org/repo.git":     "https://git.example/org/repo",
		"http://127.0.0.1:9418/monorepo.git":         "http://127.0.0.1:9418/monorepo",
		"ssh://git.example":                          "ssh://git.example",
		"ssh://git.example/":                         "ssh://git.example",
		"ssh://git@git.example":                      "ssh://git@git.example",
		"ssh://git@git.example/org/repo.git/":        "ssh://git@git.example/org/repo",
		"ssh://git@git.example:2222/org/repo.git":    "ssh://git@git.example:2222/org/repo",
		"ssh://git.example:2222/org/repo/":           "ssh://git.example:2222/org/repo",
		"git.example":                                "ssh://git.example",
		"git@git.example":                            "ssh://git@git.example",
		"git.example:org/repo":                       "ssh://git.example/org/repo",
		"git.example:org/repo.git/":                  "ssh://git.example/org/repo",
		"git@git.example:org/repo":                   "ssh://git@git.example/org/repo",
		"git@git.example:org/repo.git":               "ssh://git@git.example/org/repo",
		"git@git.example:org/repo/":                  "ssh://git@git.example/org/repo",
		"git@git.example:":                           "ssh://git@git.example",
		"git@git.example:/abs/repo.git":              "ssh://git@git.example//abs/repo",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, want, normalizeGitURL(in))
		})
	}
}
