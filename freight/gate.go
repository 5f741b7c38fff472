package freight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Gate decides whether a paired Freight may be issued. Check returns nil to
// allow it, an error wrapping [ErrRefused] to refuse it (the Freight is then
// reported unpaired with [ReasonGateRefused] and the error's text), or any
// other error to fail the discovery. Implementations must be safe for
// concurrent use.
type Gate interface {
	Check(ctx context.Context, f Freight) error
}

// GateFunc adapts a function to [Gate]; it is as safe for concurrent use
// as the function.
type GateFunc func(ctx context.Context, f Freight) error

// Check calls fn(ctx, f).
func (fn GateFunc) Check(ctx context.Context, f Freight) error { return fn(ctx, f) }

// maxGateFile bounds what LegacyGitflowGate reads of one record.
const maxGateFile = 64 << 10

// DefaultLegacyGitflowLayout is where [LegacyGitflowGate] looks for a merge
// record when its Layout is empty.
const DefaultLegacyGitflowLayout = "warehouses/{warehouse}/legacy-gitflow/{env}/merged/{tag}.yaml"

// LegacyGitflowGate admits a Freight only when the legacy git-flow process
// has recorded its merge: the file at Layout (by default
// warehouses/<Warehouse>/legacy-gitflow/<Env>/merged/git-<sha>.yaml) exists
// in FS (the GitOps repository's main branch) and holds
//
//	revision: <full commit id>
//	tag: git-<full commit id>
//	mergedAt: <RFC 3339 time>
//
// for the Freight's commit. A missing, oversized or malformed record, or one
// naming another commit or tag, refuses the Freight. Errors reading FS other
// than "does not exist" fail the check. It is safe for concurrent use if FS
// is.
type LegacyGitflowGate struct {
	FS        fs.FS
	Warehouse string
	Env       string
	// Layout is the record's path in FS, with the placeholders {warehouse},
	// {env}, {tag} (git-<sha>) and {id} (<sha>) replaced; it must name
	// {tag} or {id}. Empty means [DefaultLegacyGitflowLayout].
	Layout string
}

// LegacyGitflowRecord is the content of one legacy git-flow merge record.
// It is plain data.
type LegacyGitflowRecord struct {
	Revision string    `yaml:"revision"`
	Tag      string    `yaml:"tag"`
	MergedAt time.Time `yaml:"mergedAt"`
}

// RecordPath returns the path in FS of the merge record for commit id, or
// "" when Layout is not usable (see [LegacyGitflowGate.Check]).
func (g LegacyGitflowGate) RecordPath(id string) string {
	layout := g.Layout
	if layout == "" {
		layout = DefaultLegacyGitflowLayout
	}
	if !strings.Contains(layout, "{tag}") && !strings.Contains(layout, "{id}") {
		return ""
	}
	p := strings.NewReplacer("{warehouse}", g.Warehouse, "{env}", g.Env, "{tag}", TagPrefix+id, "{id}", id).Replace(layout)
	if !fs.ValidPath(p) || p != path.Clean(p) || strings.ContainsAny(p, `\{}`) {
		return ""
	}
	return p
}

// isPathElem reports whether s is one clean, non-special path element.
func isPathElem(s string) bool {
	return fs.ValidPath(s) && s != "." && !strings.ContainsAny(s, `/\:`)
}

// Check implements [Gate]. It returns an error wrapping [ErrInvalid]
// when Warehouse or Env is not a single path element, FS is nil, or Layout
// names neither {tag} nor {id}, has an unknown placeholder or does not make
// a clean relative path.
func (g LegacyGitflowGate) Check(ctx context.Context, f Freight) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	id := f.Commit.ID
	if !isFullID(id) {
		return fmt.Errorf("%w: legacy-gitflow: commit id %q is not a full id", ErrRefused, id)
	}
	if !isPathElem(g.Warehouse) || !isPathElem(g.Env) {
		return fmt.Errorf("%w: legacy-gitflow: warehouse %q and env %q must be single path elements",
			ErrInvalid, g.Warehouse, g.Env)
	}
	if g.FS == nil {
		return fmt.Errorf("%w: legacy-gitflow: no FS", ErrInvalid)
	}
	p := g.RecordPath(id)
	if p == "" {
		return fmt.Errorf("%w: legacy-gitflow: layout %q does not make a clean relative path naming {tag} or {id}", ErrInvalid, g.Layout)
	}
	file, err := g.FS.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: legacy-gitflow: no merge record %s", ErrRefused, p)
	}
	if err != nil {
		return fmt.Errorf("freight: legacy-gitflow: open %s: %w", p, err)
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxGateFile+1))
	if err != nil {
		return fmt.Errorf("freight: legacy-gitflow: read %s: %w", p, err)
	}
	if len(data) > maxGateFile {
		return fmt.Errorf("%w: legacy-gitflow: merge record %s exceeds %d bytes", ErrRefused, p, maxGateFile)
	}
	var rec LegacyGitflowRecord
	if err := yaml.Unmarshal(data, &rec); err != nil {
		return fmt.Errorf("%w: legacy-gitflow: malformed merge record %s", ErrRefused, p)
	}
	switch {
	case rec.Revision != id:
		return fmt.Errorf("%w: legacy-gitflow: merge record %s names revision %q", ErrRefused, p, rec.Revision)
	case rec.Tag != TagPrefix+id:
		return fmt.Errorf("%w: legacy-gitflow: merge record %s names tag %q", ErrRefused, p, rec.Tag)
	case rec.MergedAt.IsZero():
		return fmt.Errorf("%w: legacy-gitflow: merge record %s has no mergedAt", ErrRefused, p)
	}
	return nil
}
