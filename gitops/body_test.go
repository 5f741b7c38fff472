package gitops_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
)

// Hostile file names and summaries stay inside their code fences: the
// body's Markdown structure cannot be broken out of.
func TestProposeBodyEscapesHostileText(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/production", map[string]string{"README.md": "x"})
	prs := &memPRs{}
	hostile := map[string][]byte{
		"```\n<script>alert(1)</script>.yaml": nil, // refused: line break
	}
	_, err := newRepo(t, rem.url).Propose(testContext(t), gitops.Change{Dir: prodDir, Files: hostile}, "stage/production", prs)
	require.ErrorIs(t, err, gitops.ErrInvalidPath)

	files := map[string][]byte{"````<img src=x onerror=alert(1)>.yaml": []byte("a"), "[link](javascript:alert(1)).yaml": []byte("b")}
	summary := "```\n</details><script>alert(1)</script>\n````"
	for _, c := range []gitops.Change{
		{Dir: prodDir, Files: files},
		{Dir: prodDir, Files: files, Summary: summary},
	} {
		p, err := newRepo(t, rem.url).Propose(context.Background(), c, "stage/production", prs)
		require.NoError(t, err)
		assertFenced(t, p.PullRequest.Body)
	}
}

// assertFenced checks that every line mentioning hostile markup is inside a
// code fence that is closed by a fence of the same length.
func assertFenced(t *testing.T, body string) {
	t.Helper()
	open := ""
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimRight(line, "`")
		isFence := strings.HasPrefix(line, "```") && (open == "" || line == open)
		switch {
		case isFence && open == "":
			open = strings.Repeat("`", len(line)-len(strings.TrimLeft(line, "`")))
		case isFence:
			open = ""
		case strings.ContainsAny(line, "<[") && trimmed != "":
			assert.NotEmpty(t, open, "unfenced hostile line %q in\n%s", line, body)
		}
	}
	assert.Empty(t, open, "a fence is left open:\n%s", body)
}
