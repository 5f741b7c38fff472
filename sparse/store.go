package sparse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// errMissing reports an object absent from the store; the strategies turn
// it into a request or into a typed error.
var errMissing = errors.New("object not in store")

// store holds received packs on disk, so that memory does not grow with
// the size of what the server sends, and reads objects back verified.
type store struct {
	dir  string
	temp bool
	lock *os.File
	st   *filesystem.Storage
}

// objectCacheSize bounds go-git's decoded-object cache per fetch.
const objectCacheSize = 4 * cache.MiByte

// openStore opens the cache directory under an exclusive lock, or creates
// a private temporary store. In the cache, each repository URL has its own
// object store, so that objects fetched from one repository never answer
// for another (a fork's commit must not be served as the original's).
func openStore(ctx context.Context, o *options, url string) (*store, error) {
	s := &store{}
	if o.cacheDir == "" {
		dir, err := os.MkdirTemp(o.tempDir, "railyard-sparse-*")
		if err != nil {
			return nil, fmt.Errorf("%w: create object store: %v", ErrInvalidRequest, osReason(err))
		}
		s.dir, s.temp = dir, true
	} else {
		if err := os.MkdirAll(o.cacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("%w: open cache: %v", ErrInvalidRequest, osReason(err))
		}
		f, err := os.OpenFile(filepath.Join(o.cacheDir, "railyard-sparse.lock"), os.O_CREATE|os.O_RDWR|noFollow, 0o600)
		if err != nil {
			return nil, fmt.Errorf("%w: open cache lock: %v", ErrInvalidRequest, osReason(err))
		}
		if err := lockFile(ctx, f); err != nil {
			_ = f.Close()
			if ctx.Err() == nil {
				return nil, fmt.Errorf("%w: lock cache: %v", ErrInvalidRequest, osReason(err))
			}
			return nil, fmt.Errorf("lock cache: %w", err)
		}
		sum := sha256.Sum256([]byte(url))
		dir := filepath.Join(o.cacheDir, "repo-"+hex.EncodeToString(sum[:16]))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("%w: open cache: %v", ErrInvalidRequest, osReason(err))
		}
		s.dir, s.lock = dir, f
		s.removeTempPacks()
	}
	s.open()
	return s, nil
}

// osReason is the system's reason for a failed file operation, without the
// local path (errors name no temporary or cache paths).
func osReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (s *store) open() {
	s.st = filesystem.NewStorageWithOptions(osfs.New(s.dir), cache.NewObjectLRU(objectCacheSize), filesystem.Options{})
}

// removeTempPacks deletes packs a killed or failed fetch left half-written.
func (s *store) removeTempPacks() {
	packs := filepath.Join(s.dir, "objects", "pack")
	entries, _ := os.ReadDir(packs)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tmp_") {
			_ = os.Remove(filepath.Join(packs, e.Name()))
		}
	}
}

// reset empties a corrupt store so the fetch can be redone from scratch.
func (s *store) reset() error {
	_ = s.st.Close()
	if err := os.RemoveAll(filepath.Join(s.dir, "objects")); err != nil {
		return fmt.Errorf("reset object store: %w", err)
	}
	s.open()
	return nil
}

func (s *store) close() {
	_ = s.st.Close()
	if s.temp {
		_ = os.RemoveAll(s.dir)
	}
	if s.lock != nil {
		_ = s.lock.Close()
	}
}

func (s *store) has(h plumbing.Hash) bool {
	return s.st.HasEncodedObject(h) == nil
}

// tooBigError reports an object larger than the caller's bound.
type tooBigError struct{ size int64 }

func (e *tooBigError) Error() string { return fmt.Sprintf("object of %d bytes", e.size) }

// read returns the content of object h of type t, at most max bytes long,
// after checking that it hashes to h. It returns errMissing, a
// *tooBigError or an error wrapping ErrCorrupt.
func (s *store) read(h plumbing.Hash, t plumbing.ObjectType, max int64) ([]byte, error) {
	obj, err := s.st.EncodedObject(plumbing.AnyObject, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, errMissing
	}
	if err != nil {
		return nil, corrupt(h, err.Error())
	}
	if obj.Type() != t {
		return nil, corrupt(h, fmt.Sprintf("is a %s, expected a %s", obj.Type(), t))
	}
	if obj.Size() > max {
		return nil, &tooBigError{size: obj.Size()}
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, corrupt(h, err.Error())
	}
	defer r.Close()
	data := make([]byte, obj.Size())
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, corrupt(h, err.Error())
	}
	if n, _ := r.Read(make([]byte, 1)); n != 0 {
		return nil, corrupt(h, "longer than its header says")
	}
	if plumbing.ComputeHash(t, data) != h {
		return nil, corrupt(h, "content does not match its id")
	}
	return data, nil
}

func corrupt(h plumbing.Hash, why string) error {
	return fmt.Errorf("%w: %s %s", ErrCorrupt, h, why)
}

// maxTreeSize bounds one tree object; git itself has no limit, but a tree
// of a million entries is hostile here.
const maxTreeSize = 64 << 20

// commitTree reads commit h and returns its root tree id.
func (s *store) commitTree(h plumbing.Hash) (plumbing.Hash, error) {
	data, err := s.read(h, plumbing.CommitObject, maxTreeSize)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	var c object.Commit
	if err := c.Decode(memoryObject(plumbing.CommitObject, data)); err != nil {
		return plumbing.ZeroHash, corrupt(h, err.Error())
	}
	return c.TreeHash, nil
}

// tree reads tree h and checks that every entry is safe to materialize.
func (s *store) tree(h plumbing.Hash) ([]object.TreeEntry, error) {
	data, err := s.read(h, plumbing.TreeObject, maxTreeSize)
	if err != nil {
		return nil, err
	}
	var t object.Tree
	if err := t.Decode(memoryObject(plumbing.TreeObject, data)); err != nil {
		return nil, corrupt(h, err.Error())
	}
	seen := make(map[string]bool, len(t.Entries))
	for _, e := range t.Entries {
		if err := checkEntry(e); err != nil {
			return nil, err
		}
		if seen[e.Name] {
			return nil, &PathError{Path: truncate(e.Name), Reason: "duplicate tree entry name", Err: ErrUnsafeContent}
		}
		seen[e.Name] = true
	}
	return t.Entries, nil
}

func memoryObject(t plumbing.ObjectType, data []byte) plumbing.EncodedObject {
	o := &plumbing.MemoryObject{}
	o.SetType(t)
	_, _ = o.Write(data)
	return o
}

// checkEntry refuses tree entries git would refuse to check out, and modes
// this package does not know.
func checkEntry(e object.TreeEntry) error {
	bad := func(reason string) error {
		return &PathError{Path: truncate(e.Name), Reason: reason, Err: ErrUnsafeContent}
	}
	switch {
	case e.Name == "" || e.Name == "." || e.Name == "..":
		return bad("reserved tree entry name")
	case strings.ContainsAny(e.Name, "/\\\x00"):
		return bad("tree entry name contains a separator")
	case strings.EqualFold(e.Name, ".git"):
		return bad("tree entry named .git")
	}
	switch e.Mode {
	case filemode.Dir, filemode.Regular, filemode.Deprecated, filemode.Executable, filemode.Symlink, filemode.Submodule:
		return nil
	}
	return bad(fmt.Sprintf("unknown mode %o", uint32(e.Mode)))
}
