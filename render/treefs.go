package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// treeFS is the in-memory file system kustomize builds from: the files
// the walk validated, at their tree paths under "/". kustomize's own
// in-memory file system refuses to hold names outside [a-zA-Z0-9-_.:] (a
// file "web@v2.yaml" that kustomize builds from a disk could not be
// copied into it), so Build has its own. It is a plain map: nothing of it
// reaches the disk. kustomize only reads it during a build; the write
// methods exist for the interface and work in memory.
type treeFS struct {
	files map[string][]byte // clean absolute path -> content
	dirs  map[string]bool   // clean absolute path -> exists, "/" included
}

var _ filesys.FileSystem = (*treeFS)(nil)

func newTreeFS() *treeFS {
	return &treeFS{files: map[string][]byte{}, dirs: map[string]bool{"/": true}}
}

// abs cleans p, relative paths being relative to the root.
func (t *treeFS) abs(p string) string {
	if !filepath.IsAbs(p) {
		p = "/" + p
	}
	return filepath.Clean(p)
}

func notExist(p string) error { return fmt.Errorf("'%s' doesn't exist", p) }

// Create creates (or truncates) a file.
func (t *treeFS) Create(p string) (filesys.File, error) {
	if err := t.WriteFile(p, nil); err != nil {
		return nil, err
	}
	return &treeFile{fs: t, path: t.abs(p)}, nil
}

// Mkdir makes a directory whose parent exists.
func (t *treeFS) Mkdir(p string) error {
	a := t.abs(p)
	if !t.dirs[filepath.Dir(a)] {
		return notExist(filepath.Dir(a))
	}
	return t.MkdirAll(a)
}

// MkdirAll makes a directory and its parents.
func (t *treeFS) MkdirAll(p string) error {
	for a := t.abs(p); !t.dirs[a]; a = filepath.Dir(a) {
		if _, isFile := t.files[a]; isFile {
			return fmt.Errorf("%s is a file", a)
		}
		t.dirs[a] = true
	}
	return nil
}

// RemoveAll removes a path and everything below it.
func (t *treeFS) RemoveAll(p string) error {
	a := t.abs(p)
	for name := range t.files {
		if name == a || strings.HasPrefix(name, a+"/") {
			delete(t.files, name)
		}
	}
	for name := range t.dirs {
		if name != "/" && (name == a || strings.HasPrefix(name, a+"/")) {
			delete(t.dirs, name)
		}
	}
	return nil
}

// Open opens a file for reading (and writing, in memory).
func (t *treeFS) Open(p string) (filesys.File, error) {
	a := t.abs(p)
	data, ok := t.files[a]
	if !ok {
		if t.dirs[a] {
			return &treeFile{fs: t, path: a, dir: true}, nil
		}
		return nil, notExist(p)
	}
	return &treeFile{fs: t, path: a, r: bytes.NewReader(data)}, nil
}

// IsDir reports whether p is a directory.
func (t *treeFS) IsDir(p string) bool { return t.dirs[t.abs(p)] }

// ReadDir returns the sorted names of the entries of directory p.
func (t *treeFS) ReadDir(p string) ([]string, error) {
	a := t.abs(p)
	if !t.dirs[a] {
		if _, ok := t.files[a]; ok {
			return nil, fmt.Errorf("%s is not a directory", p)
		}
		return nil, notExist(p)
	}
	var names []string
	for _, set := range []map[string]bool{t.dirs, t.fileSet()} {
		for name := range set {
			if name != a && filepath.Dir(name) == a {
				names = append(names, filepath.Base(name))
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

func (t *treeFS) fileSet() map[string]bool {
	out := make(map[string]bool, len(t.files))
	for name := range t.files {
		out[name] = true
	}
	return out
}

// CleanedAbs returns the directory p names, or the directory holding the
// file p names and the file's name.
func (t *treeFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	a := t.abs(p)
	if t.dirs[a] {
		return filesys.ConfirmedDir(a), "", nil
	}
	if _, ok := t.files[a]; ok {
		return filesys.ConfirmedDir(filepath.Dir(a)), filepath.Base(a), nil
	}
	return "", "", notExist(p)
}

// Exists reports whether p is a file or a directory.
func (t *treeFS) Exists(p string) bool {
	a := t.abs(p)
	_, ok := t.files[a]
	return ok || t.dirs[a]
}

// Glob returns the sorted files matching pattern (filepath.Match).
func (t *treeFS) Glob(pattern string) ([]string, error) {
	var out []string
	for name := range t.files {
		ok, err := filepath.Match(pattern, name)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ReadFile returns a copy of the content of file p.
func (t *treeFS) ReadFile(p string) ([]byte, error) {
	data, ok := t.files[t.abs(p)]
	if !ok {
		return nil, notExist(p)
	}
	return bytes.Clone(data), nil
}

// WriteFile writes file p, creating its directories.
func (t *treeFS) WriteFile(p string, data []byte) error {
	a := t.abs(p)
	if t.dirs[a] {
		return fmt.Errorf("%s is a directory", p)
	}
	if err := t.MkdirAll(filepath.Dir(a)); err != nil {
		return err
	}
	t.files[a] = data
	return nil
}

// Walk walks the tree below p in lexical order.
func (t *treeFS) Walk(p string, walkFn filepath.WalkFunc) error {
	a := t.abs(p)
	var paths []string
	for name := range t.dirs {
		if name == a || strings.HasPrefix(name, strings.TrimSuffix(a, "/")+"/") {
			paths = append(paths, name)
		}
	}
	for name := range t.files {
		if name == a || strings.HasPrefix(name, strings.TrimSuffix(a, "/")+"/") {
			paths = append(paths, name)
		}
	}
	if len(paths) == 0 {
		return walkFn(p, nil, notExist(p))
	}
	slices.Sort(paths)
	skip := ""
	for _, name := range paths {
		if skip != "" && strings.HasPrefix(name, skip) {
			continue
		}
		info := treeInfo{name: filepath.Base(name), size: int64(len(t.files[name])), dir: t.dirs[name]}
		err := walkFn(name, info, nil)
		switch {
		case errors.Is(err, filepath.SkipDir) && info.dir:
			skip = strings.TrimSuffix(name, "/") + "/"
		case errors.Is(err, filepath.SkipDir), errors.Is(err, filepath.SkipAll):
			return nil
		case err != nil:
			return err
		}
	}
	return nil
}

// treeFile is an open file of a treeFS.
type treeFile struct {
	fs   *treeFS
	path string
	dir  bool
	r    *bytes.Reader
	w    []byte
}

func (f *treeFile) Read(p []byte) (int, error) {
	if f.r == nil {
		return 0, fmt.Errorf("%s: not open for reading", f.path)
	}
	return f.r.Read(p)
}

func (f *treeFile) Write(p []byte) (int, error) {
	f.w = append(f.w, p...)
	f.fs.files[f.path] = f.w
	return len(p), nil
}

func (f *treeFile) Close() error { return nil }

func (f *treeFile) Stat() (os.FileInfo, error) {
	return treeInfo{name: filepath.Base(f.path), size: int64(len(f.fs.files[f.path])), dir: f.dir}, nil
}

// treeInfo is the fs.FileInfo of a treeFS entry.
type treeInfo struct {
	name string
	size int64
	dir  bool
}

func (i treeInfo) Name() string { return i.name }
func (i treeInfo) Size() int64  { return i.size }
func (i treeInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i treeInfo) ModTime() time.Time { return time.Time{} }
func (i treeInfo) IsDir() bool        { return i.dir }
func (i treeInfo) Sys() any           { return nil }
