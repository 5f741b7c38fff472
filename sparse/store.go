package sparse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/railyard-gitops/railyard/internal/gitwire"
	"github.com/railyard-gitops/railyard/internal/pathcheck"
)

// errMissing reports an object absent from the store; the strategies turn
// it into a request or into a typed error.
var errMissing = gitwire.ErrMissing

// store holds received packs on disk (internal/gitwire's store: whole
// objects only), so that memory does not grow with the size of what the
// server sends, and reads objects back verified.
type store struct {
	*gitwire.Store
	temp    bool
	lock    *os.File
	maxRead int64 // the largest commit or tree read
}

// openStore opens the cache directory under an exclusive lock, or creates
// a private temporary store. In the cache, each repository URL has its own
// object store, so that objects fetched from one repository never answer
// for another (a fork's commit must not be served as the original's).
func openStore(ctx context.Context, o *options, url string) (*store, error) {
	s := &store{maxRead: o.maxObjectSize}
	if o.cacheDir == "" {
		if err := os.MkdirAll(o.tempDir, 0o700); err != nil {
			return nil, fmt.Errorf("%w: create object store: %v", ErrInvalidRequest, osReason(err))
		}
		st, err := gitwire.NewTempStore(o.tempDir)
		if err != nil {
			return nil, fmt.Errorf("%w: create object store: %v", ErrInvalidRequest, storeReason(err))
		}
		s.Store, s.temp = st, true
		return s, nil
	}
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
	st, err := gitwire.OpenStore(dir)
	if gitwire.KindOf(err) == gitwire.KindCorrupt {
		// An index or pack that does not verify: start the cache over.
		o.logger.Warn("sparse: object cache failed verification; rebuilding it", "err", err)
		if rerr := os.RemoveAll(filepath.Join(dir, "objects")); rerr == nil {
			st, err = gitwire.OpenStore(dir)
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%w: open cache: %v", ErrInvalidRequest, storeReason(err))
	}
	s.Store, s.lock = st, f
	return s, nil
}

// osReason is the system's reason for a failed file operation, without the
// local path (errors name no temporary or cache paths).
func osReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// storeReason is a store error's message, which names no path.
func storeReason(err error) string {
	var e *gitwire.Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return osReason(err).Error()
}

// reset empties a corrupt store so the fetch can be redone from scratch.
func (s *store) reset() error {
	if err := s.Store.Reset(); err != nil {
		return fmt.Errorf("%w: reset object store: %v", ErrInvalidRequest, storeReason(err))
	}
	return nil
}

func (s *store) close() {
	s.Store.Close()
	if s.lock != nil {
		_ = s.lock.Close()
	}
}

func (s *store) has(h plumbing.Hash) bool { return s.Store.Has(h) }

// tooBigError reports an object larger than the caller's bound.
type tooBigError = gitwire.TooBigError

// read returns the content of object h of type t, at most max bytes long,
// verified against its id. It returns errMissing, a *tooBigError, an error
// wrapping ErrCorrupt (the store's bytes do not verify) or ErrUnsafeContent
// (a verified object of another type than the one that names it expects).
func (s *store) read(h plumbing.Hash, t plumbing.ObjectType, max int64) ([]byte, error) {
	typ, data, err := s.Store.Read(h, max)
	var big *tooBigError
	switch {
	case errors.Is(err, gitwire.ErrMissing):
		return nil, errMissing
	case errors.As(err, &big):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: %s", ErrCorrupt, storeReason(err))
	case typ != t:
		return nil, fmt.Errorf("%w: %s is a %s where a %s belongs", ErrUnsafeContent, h, typ, t)
	}
	return data, nil
}

// commitTree reads commit h and returns its root tree id.
func (s *store) commitTree(h plumbing.Hash) (plumbing.Hash, error) {
	data, err := s.read(h, plumbing.CommitObject, s.maxRead)
	if err != nil {
		return plumbing.ZeroHash, s.tooBig(err, "commit")
	}
	var c object.Commit
	if err := c.Decode(memoryObject(plumbing.CommitObject, data)); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%w: commit %s does not parse", ErrUnsafeContent, h)
	}
	return c.TreeHash, nil
}

// tooBig turns a commit or tree over the object size limit into a limit
// error (only a cache filled under larger limits holds one).
func (s *store) tooBig(err error, what string) error {
	var big *tooBigError
	if errors.As(err, &big) {
		return &LimitError{Limit: "object size", Max: s.maxRead}
	}
	return err
}

// treeEntry is one entry of a tree.
type treeEntry struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash
}

// tree reads tree h and checks that every entry is safe to materialize:
// a name git would check out (internal/pathcheck, git's verify_path with
// protectNTFS and protectHFS), a mode this package knows, no duplicates.
func (s *store) tree(h plumbing.Hash) ([]treeEntry, error) {
	data, err := s.read(h, plumbing.TreeObject, s.maxRead)
	if err != nil {
		return nil, s.tooBig(err, "tree")
	}
	var entries []treeEntry
	seen := map[string]bool{}
	err = eachEntry(data, func(name []byte, mode filemode.FileMode, id plumbing.Hash) error {
		n := string(name)
		if err := checkEntry(object.TreeEntry{Name: n, Mode: mode}); err != nil {
			return err
		}
		if seen[n] {
			return &PathError{Path: truncate(n), Reason: "duplicate tree entry name", Err: ErrUnsafeContent}
		}
		seen[n] = true
		entries = append(entries, treeEntry{name: n, mode: mode, hash: id})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return entries, nil
}

// eachEntry calls fn for each entry of a tree object's content, in order,
// without building anything for entries fn does not keep. A malformed tree
// is ErrUnsafeContent.
func eachEntry(data []byte, fn func(name []byte, mode filemode.FileMode, id plumbing.Hash) error) error {
	bad := fmt.Errorf("%w: tree does not parse", ErrUnsafeContent)
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 || sp > 7 {
			return bad
		}
		m, err := strconv.ParseUint(string(data[:sp]), 8, 32)
		if err != nil {
			return bad
		}
		data = data[sp+1:]
		nul := bytes.IndexByte(data, 0)
		if nul < 0 || len(data) < nul+1+20 {
			return bad
		}
		var id plumbing.Hash
		copy(id[:], data[nul+1:nul+21])
		if err := fn(data[:nul], filemode.FileMode(m), id); err != nil {
			return err
		}
		data = data[nul+21:]
	}
	return nil
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
	if why := pathcheck.EntryProblem(e.Name); why != "" {
		return &PathError{Path: truncate(e.Name), Reason: why, Err: ErrUnsafeContent}
	}
	switch e.Mode {
	case filemode.Dir, filemode.Regular, filemode.Deprecated, filemode.Executable, filemode.Symlink, filemode.Submodule:
		return nil
	}
	return &PathError{Path: truncate(e.Name), Reason: fmt.Sprintf("unknown mode %o", uint32(e.Mode)), Err: ErrUnsafeContent}
}
