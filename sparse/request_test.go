package sparse

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidatePath(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"k8s", "k8s/kustomize", "a/b/c", "dir.with.dots", "ü/日本", "-dash", ".github", "a/..b", "a/b.."} {
		assert.NoError(t, validatePath(p), p)
	}
	for _, p := range []string{
		"", "/abs", "../up", "a/../b", "a/..", "..", ".", "./a", "a/./b", "a//b", "a/",
		"a\\b", "a/*", "a?", "[ab]", "!neg", "a\x00b", "a\nb", ".git", "a/.GIT/b",
		"\xff", strings.Repeat("a/", 3000) + "a",
	} {
		err := validatePath(p)
		var pe *PathError
		require.ErrorAs(t, err, &pe, "%q", p)
		assert.ErrorIs(t, err, ErrInvalidPath, "%q", p)
	}
}

func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"k8s/kustomize", "../x", "a//b", ".git", "a\\b", "*", "ü", "a/./b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		err := validatePath(p)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("%q: untyped error %v", p, err)
			}
			return
		}
		// Whatever is accepted is a clean relative path that cannot leave
		// the repository or reach its metadata.
		for _, elem := range strings.Split(p, "/") {
			if elem == "" || elem == "." || elem == ".." || strings.EqualFold(elem, ".git") {
				t.Fatalf("%q accepted with element %q", p, elem)
			}
		}
		if strings.ContainsAny(p, "\\*?[\x00") || strings.HasPrefix(p, "/") {
			t.Fatalf("%q accepted", p)
		}
	})
}

func TestNormalizeCone(t *testing.T) {
	t.Parallel()
	got, err := normalizeCone([]string{"k8s/kustomize-old", "k8s/kustomize/base", "k8s/kustomize", "k8s/kustomize"})
	require.NoError(t, err)
	assert.Equal(t, []string{"k8s/kustomize", "k8s/kustomize-old"}, got, "nested and duplicate paths merge; siblings sharing a prefix do not")

	_, err = normalizeCone(nil)
	assert.ErrorIs(t, err, ErrInvalidPath)
	_, err = normalizeCone(make([]string, maxPaths+1))
	assert.ErrorIs(t, err, ErrInvalidPath)
}

func TestSplitURL(t *testing.T) {
	t.Parallel()
	clean, user, pass, err := splitURL("https://bot:s3cret@git.example.com/org/repo.git")
	require.NoError(t, err)
	assert.Equal(t, "https://git.example.com/org/repo.git", clean)
	assert.Equal(t, "bot", user)
	assert.Equal(t, "s3cret", pass)

	clean, user, _, err = splitURL("git@github.com:org/repo.git")
	require.NoError(t, err)
	assert.Equal(t, "git@github.com:org/repo.git", clean)
	assert.Empty(t, user)

	for _, u := range []string{"", "file:///etc", "git://host/repo", "ftp://host/r", "https://host", "https://host/",
		"https://host/r?token=s3cret", "https://host/r#frag", "https://ho st/r", "https://host/\x7f", "/local/path", ":nohost"} {
		_, _, _, err := splitURL(u)
		assert.ErrorIs(t, err, ErrInvalidRequest, "%q", u)
		if err != nil {
			assert.NotContains(t, err.Error(), "s3cret")
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://user:s3cret@host/repo.git":  "https://REDACTED@host/repo.git",
		"https://s3cret@host/repo.git":       "https://REDACTED@host/repo.git",
		"https://host/repo.git?token=s3cret": "https://host/repo.git?REDACTED",
		"http://u:s3cret@ho st/x":            "http://REDACTED",
		"git@github.com:org/repo.git":        "git@github.com:org/repo.git",
	} {
		assert.Equal(t, want, redactURL(in), in)
	}
}

func TestBranchRef(t *testing.T) {
	t.Parallel()
	got, err := branchRef("main")
	require.NoError(t, err)
	assert.Equal(t, "refs/heads/main", got.String())
	for _, b := range []string{"a..b", "a@{1}", "-x", "x.lock", "a b", "a\x01", "refs/tags/v1", "a~1", "a:b"} {
		_, err := branchRef(b)
		assert.ErrorIs(t, err, ErrInvalidRequest, "%q", b)
	}
}

func TestIsObjectID(t *testing.T) {
	t.Parallel()
	assert.True(t, isObjectID(strings.Repeat("a1", 20)))
	for _, s := range []string{"", "abc", strings.Repeat("A", 40), strings.Repeat("g", 40), strings.Repeat("a", 41), strings.Repeat("a", 64)} {
		assert.False(t, isObjectID(s), s)
	}
}

// Every path of the hostile corpus is refused with a typed error.
func TestHostilePathCorpus(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/hostile_paths.json")
	require.NoError(t, err)
	var corpus []string
	require.NoError(t, json.Unmarshal(data, &corpus))
	require.GreaterOrEqual(t, len(corpus), 40)
	for _, p := range corpus {
		err := validatePath(p)
		assert.ErrorIs(t, err, ErrInvalidPath, "%q", p)
		_, err = normalizeCone([]string{"k8s/kustomize", p})
		assert.ErrorIs(t, err, ErrInvalidPath, "%q among good paths", p)
	}
}

// Whatever the URL, the cleaned URL and the redacted one never carry the
// password, and errors never echo it.
func FuzzSplitURL(f *testing.F) {
	for _, s := range []string{"https://u:pw@h/r.git", "ssh://git@h/r", "git@h:r", "http://h/r?x=pw", "https://pw@h/r", "::", "https://u:pw@h:bad/r"} {
		f.Add(s, "pw")
	}
	f.Fuzz(func(t *testing.T, raw, secret string) {
		if len(secret) < 6 || !strings.Contains(raw, secret) {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			return
		}
		if pw, ok := u.User.Password(); !ok || pw != secret || strings.Contains(u.Host+u.Path+u.User.Username(), secret) {
			return
		}
		clean, _, _, err := splitURL(raw)
		if err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q leaks the password", err)
			}
			return
		}
		if strings.Contains(clean, secret) && u.Scheme != "ssh" {
			t.Fatalf("clean URL %q keeps the password", clean)
		}
		if strings.Contains(redactURL(raw), secret) {
			t.Fatalf("redacted URL %q keeps the password", redactURL(raw))
		}
	})
}
