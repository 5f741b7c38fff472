package registrytest

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query   string
		pageCap int
		want    page
		wantErr bool
	}{
		{"", 0, page{limit: -1}, false},
		{"n=5&last=git-a", 0, page{last: "git-a", limit: 5}, false},
		{"n=0", 0, page{limit: 0}, false},
		{"n=5", 3, page{limit: 3}, false},
		{"n=2", 3, page{limit: 2}, false},
		{"", 3, page{limit: 3}, false},
		{"last=a%26b", 0, page{last: "a&b", limit: -1}, false},
		{"n=-1", 0, page{}, true},
		{"n=1.5", 0, page{}, true},
		{"n=99999999999999999999", 0, page{}, true},
	} {
		t.Run(tc.query+"/cap="+strconv.Itoa(tc.pageCap), func(t *testing.T) {
			t.Parallel()
			q, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			got, err := parsePage(q, tc.pageCap)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzTagsQuery checks that any ?n=&last= query yields a contiguous, sorted,
// bounded page whose Link leads exactly to the following tag.
func FuzzTagsQuery(f *testing.F) {
	for _, s := range []string{"", "n=2", "n=2&last=git-a", "last=%26x", "n=-1", "n=0", "n=99999999999999999999", "last=zz&n=1"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(3))
	}
	all := []string{"A", "git-a", "git-a-amd64", "git-b", "latest", "staging", "v0.1", "z"}
	f.Fuzz(func(t *testing.T, raw string, pageCap uint8) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := parsePage(q, int(pageCap))
		if err != nil {
			n, convErr := strconv.Atoi(q.Get("n"))
			require.True(t, convErr != nil || n < 0, "rejected a valid n: %q", raw)
			return
		}
		if pageCap > 0 {
			require.True(t, p.limit >= 0 && p.limit <= int(pageCap), "limit %d above cap %d", p.limit, pageCap)
		}
		out, more := p.apply(all)
		for _, tag := range out {
			require.Greater(t, tag, p.last)
		}
		if len(out) > 0 {
			i := slices.Index(all, out[0])
			require.Equal(t, all[i:i+len(out)], out, "page not contiguous")
			if i > 0 {
				require.LessOrEqual(t, all[i-1], p.last, "page skipped a tag")
			}
		}
		if p.limit >= 0 {
			require.LessOrEqual(t, len(out), p.limit)
		}
		if !more {
			if len(out) > 0 {
				require.Equal(t, all[len(all)-1], out[len(out)-1], "no link before the end")
			}
			return
		}
		require.Len(t, out, p.limit)
		link := p.link("/v2/org/app/tags/list", out)
		target, ok := strings.CutPrefix(link, "<")
		require.True(t, ok)
		target, ok = strings.CutSuffix(target, `>; rel="next"`)
		require.True(t, ok)
		u, err := url.Parse(target)
		require.NoError(t, err)
		next, err := parsePage(u.Query(), int(pageCap))
		require.NoError(t, err)
		assert.Equal(t, page{last: out[len(out)-1], limit: p.limit}, next)
		following, _ := next.apply(all)
		require.NotEmpty(t, following)
		assert.Equal(t, all[slices.Index(all, out[len(out)-1])+1], following[0])
	})
}
