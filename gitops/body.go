package gitops

import (
	"fmt"
	"strings"
)

// maxBodyFiles bounds the file list in a pull request body; forges cap
// bodies (GitHub at 65,536 characters).
const maxBodyFiles = 500

var actionSigns = map[string]string{"added": "+", "removed": "-", "modified": "!"}

// prBody renders a pull request body: the target, the provenance and the
// change summary (c.Summary, or the file-level changes), each value inside
// a code fence longer than any backtick run in it, so that nothing in a
// file name or summary is rendered as Markdown or HTML.
func prBody(c *Change, target string, files []FileChange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Promotion to %s, proposed by railyard.\n", fence("text", target))
	if t := c.Provenance.Trailers(); t != "" {
		b.WriteString("\n### Provenance\n\n")
		b.WriteString(fence("text", t))
	}
	b.WriteString("\n### Changes\n\n")
	if c.Summary != "" {
		b.WriteString(fence("text", c.Summary))
		return b.String()
	}
	var list strings.Builder
	for i, f := range files {
		if i == maxBodyFiles {
			fmt.Fprintf(&list, "… and %d more\n", len(files)-i)
			break
		}
		fmt.Fprintf(&list, "%s %s\n", actionSigns[f.Action], f.Path)
	}
	where := "the whole tree"
	if c.Dir != Root {
		where = c.Dir
	}
	fmt.Fprintf(&b, "%d file(s) in %s (+ added, - removed, ! modified):\n\n", len(files), fence("text", where))
	b.WriteString(fence("diff", list.String()))
	return b.String()
}

// fence wraps s in a Markdown code fence longer than its longest backtick
// run; a one-line value without backticks becomes an inline code span.
func fence(lang, s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if lang == "text" && longest == 0 && !strings.Contains(s, "\n") && s != "" {
		return "`" + s + "`"
	}
	f := strings.Repeat("`", max(3, longest+1))
	return f + lang + "\n" + strings.TrimRight(s, "\n") + "\n" + f + "\n"
}
