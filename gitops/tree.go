package gitops

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/railyard-gitops/railyard/internal/gitwire"
	"github.com/railyard-gitops/railyard/internal/pathcheck"
)

// workspace holds the objects of one attempt: those fetched from the remote
// (commit and trees of a tip, no blobs where the server can filter them),
// on disk in a store shared with the snapshots that keep it, and those
// written for the new commit, in memory, which are the ones to push.
type workspace struct {
	st    *memory.Storage        // written here (and a snapshot's own trees)
	base  *sharedStore           // fetched, nil for none
	known map[plumbing.Hash]bool // objects the remote is known to have
	added []plumbing.Hash        // objects written here, in write order
	trees treeCache              // trees read and checked
}

func newWorkspace() *workspace {
	return &workspace{st: memory.NewStorage(), known: map[plumbing.Hash]bool{}}
}

// treeCacheBytes bounds the trees a workspace (and a snapshot) keeps
// decoded, in bytes of tree objects.
const treeCacheBytes = 8 << 20

// treeCache keeps decoded, checked trees, which are immutable: an attempt
// reads each tree two or three times (learning what the remote has,
// diffing, replacing, snapshotting).
type treeCache struct {
	m     map[plumbing.Hash]*object.Tree
	bytes int
}

func (c *treeCache) put(h plumbing.Hash, t *object.Tree, size int) {
	if c.bytes+size > treeCacheBytes {
		return
	}
	if c.m == nil {
		c.m = map[plumbing.Hash]*object.Tree{}
	}
	c.m[h] = t
	c.bytes += size
}

func (c *treeCache) clone() treeCache { return treeCache{m: maps.Clone(c.m), bytes: c.bytes} }

// setBase makes b the store fetched objects are read from.
func (w *workspace) setBase(b *sharedStore) {
	if w.base != nil {
		w.base.release()
	}
	w.base = b.acquire()
}

// release lets go of the fetched store; w must not be used after.
func (w *workspace) release() {
	if w != nil && w.base != nil {
		w.base.release()
		w.base = nil
	}
}

// sharedStore is a store of fetched objects shared by workspaces and
// snapshots; the last to let go removes it from disk.
type sharedStore struct {
	st   *gitwire.Store
	refs atomic.Int32
}

func newSharedStore(st *gitwire.Store) *sharedStore {
	s := &sharedStore{st: st}
	s.refs.Store(1)
	return s
}

func (s *sharedStore) acquire() *sharedStore {
	s.refs.Add(1)
	return s
}

func (s *sharedStore) release() {
	if s.refs.Add(-1) == 0 {
		s.st.Close()
	}
}

// read returns the content of object h, which must be of type t, from the
// objects written here or fetched.
func (w *workspace) read(h plumbing.Hash, t plumbing.ObjectType) ([]byte, error) {
	if o, err := w.st.EncodedObject(t, h); err == nil {
		rd, err := o.Reader()
		if err != nil {
			return nil, err
		}
		defer rd.Close()
		return io.ReadAll(rd)
	}
	if w.base == nil {
		return nil, &remoteError{op: "read " + t.String() + " " + h.String(), err: plumbing.ErrObjectNotFound}
	}
	typ, data, err := w.base.st.Read(h, 1<<62) // the fetch bounded its size
	switch {
	case errors.Is(err, gitwire.ErrMissing):
		// The server's answer lacked it: another attempt may do better.
		return nil, &remoteError{op: "read " + t.String() + " " + h.String(), err: plumbing.ErrObjectNotFound}
	case err != nil:
		return nil, &remoteError{op: "read " + h.String(), err: err}
	case typ != t:
		return nil, fmt.Errorf("gitops: %w: %s is a %s where a %s belongs", ErrUnsafeContent, h, typ, t)
	}
	return data, nil
}

// commitTree returns the root tree of commit h.
func (w *workspace) commitTree(h plumbing.Hash) (plumbing.Hash, error) {
	data, err := w.read(h, plumbing.CommitObject)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	var c object.Commit
	if err := c.Decode(memoryObject(plumbing.CommitObject, data)); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gitops: %w: commit %s does not parse", ErrUnsafeContent, h)
	}
	return c.TreeHash, nil
}

func memoryObject(t plumbing.ObjectType, data []byte) plumbing.EncodedObject {
	o := &plumbing.MemoryObject{}
	o.SetType(t)
	_, _ = o.Write(data)
	return o
}

