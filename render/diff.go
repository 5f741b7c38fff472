package render

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ObjectRef identifies an object in a [Summary]. It is a plain value.
type ObjectRef struct {
	APIVersion, Kind, Namespace, Name string
}

// String returns "<Kind> <namespace>/<name>", or "<Kind> <name>" for a
// cluster-scoped object.
func (o ObjectRef) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Summary is what a [Result] changes in a folder of rendered files: objects
// added, changed (same group, kind, namespace and name, different content)
// and removed, each sorted by kind, namespace and name. It is a plain value.
type Summary struct {
	Added, Changed, Removed []ObjectRef
	Unchanged               int
}

// Empty reports whether nothing is added, changed or removed.
func (s Summary) Empty() bool {
	return len(s.Added)+len(s.Changed)+len(s.Removed) == 0
}

// String returns a one-line count for logs and commit messages, e.g.
// "1 added, 2 changed, 0 removed, 5 unchanged".
func (s Summary) String() string {
	return fmt.Sprintf("%d added, %d changed, %d removed, %d unchanged",
		len(s.Added), len(s.Changed), len(s.Removed), s.Unchanged)
}

// Markdown returns the summary as a Markdown paragraph and table for a pull
// request body. Every value is reduced to the characters of Kubernetes
// names, so hostile names cannot inject Markdown or HTML.
func (s Summary) Markdown() string {
	var b strings.Builder
	if s.Empty() {
		fmt.Fprintf(&b, "No rendered object changes (%d unchanged).\n", s.Unchanged)
		return b.String()
	}
	fmt.Fprintf(&b, "**%d added, %d changed, %d removed** (%d unchanged)\n\n",
		len(s.Added), len(s.Changed), len(s.Removed), s.Unchanged)
	b.WriteString("| change | kind | namespace | name |\n|---|---|---|---|\n")
	for _, group := range []struct {
		change string
		refs   []ObjectRef
	}{{"added", s.Added}, {"changed", s.Changed}, {"removed", s.Removed}} {
		for _, o := range group.refs {
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | `%s` |\n", group.change, mdSafe(o.Kind), mdSafe(o.Namespace), mdSafe(o.Name))
		}
	}
	return b.String()
}

// mdSafe keeps the characters of Kubernetes names and kinds and replaces
// every other by '?'.
func mdSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:/", r) {
			return r
		}
		return '?'
	}, s)
}

// Diff compares r with the objects in the .yaml, .yml and .json files under
// directory dir of old (recursively; "." is the root), such as the deploy
// folder of a stage branch. Objects are matched by API group, kind,
// namespace and name and compared by content, not formatting. A missing
// dir counts as empty: every object is added.
//
// Errors are a [*FileError] naming the file: ErrInvalidYAML (malformed, or
// a document that is not a Kubernetes object), ErrAliasBomb, ErrTooLarge
// (the files sum to more than DefaultMaxInputSize), ErrSymlink and
// ErrDuplicateObject; ErrRead when a file of old cannot be read (wrapping
// old's error); errors walking old's directories are wrapped as they are.
// Retrying does not help unless old's errors are transient.
func Diff(old fs.FS, dir string, r *Result) (Summary, error) {
	before, err := readObjects(old, dir)
	if err != nil {
		return Summary{}, err
	}
	var s Summary
	for _, o := range r.objects {
		id := newObjectID(o.APIVersion, o.Kind, o.Namespace, o.Name)
		ref := ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
		prev, ok := before[id]
		if !ok {
			s.Added = append(s.Added, ref)
			continue
		}
		delete(before, id)
		docs, err := decodeDocs(o.YAML)
		if err != nil || len(docs) != 1 {
			return Summary{}, fmt.Errorf("render: %w: rendered %s", ErrInvalidYAML, ref)
		}
		var now any
		if err := docs[0].Decode(&now); err != nil {
			return Summary{}, fmt.Errorf("render: %w: rendered %s: %v", ErrInvalidYAML, ref, err)
		}
		if reflect.DeepEqual(prev.value, now) {
			s.Unchanged++
		} else {
			s.Changed = append(s.Changed, ref)
		}
	}
	for _, prev := range before {
		s.Removed = append(s.Removed, prev.ref)
	}
	for _, refs := range [][]ObjectRef{s.Added, s.Changed, s.Removed} {
		slices.SortFunc(refs, func(a, b ObjectRef) int {
			return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace),
				cmp.Compare(a.Name, b.Name), cmp.Compare(a.APIVersion, b.APIVersion))
		})
	}
	return s, nil
}

type oldObject struct {
	ref   ObjectRef
	value any
}

// readObjects reads every object under dir of old.
func readObjects(old fs.FS, dir string) (map[objectID]oldObject, error) {
	objects := map[objectID]oldObject{}
	files := map[objectID]string{}
	budget := int64(DefaultMaxInputSize)
	err := fs.WalkDir(old, dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && p == dir:
			return fs.SkipAll
		case err != nil:
			return &FileError{Path: p, Err: err}
		case d.Type()&fs.ModeSymlink != 0:
			return &FileError{Path: p, Err: ErrSymlink}
		case d.IsDir():
			return nil
		}
		switch path.Ext(p) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		data, err := readLimited(old, p, &budget, "fixed: DefaultMaxInputSize")
		if err != nil {
			return &FileError{Path: p, Err: err}
		}
		docs, err := decodeDocs(data)
		if err != nil {
			return &FileError{Path: p, Err: err}
		}
		for i, doc := range docs {
			id, ok := docObjectID(doc)
			if !ok {
				if isEmptyDoc(doc) {
					continue // an empty document between separators
				}
				return &FileError{Path: p, Err: fmt.Errorf("%w: document %d is not a Kubernetes object", ErrInvalidYAML, i+1)}
			}
			if first, dup := files[id]; dup {
				return &FileError{Path: p, Err: fmt.Errorf("%w: %s, also in %s", ErrDuplicateObject, id, first)}
			}
			var v any
			if err := doc.Decode(&v); err != nil {
				return &FileError{Path: p, Err: fmt.Errorf("%w: document %d: %v", ErrInvalidYAML, i+1, err)}
			}
			m, _ := v.(map[string]any)
			apiVersion, _ := m["apiVersion"].(string)
			files[id] = p
			objects[id] = oldObject{
				ref:   ObjectRef{APIVersion: apiVersion, Kind: id.Kind, Namespace: id.Namespace, Name: id.Name},
				value: v,
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return objects, nil
}

// isEmptyDoc reports whether doc is empty or null, as between two "---".
func isEmptyDoc(doc *yaml.Node) bool {
	return len(doc.Content) == 0 || doc.Content[0].Tag == "!!null"
}
