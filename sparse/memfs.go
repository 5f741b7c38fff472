package sparse

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// maxLinkHops bounds symbolic link resolution, like the kernel's ELOOP.
const maxLinkHops = 40

// node is one entry of a memFS: a directory, a regular file or a symbolic
// link.
type node struct {
	name     string
	mode     fs.FileMode // fs.ModeDir, fs.ModeSymlink or permission bits
	data     []byte      // file content or link target
	children []string    // sorted child names, directories only
}

// memFS is the read-only, in-memory [fs.FS] of a [Checkout]. Symbolic links
// are followed only while they stay inside the file system; a link that
// leaves it (absolute, or climbing above the root) reads as not existing.
// It implements [fs.ReadLinkFS] so callers can see links as links.
type memFS struct {
	nodes map[string]*node // by slash path; "." is the root
}

func newMemFS() *memFS {
	return &memFS{nodes: map[string]*node{".": {name: ".", mode: fs.ModeDir | 0o755}}}
}

// add inserts a file or link at the clean path p, creating parent
// directories. Entries must be added in any order but only once.
func (m *memFS) add(p string, mode fs.FileMode, data []byte) {
	m.mkdirAll(path.Dir(p))
	m.link(p)
	m.nodes[p] = &node{name: path.Base(p), mode: mode, data: data}
}

func (m *memFS) mkdirAll(p string) {
	if _, ok := m.nodes[p]; ok {
		return
	}
	m.mkdirAll(path.Dir(p))
	m.link(p)
	m.nodes[p] = &node{name: path.Base(p), mode: fs.ModeDir | 0o755}
}

// link records p as a child of its parent directory.
func (m *memFS) link(p string) {
	parent := m.nodes[path.Dir(p)]
	name := path.Base(p)
	i := sort.SearchStrings(parent.children, name)
	parent.children = append(parent.children, "")
	copy(parent.children[i+1:], parent.children[i:])
	parent.children[i] = name
}

// resolve returns the clean path name resolves to, following links in every
// element (and in the last one too when followLast is set).
func (m *memFS) resolve(op, name string, followLast bool) (string, *node, error) {
	if !fs.ValidPath(name) {
		return "", nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	notExist := &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	hops := 0
	cur := "."
	rest := name
	for rest != "" {
		elem, tail, _ := strings.Cut(rest, "/")
		switch elem {
		case "", ".":
			rest = tail
			continue
		case "..":
			// Only link targets bring ".." here; cur holds no links, so
			// this is the kernel's "..".
			if cur == "." {
				return "", nil, notExist
			}
			cur, rest = path.Dir(cur), tail
			continue
		}
		next := path.Join(cur, elem)
		n, ok := m.nodes[next]
		if !ok {
			return "", nil, notExist
		}
		if n.mode&fs.ModeSymlink != 0 && (tail != "" || followLast) {
			if hops++; hops > maxLinkHops {
				return "", nil, notExist
			}
			target := string(n.data)
			if target == "" || path.IsAbs(target) {
				return "", nil, notExist
			}
			// Go on from the link's directory with the link replaced by
			// its target, element by element as the kernel does: "a/.."
			// is the parent of where a leads, not the link's directory.
			rest = target
			if tail != "" {
				rest = target + "/" + tail
			}
			continue
		}
		if tail != "" && !n.mode.IsDir() {
			return "", nil, notExist
		}
		cur, rest = next, tail
	}
	return cur, m.nodes[cur], nil
}

// Open implements [fs.FS].
func (m *memFS) Open(name string) (fs.File, error) {
	p, n, err := m.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	if base := path.Base(name); n.name != base {
		// Opened through a link: Stat names the path opened, like os.Stat.
		c := *n
		c.name = base
		n = &c
	}
	return &memFile{fsys: m, path: p, node: n, r: bytes.NewReader(n.data)}, nil
}

// ReadLink implements [fs.ReadLinkFS].
func (m *memFS) ReadLink(name string) (string, error) {
	_, n, err := m.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return string(n.data), nil
}

// Lstat implements [fs.ReadLinkFS].
func (m *memFS) Lstat(name string) (fs.FileInfo, error) {
	_, n, err := m.resolve("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return info{n}, nil
}

// walk calls fn for every node below the root in lexical path order,
// parents before children.
func (m *memFS) walk(fn func(p string, n *node) error) error {
	var visit func(dir string) error
	visit = func(dir string) error {
		for _, name := range m.nodes[dir].children {
			p := path.Join(dir, name)
			n := m.nodes[p]
			if err := fn(p, n); err != nil {
				return err
			}
			if n.mode.IsDir() {
				if err := visit(p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return visit(".")
}

type info struct{ n *node }

func (i info) Name() string       { return i.n.name }
func (i info) Size() int64        { return int64(len(i.n.data)) }
func (i info) Mode() fs.FileMode  { return i.n.mode }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.n.mode.IsDir() }
func (i info) Sys() any           { return nil }

type memFile struct {
	fsys   *memFS
	path   string
	node   *node
	r      *bytes.Reader
	offset int // next child to return from ReadDir
}

func (f *memFile) Stat() (fs.FileInfo, error) { return info{f.node}, nil }
func (f *memFile) Close() error               { return nil }

func (f *memFile) Read(b []byte) (int, error) {
	if f.node.mode.IsDir() {
		return 0, &fs.PathError{Op: "read", Path: f.path, Err: fs.ErrInvalid}
	}
	return f.r.Read(b)
}

// ReadDir implements [fs.ReadDirFile].
func (f *memFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !f.node.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: f.path, Err: fs.ErrInvalid}
	}
	names := f.node.children[f.offset:]
	if n > 0 && len(names) > n {
		names = names[:n]
	}
	if n > 0 && len(names) == 0 {
		return nil, io.EOF
	}
	out := make([]fs.DirEntry, len(names))
	for i, name := range names {
		out[i] = fs.FileInfoToDirEntry(info{f.fsys.nodes[path.Join(f.path, name)]})
	}
	f.offset += len(names)
	return out, nil
}
