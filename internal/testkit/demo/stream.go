package demo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Committer of every commit: the monorepo is merged by squashing pull
// requests on GitHub.
const (
	committerName  = "GitHub"
	committerEmail = "noreply@github.com"
)

// Git file modes used in the trees.
const (
	modeFile = "100644"
	modeExec = "100755"
	modeLink = "120000"
)

// stream writes a `git fast-import` stream. Write errors are sticky and
// reported by flush.
type stream struct {
	w *bufio.Writer
}

func newStream(w io.Writer) *stream { return &stream{w: bufio.NewWriterSize(w, 1<<20)} }

// commit starts a commit on ref. from is the mark of the parent for the
// first commit of a branch forking off another, else 0.
func (s *stream) commit(ref string, mark int, name, email string, when time.Time, msg string, from int) {
	fmt.Fprintf(s.w, "commit %s\nmark :%d\n", ref, mark)
	fmt.Fprintf(s.w, "author %s <%s> %d +0000\n", name, email, when.Unix())
	fmt.Fprintf(s.w, "committer %s <%s> %d +0000\n", committerName, committerEmail, when.Unix())
	fmt.Fprintf(s.w, "data %d\n%s\n", len(msg), msg)
	if from > 0 {
		fmt.Fprintf(s.w, "from :%d\n", from)
	}
}

// file writes a file of the current commit with inline content.
func (s *stream) file(mode, p string, data []byte) {
	fmt.Fprintf(s.w, "M %s inline %s\ndata %d\n", mode, quotePath(p), len(data))
	s.w.Write(data)
	s.w.WriteByte('\n')
}

// done ends the stream and flushes it.
func (s *stream) done() error {
	s.w.WriteString("done\n")
	return s.w.Flush()
}

// quotePath quotes a path for a fast-import stream when it needs it.
func quotePath(p string) string {
	if strings.ContainsAny(p, "\"\n\\ ") {
		return strconv.Quote(p)
	}
	return p
}
