package gitops

import (
	"bytes"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/railyard-gitops/railyard/internal/pathcheck"
)

// Root is the Change.Dir that names the whole tree. Replacing the whole
// tree must be asked for explicitly: an empty Dir is refused, so that an
// unset field upstream cannot make Argo CD prune every application on a
// branch.
const Root = "."

// Change is one rendered output to commit. Its zero value is refused
// rather than guessed at: Dir must name the replaced subtree (or be
// [Root]), Files must hold the render (or Delete must say that Dir is to be
// removed). A nil Provenance records none. Commit and Propose only read a
// Change (and its Files), so one Change may be used by concurrent calls.
type Change struct {
	// Branch receives the commit, e.g. "stage/test". It is created if
	// missing: from Base when Base is set, as an orphan otherwise.
	Branch string
	// Base is the branch a missing Branch starts from; "" starts an orphan.
	Base string
	// Dir is the subtree replaced wholly by Files, e.g.
	// "apps/web/deployments/test/deploy", or [Root] for the whole tree.
	// Every path outside Dir keeps its content. "" is refused.
	Dir string
	// Files maps slash-separated paths relative to Dir to file contents.
	// It must not be empty unless Delete is set.
	Files map[string][]byte
	// Delete removes Dir: Files must be empty, and no provenance file is
	// written (the commit's trailers still record Provenance). Without
	// Delete, empty Files are refused: an empty render is more often a bug
	// upstream than an intent.
	Delete bool
	// Message is the commit message subject and body; see
	// [WithMessageTemplate].
	Message string
	// Provenance, when set, is written as commit trailers and as the
	// provenance file inside Dir (see [WithProvenanceFile]).
	Provenance *Provenance
	// Summary, used by [Repo.Propose], replaces the file-level change
	// summary in the pull request body, e.g. with an object-level summary
	// of the render. It is shown as preformatted text.
	Summary string
}

// Provenance records what a render was made from. Every field is optional;
// none may contain line breaks or control characters, and SourceRepo must
// not carry credentials.
type Provenance struct {
	SourceRepo   string   // the source repository URL
	SourceCommit string   // the commit the deploy package was read at
	Images       []string // image references, "repo:tag@digest"
	FreightID    string   // the Kargo Freight ID
	PolicyCommit string   // the GitOps repository commit holding the policy used
}

// Trailers returns the provenance as git trailer lines ("Key: value"), in a
// fixed order, each ending in a newline.
func (p *Provenance) Trailers() string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	line("Railyard-Source-Repo", p.SourceRepo)
	line("Railyard-Source-Commit", p.SourceCommit)
	for _, img := range p.Images {
		line("Railyard-Image", img)
	}
	line("Railyard-Freight", p.FreightID)
	line("Railyard-Policy-Commit", p.PolicyCommit)
	return b.String()
}

func (p *Provenance) validate() error {
	if p == nil {
		return nil
	}
	fields := append([]string{p.SourceRepo, p.SourceCommit, p.FreightID, p.PolicyCommit}, p.Images...)
	for _, f := range fields {
		for _, r := range f {
			if r < ' ' || r == 0x7f || r == '\u2028' || r == '\u2029' {
				return fmt.Errorf("gitops: %w: provenance field %q contains a control character", ErrInvalidChange, f)
			}
		}
	}
	if u, err := url.Parse(p.SourceRepo); err == nil && u.User != nil {
		return fmt.Errorf("gitops: %w: provenance source repository URL carries credentials", ErrInvalidChange)
	}
	return nil
}

// MessageData is what a message template (see [WithMessageTemplate]) is
// executed with.
type MessageData struct {
	Branch, Base, Message string
	Dir                   string     // Change.Dir; "" for [Root]
	Files                 int        // number of files in the change
	Provenance            Provenance // zero when the change has none
}

func (c *Change) messageData() MessageData {
	d := MessageData{Branch: c.Branch, Base: c.Base, Dir: c.Dir, Message: c.Message, Files: len(c.Files)}
	if c.Dir == Root {
		d.Dir = ""
	}
	if c.Provenance != nil {
		d.Provenance = *c.Provenance
	}
	return d
}

// validate checks everything about c that does not need the remote.
func (c *Change) validate(provenanceFile string) error {
	if err := ValidateBranch(c.Branch); err != nil {
		return err
	}
	if c.Base != "" {
		if err := ValidateBranch(c.Base); err != nil {
			return err
		}
	}
	switch {
	case c.Dir == "":
		return fmt.Errorf("gitops: %w: empty Dir: name the replaced subtree, or gitops.Root for the whole tree", ErrInvalidChange)
	case c.Dir != Root:
		if err := validatePath(c.Dir); err != nil {
			return err
		}
	}
	switch {
	case c.Delete && len(c.Files) > 0:
		return fmt.Errorf("gitops: %w: Delete with %d files: a deletion carries no files", ErrInvalidChange, len(c.Files))
	case !c.Delete && len(c.Files) == 0:
		return fmt.Errorf("gitops: %w: no files: set Delete to remove %s", ErrInvalidChange, c.Dir)
	}
	names := make(map[string]bool, len(c.Files)+1)
	for name := range c.Files {
		if err := validatePath(name); err != nil {
			return err
		}
		names[name] = true
	}
	if c.Provenance != nil && provenanceFile != "" && !c.Delete {
		if names[provenanceFile] {
			return &PathError{Path: provenanceFile, Reason: "collides with the provenance file"}
		}
		names[provenanceFile] = true
	}
	for name := range names {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if names[dir] {
				return &PathError{Path: name, Reason: fmt.Sprintf("%q is also a file", dir)}
			}
		}
	}
	return c.Provenance.validate()
}

// dirPath returns the components of Dir, none for [Root].
func (c *Change) dirPath() []string {
	if c.Dir == Root || c.Dir == "" {
		return nil
	}
	return strings.Split(c.Dir, "/")
}

// files returns the files to write under Dir, the provenance file included.
func (c *Change) files(provenanceFile string) map[string][]byte {
	if c.Delete {
		return nil
	}
	if c.Provenance == nil || provenanceFile == "" {
		return c.Files
	}
	out := make(map[string][]byte, len(c.Files)+1)
	for k, v := range c.Files {
		out[k] = v
	}
	out[provenanceFile] = []byte(c.Provenance.Trailers())
	return out
}

// validatePath accepts clean, relative, slash-separated paths whose
// components are acceptable tree entries (see pathcheck.PathProblem).
func validatePath(p string) error {
	if why := pathcheck.PathProblem(p); why != "" {
		return &PathError{Path: p, Reason: why}
	}
	return nil
}

// renderMessage executes the message template and appends the trailers.
func (r *Repo) renderMessage(c *Change) (string, error) {
	var b bytes.Buffer
	if err := r.opts.message.Execute(&b, c.messageData()); err != nil {
		return "", fmt.Errorf("gitops: %w: message template: %v", ErrInvalidChange, err)
	}
	msg := strings.TrimRight(b.String(), "\n") + "\n"
	if t := c.Provenance.Trailers(); t != "" {
		msg += "\n" + t
	}
	return msg, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
