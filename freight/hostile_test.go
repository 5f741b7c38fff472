package freight

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noNetwork fails the test if any request is attempted.
type noNetwork struct{ t *testing.T }

func (n noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	n.t.Errorf("unexpected network access: %s %s", r.Method, r.URL.Redacted())
	return nil, http.ErrUseLastResponse
}

// TestHostileInputs feeds testdata/hostile.txt to the parsers and
// constructors: each input is refused, and nothing touches the network.
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/hostile.txt")
	require.NoError(t, err)
	defer f.Close()
	offline := WithHTTPClient(&http.Client{Transport: noNetwork{t}})
	git, err := NewGitSource("https://git.example/org/mono.git", "main", offline)
	require.NoError(t, err)
	img, err := NewImageSource("ghcr.io/org/app", offline)
	require.NoError(t, err)

	cases := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, quoted, ok := strings.Cut(line, " ")
		require.True(t, ok, line)
		v, err := strconv.Unquote(quoted)
		require.NoError(t, err, line)
		cases++
		switch kind {
		case "tag":
			_, ok := CommitFromTag(v)
			assert.False(t, ok, "tag %q", v)
			_, ok = formatSHA256.CommitFromTag(v)
			assert.False(t, ok, "tag %q", v)
			assert.False(t, Matches(Image{Tag: v}, Commit{ID: sha1ID}), "tag %q", v)
		case "branch":
			_, err = NewGitSource("https://git.example/org/mono.git", v, offline)
			assert.ErrorIs(t, err, ErrInvalid, "branch %q", v)
		case "giturl":
			_, err = NewGitSource(v, "main", offline)
			assert.ErrorIs(t, err, ErrInvalid, "git URL %q", v)
		case "include":
			_, err = NewGitSource("https://git.example/org/mono.git", "main", offline, WithIncludePaths(v))
			assert.ErrorIs(t, err, ErrInvalid, "include path %q", v)
		case "warehouse":
			_, err = NewWarehouse(v, git, []ImageLister{img})
			assert.ErrorIs(t, err, ErrInvalid, "warehouse %q", v)
		case "image":
			_, err = NewImageSource(v, offline)
			assert.ErrorIs(t, err, ErrInvalid, "image repository %q", v)
		case "env":
			gate := LegacyGitflowGate{FS: fstest.MapFS{}, Warehouse: "codeai", Env: v}
			err = gate.Check(context.Background(), Freight{Commit: Commit{ID: sha1ID}})
			assert.ErrorIs(t, err, ErrInvalid, "env %q", v)
		default:
			t.Fatalf("unknown kind in %q", line)
		}
	}
	require.NoError(t, sc.Err())
	assert.GreaterOrEqual(t, cases, 60)
}
