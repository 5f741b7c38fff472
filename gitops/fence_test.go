package gitops

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fence must keep any text inside its code block or span: no run of
// backticks in the text can close it early, and the text comes out intact.
func FuzzFence(f *testing.F) {
	for _, s := range []string{"", "plain", "a`b", "```", "x\n```\ny", "````\n<script>", "  ```` indented", "\n", "`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := fence("text", s)
		if !strings.Contains(out, "\n") {
			// An inline span: only for one line without backticks.
			require.Equal(t, "`"+s+"`", out)
			require.NotContains(t, s, "`")
			require.NotContains(t, s, "\n")
			return
		}
		open := out[:strings.Index(out, "text\n")]
		require.GreaterOrEqual(t, len(open), 3)
		require.Equal(t, strings.Repeat("`", len(open)), open)
		body, ok := strings.CutPrefix(out, open+"text\n")
		require.True(t, ok)
		body, ok = strings.CutSuffix(body, "\n"+open+"\n")
		require.True(t, ok, "the fence is closed at the end")
		require.Equal(t, strings.TrimRight(s, "\n"), body)
		require.NotContains(t, body, open, "a backtick run inside could close the fence")
	})
}