// learnRemote records every fetched object, and every object a fetched tree
// refers to, as present on the remote; every fetched tree is checked on the
// way (see readTree).
func (w *workspace) learnRemote(objects []gitwire.ObjectInfo) error {
	for _, o := range objects {
		w.known[o.Hash] = true
		if o.Type != plumbing.TreeObject {
			continue
		}
		t, err := w.readTree(o.Hash)
		if err != nil {
			return err
		}
		for _, e := range t.Entries {
			w.known[e.Hash] = true
		}
	}
	return nil
}

func (w *workspace) put(o plumbing.EncodedObject) (plumbing.Hash, error) {
	h := o.Hash()
	if w.st.HasEncodedObject(h) == nil {
		return h, nil
	}
	if _, err := w.st.SetEncodedObject(o); err != nil {
		return plumbing.ZeroHash, err
	}
	if !w.known[h] {
		w.added = append(w.added, h)
	}
	return h, nil
}

func (w *workspace) blob(data []byte) (plumbing.Hash, error) {
	o := w.st.NewEncodedObject()
	o.SetType(plumbing.BlobObject)
	o.SetSize(int64(len(data)))
	wr, err := o.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := wr.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := wr.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.put(o)
}

// tree writes a tree with entries in git's order: names compared bytewise,
// a directory as if its name ended in '/'.
func (w *workspace) tree(entries []object.TreeEntry) (plumbing.Hash, error) {
	sortKey := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return sortKey(entries[i]) < sortKey(entries[j]) })
	o := w.st.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.put(o)
}

// readTree reads tree h. A tree from the server is checked as git checks
// what it checks out: entry names git refuses on any file system
// (internal/pathcheck, protectNTFS and protectHFS included), and duplicate
// names, are ErrUnsafeContent: nothing is built on them.
func (w *workspace) readTree(h plumbing.Hash) (*object.Tree, error) {
	if t, ok := w.trees.m[h]; ok {
		return t, nil
	}
	data, err := w.read(h, plumbing.TreeObject)
	if err != nil {
		return nil, err
	}
	var t object.Tree
	if err := t.Decode(memoryObject(plumbing.TreeObject, data)); err != nil {
		return nil, fmt.Errorf("gitops: %w: tree %s does not parse", ErrUnsafeContent, h)
	}
	seen := make(map[string]bool, len(t.Entries))
	for _, e := range t.Entries {
		why := pathcheck.EntryProblem(e.Name)
		if why == "" && seen[e.Name] {
			why = "duplicate entry name"
		}
		if why != "" {
			return nil, fmt.Errorf("gitops: %w: tree %s: entry %q: %s", ErrUnsafeContent, h, truncate(e.Name), why)
		}
		seen[e.Name] = true
	}
	w.trees.put(h, &t, len(data))
	return &t, nil
}

