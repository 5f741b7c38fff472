package freight

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	sha1ID   = "0123456789abcdef0123456789abcdef01234567"
	sha256ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// tagCases lists every decoy kind and edge of the git-<sha> tag grammar.
// wantSHA1 and wantSHA256 are the ids CommitFromTag must return in a SHA-1
// and a SHA-256 repository ("" when the tag is not a candidate).
var tagCases = []struct {
	name, tag, wantSHA1, wantSHA256 string
}{
	{"sha1 full id", "git-" + sha1ID, sha1ID, ""},
	{"sha256 full id", "git-" + sha256ID, "", sha256ID},
	{"all zeros", "git-" + strings.Repeat("0", 40), strings.Repeat("0", 40), ""},
	{"all f", "git-" + strings.Repeat("f", 40), strings.Repeat("f", 40), ""},
	{"empty", "", "", ""},
	{"prefix only", "git-", "", ""},
	{"bare id", sha1ID, "", ""},
	{"short 7", "git-0123456", "", ""},
	{"short 12", "git-0123456789ab", "", ""},
	{"39 hex", "git-" + sha1ID[:39], "", ""},
	{"41 hex", "git-" + sha1ID + "8", "", ""},
	{"63 hex", "git-" + sha256ID[:63], "", ""},
	{"65 hex", "git-" + sha256ID + "0", "", ""},
	{"upper case id", "git-" + strings.ToUpper(sha1ID), "", ""},
	{"one upper hex digit", "git-" + sha1ID[:39] + "A", "", ""},
	{"upper prefix", "GIT-" + sha1ID, "", ""},
	{"mixed prefix", "Git-" + sha1ID, "", ""},
	{"amd64 suffix", "git-" + sha1ID + "-amd64", "", ""},
	{"arm64 suffix", "git-" + sha1ID + "-arm64", "", ""},
	{"sha256 arm64 suffix", "git-" + sha256ID + "-arm64", "", ""},
	{"dirty suffix", "git-" + sha1ID + "-dirty", "", ""},
	{"dot suffix", "git-" + sha1ID + ".1", "", ""},
	{"underscore prefix", "git_" + sha1ID, "", ""},
	{"no dash", "git" + sha1ID, "", ""},
	{"sha- prefix", "sha-" + sha1ID, "", ""},
	{"v prefix", "vgit-" + sha1ID, "", ""},
	{"double prefix", "git-git-" + sha1ID, "", ""},
	{"leading space", " git-" + sha1ID, "", ""},
	{"trailing space", "git-" + sha1ID + " ", "", ""},
	{"trailing newline", "git-" + sha1ID + "\n", "", ""},
	{"nul byte", "git-" + sha1ID[:39] + "\x00", "", ""},
	{"non-hex g", "git-" + sha1ID[:39] + "g", "", ""},
	{"cyrillic a look-alike", "git-" + sha1ID[:39] + "\u0430", "", ""},
	{"fullwidth digit", "git-" + sha1ID[:39] + "\uff11", "", ""},
	{"zero-width space", "git-\u200b" + sha1ID, "", ""},
	{"alias latest", "latest", "", ""},
	{"alias staging", "staging", "", ""},
	{"alias main", "main", "", ""},
	{"semver", "v1.2.3", "", ""},
	{"digest-looking", "sha256-" + sha256ID, "", ""},
	{"pr tag", "pr-1234", "", ""},
	{"padded with zeros", "git-00" + sha1ID[:38], "00" + sha1ID[:38], ""},
}

func TestCommitFromTag(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(tagCases), 40)
	for _, tc := range tagCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := CommitFromTag(tc.tag)
			assert.Equal(t, tc.wantSHA1, got)
			assert.Equal(t, tc.wantSHA1 != "", ok)

			got, ok = formatSHA256.CommitFromTag(tc.tag)
			assert.Equal(t, tc.wantSHA256, got)
			assert.Equal(t, tc.wantSHA256 != "", ok)
		})
	}
}

func TestTagForCommit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, id, want string
		format         objectFormat
	}{
		{"sha1", sha1ID, "git-" + sha1ID, formatSHA1},
		{"sha256", sha256ID, "git-" + sha256ID, formatSHA256},
		{"sha256 id in sha1 repo", sha256ID, "", formatSHA1},
		{"sha1 id in sha256 repo", sha1ID, "", formatSHA256},
		{"short", sha1ID[:7], "", formatSHA1},
		{"upper", strings.ToUpper(sha1ID), "", formatSHA1},
		{"empty", "", "", formatSHA1},
		{"already a tag", "git-" + sha1ID, "", formatSHA1},
		{"unknown format", sha1ID, "", objectFormat(7)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.format.TagForCommit(tc.id)
			if tc.want == "" {
				require.ErrorIs(t, err, ErrInvalidCommitID)
				var idErr *CommitIDError
				require.ErrorAs(t, err, &idErr)
				assert.Equal(t, tc.id, idErr.ID)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	got, err := TagForCommit(sha1ID)
	require.NoError(t, err)
	assert.Equal(t, "git-"+sha1ID, got)
	_, err = TagForCommit(sha256ID)
	assert.ErrorIs(t, err, ErrInvalidCommitID)
}

func TestObjectFormatString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "sha1", formatSHA1.String())
	assert.Equal(t, "sha256", formatSHA256.String())
	assert.Equal(t, "objectFormat(9)", objectFormat(9).String())
	assert.Zero(t, objectFormat(9).HexLen())
}

// FuzzCommitFromTag checks the tag grammar on arbitrary input: no panics, a
// parsed id is always a full lowercase id, and TagForCommit inverts it.
func FuzzCommitFromTag(f *testing.F) {
	for _, tc := range tagCases {
		f.Add(tc.tag)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		for _, format := range []objectFormat{formatSHA1, formatSHA256} {
			id, ok := format.CommitFromTag(tag)
			if !ok {
				if id != "" {
					t.Fatalf("%s: rejected %q but returned id %q", format, tag, id)
				}
				continue
			}
			if !format.IsID(id) {
				t.Fatalf("%s: %q parsed to invalid id %q", format, tag, id)
			}
			back, err := format.TagForCommit(id)
			if err != nil || back != tag {
				t.Fatalf("%s: TagForCommit(%q) = %q, %v; want %q", format, id, back, err, tag)
			}
		}
		// The inverse property from the other side: any string TagForCommit
		// accepts comes back unchanged.
		if back, err := TagForCommit(tag); err == nil {
			if id, ok := CommitFromTag(back); !ok || id != tag {
				t.Fatalf("CommitFromTag(TagForCommit(%q)) = %q, %v", tag, id, ok)
			}
		}
	})
}