// filesTree writes files (paths relative to the tree, validated by
// Change.validate: no file is also a directory) as nested trees and returns
// the root's hash, or the zero hash when files is empty.
func (w *workspace) filesTree(files map[string][]byte) (plumbing.Hash, error) {
	type node struct {
		blobs map[string]plumbing.Hash
		dirs  map[string]*node
	}
	newNode := func() *node { return &node{blobs: map[string]plumbing.Hash{}, dirs: map[string]*node{}} }
	root := newNode()
	for _, name := range sortedKeys(files) {
		parts := strings.Split(name, "/")
		n := root
		for _, part := range parts[:len(parts)-1] {
			if n.dirs[part] == nil {
				n.dirs[part] = newNode()
			}
			n = n.dirs[part]
		}
		h, err := w.blob(files[name])
		if err != nil {
			return plumbing.ZeroHash, err
		}
		n.blobs[parts[len(parts)-1]] = h
	}
	var write func(n *node) (plumbing.Hash, error)
	write = func(n *node) (plumbing.Hash, error) {
		entries := make([]object.TreeEntry, 0, len(n.blobs)+len(n.dirs))
		for name, h := range n.blobs {
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
		}
		for name, d := range n.dirs {
			h, err := write(d)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
		return w.tree(entries)
	}
	if len(files) == 0 {
		return plumbing.ZeroHash, nil
	}
	return write(root)
}

// replace returns the hash of the tree root (zero: empty) with the subtree
// at path set to sub (zero: removed). Directories left empty are removed;
// the root is written even when empty.
func (w *workspace) replace(root plumbing.Hash, path []string, sub plumbing.Hash) (plumbing.Hash, error) {
	h, err := w.replaceIn(root, path, sub, "")
	if err != nil || !h.IsZero() {
		return h, err
	}
	return w.tree(nil)
}

func (w *workspace) replaceIn(dir plumbing.Hash, path []string, sub plumbing.Hash, prefix string) (plumbing.Hash, error) {
	if len(path) == 0 {
		return sub, nil
	}
	var entries []object.TreeEntry
	if !dir.IsZero() {
		t, err := w.readTree(dir)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", prefix, err)
		}
		entries = append(entries, t.Entries...)
	}
	name := path[0]
	var child plumbing.Hash
	kept := entries[:0]
	for _, e := range entries {
		if e.Name != name {
			kept = append(kept, e)
			continue
		}
		if len(path) > 1 && e.Mode != filemode.Dir {
			return plumbing.ZeroHash, fmt.Errorf("gitops: %w: %q", ErrPathConflict, prefix+name)
		}
		child = e.Hash
		if len(path) == 1 && e.Mode != filemode.Dir {
			child = plumbing.ZeroHash // a file where the directory goes is replaced
		}
	}
	newChild, err := w.replaceIn(child, path[1:], sub, prefix+name+"/")
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if !newChild.IsZero() {
		kept = append(kept, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: newChild})
	}
	if len(kept) == 0 {
		return plumbing.ZeroHash, nil
	}
	if !dir.IsZero() && len(kept) == len(entries) && newChild == child {
		return dir, nil
	}
	return w.tree(kept)
}

// subtree returns the hash of the tree at path under root, or zero if there
// is none.
func (w *workspace) subtree(root plumbing.Hash, path []string) (plumbing.Hash, error) {
	h := root
	for _, name := range path {
		if h.IsZero() {
			return h, nil
		}
		t, err := w.readTree(h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		e, err := t.FindEntry(name)
		if err != nil || e.Mode != filemode.Dir {
			return plumbing.ZeroHash, nil
		}
		h = e.Hash
	}
	return h, nil
}

// FileChange is one file-level difference a [Repo.Commit] made inside
// Change.Dir.
type FileChange struct {
	Path   string // relative to Change.Dir
	Action string // "added", "removed" or "modified"
}

// diff lists file-level differences between two trees (zero: empty), by
// hash only: no blob is read.
func (w *workspace) diff(a, b plumbing.Hash, prefix string, out []FileChange) ([]FileChange, error) {
	if a == b {
		return out, nil
	}
	entries := func(h plumbing.Hash) (map[string]object.TreeEntry, error) {
		m := map[string]object.TreeEntry{}
		if h.IsZero() {
			return m, nil
		}
		t, err := w.readTree(h)
		if err != nil {
			return nil, err
		}
		for _, e := range t.Entries {
			m[e.Name] = e
		}
		return m, nil
	}
	ea, err := entries(a)
	if err != nil {
		return nil, err
	}
	eb, err := entries(b)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for n := range ea {
		names[n] = true
	}
	for n := range eb {
		names[n] = true
	}
	for _, n := range sortedKeys(names) {
		x, inA := ea[n]
		y, inB := eb[n]
		xDir, yDir := inA && x.Mode == filemode.Dir, inB && y.Mode == filemode.Dir
		if xDir || yDir {
			var xh, yh plumbing.Hash
			if xDir {
				xh = x.Hash
			}
			if yDir {
				yh = y.Hash
			}
			if out, err = w.diff(xh, yh, prefix+n+"/", out); err != nil {
				return nil, err
			}
			if inA && !xDir {
				out = append(out, FileChange{Path: prefix + n, Action: "removed"})
			}
			if inB && !yDir {
				out = append(out, FileChange{Path: prefix + n, Action: "added"})
			}
			continue
		}
		switch {
		case !inA:
			out = append(out, FileChange{Path: prefix + n, Action: "added"})
		case !inB:
			out = append(out, FileChange{Path: prefix + n, Action: "removed"})
		case x.Hash != y.Hash || x.Mode != y.Mode:
			out = append(out, FileChange{Path: prefix + n, Action: "modified"})
		}
	}
	return out, nil
}
