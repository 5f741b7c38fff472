package sparse

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Strategy names reported in [Stats.Strategy], best first. [Fetch] picks
// the first one the server's advertised capabilities allow and falls back
// to the next when the server refuses a request.
const (
	// StrategyPathWalk fetches the commit alone, then one tree per path
	// level, then the cone's trees and blobs: cost follows the cone. Needs
	// the "filter" capability and wants of any reachable object.
	StrategyPathWalk = "path-walk"
	// StrategyBlobless fetches the commit with all its trees but no blobs
	// (filter blob:none, depth 1), then the cone's blobs in one request.
	StrategyBlobless = "blobless"
	// StrategyShallow fetches the commit with its whole tree (depth 1, no
	// filter). Needs wants of the exact commit id.
	StrategyShallow = "shallow"
	// StrategyBranch fetches [Request.Branch], deepening until the commit
	// is found, for servers that refuse wants of exact commit ids.
	StrategyBranch = "branch"
)

// Checkout is the result of [Fetch]: the cone of the requested paths at one
// commit, held in memory. It is immutable and safe for concurrent use.
type Checkout struct {
	// Commit is the id of the fetched commit, equal to [Request.Commit].
	Commit string
	// Tree is the id of the commit's root tree.
	Tree string
	// FS holds exactly the requested directories and everything below them
	// (and the parent directories leading to them, with no other entries).
	// Regular files have mode 0644 or 0755; symbolic links have
	// [fs.ModeSymlink] and are followed only inside FS. FS implements
	// [fs.ReadLinkFS].
	FS fs.FS
	// Submodules lists the gitlinks inside the cone. They are reported, not
	// followed, and do not appear in FS.
	Submodules []Submodule
	// Stats describes the work the fetch did.
	Stats Stats
}

// Submodule is a gitlink (a submodule's commit recorded in a tree).
type Submodule struct {
	Path   string // slash path inside the repository
	Commit string // the submodule commit id
}

// Stats describes the work a [Fetch] did.
type Stats struct {
	// Strategy is one of StrategyPathWalk, StrategyBlobless,
	// StrategyShallow or StrategyBranch: the one that produced the result.
	Strategy string
	// BytesReceived counts response bytes from the server, advertisements
	// and retries included (over SSH too).
	BytesReceived int64
	// Objects counts the objects received in packs.
	Objects int
	// RoundTrips counts requests sent to the server, retries included.
	// Over SSH each upload-pack request needs a new connection with its own
	// advertisement, counted as a round trip too.
	RoundTrips int
}

// WriteTo materializes the checkout in dir, files at their repository
// paths (dir/k8s/kustomize/...). dir must not exist yet (its parent must)
// or be an empty directory that is not a symbolic link. The
// tree is written to a temporary directory next to dir and renamed into
// place, so dir appears complete or not at all. Symbolic links are
// recreated as links; a link whose target is absolute or leaves the written
// tree is refused with [ErrUnsafeContent] before anything is written.
// Other failures are [ErrDestination] (also for a directory or file that
// cannot be written: the error names the repository path and the system's
// reason, never a local path); retrying helps only after the cause is
// removed.
func (c *Checkout) WriteTo(dir string) error {
	m, ok := c.FS.(*memFS)
	if !ok {
		return fmt.Errorf("sparse: write checkout: %w: not produced by Fetch", ErrInvalidRequest)
	}
	if err := m.checkLinks(); err != nil {
		return fmt.Errorf("sparse: write checkout: %w", err)
	}
	dir = filepath.Clean(dir)
	if err := checkDestination(dir); err != nil {
		return fmt.Errorf("sparse: write checkout: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".sparse-*")
	if err != nil {
		return fmt.Errorf("sparse: write checkout: %w: create temporary directory: %v", ErrDestination, osReason(err))
	}
	if err := m.writeTree(tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("sparse: write checkout: %w", err)
	}
	// rename(2) replaces an empty directory atomically and fails on a
	// non-empty one, so a concurrent writer cannot be overwritten.
	if err := renameDir(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("sparse: write checkout: %w: rename into place: %v", ErrDestination, osReason(err))
	}
	return nil
}

// checkDestination accepts a missing dir under an existing directory, or an
// empty directory that is not a symbolic link.
func checkDestination(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		pi, perr := os.Stat(filepath.Dir(dir))
		if perr != nil || !pi.IsDir() {
			return fmt.Errorf("%w: parent directory does not exist", ErrDestination)
		}
		return nil
	case err != nil:
		return fmt.Errorf("%w: %v", ErrDestination, osReason(err))
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: is a symbolic link", ErrDestination)
	case !fi.IsDir():
		return fmt.Errorf("%w: exists and is not a directory", ErrDestination)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDestination, osReason(err))
	}
	if len(entries) > 0 {
		return fmt.Errorf("%w: directory is not empty", ErrDestination)
	}
	return nil
}

// checkLinks refuses symbolic links that are absolute or climb out of the
// tree, so that nothing written later can be written through them.
func (m *memFS) checkLinks() error {
	return m.walk(func(p string, n *node) error {
		if n.mode&fs.ModeSymlink == 0 {
			return nil
		}
		target := string(n.data)
		joined := path.Join(path.Dir(p), target)
		if target == "" || path.IsAbs(target) || strings.ContainsRune(target, 0) || !fs.ValidPath(joined) || m.linkLeaves(p) {
			return &PathError{Path: p, Reason: "symbolic link points outside the checkout", Err: ErrUnsafeContent}
		}
		return nil
	})
}

// linkLeaves reports whether the link at p, resolved the way the kernel
// will resolve it once written (element by element, following the links it
// passes through before applying ".."), climbs above the root or reaches
// an absolute target. Elements missing from m are taken as directories,
// which is never less strict than the kernel.
func (m *memFS) linkLeaves(p string) bool {
	cur := path.Dir(p)
	rest := string(m.nodes[p].data)
	for hops := 0; rest != ""; {
		elem, tail, _ := strings.Cut(rest, "/")
		rest = tail
		switch elem {
		case "", ".":
			continue
		case "..":
			if cur == "." {
				return true
			}
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, elem)
		if n, ok := m.nodes[next]; ok && n.mode&fs.ModeSymlink != 0 {
			if hops++; hops > maxLinkHops {
				return false // ELOOP: the kernel resolves it nowhere
			}
			target := string(n.data)
			if path.IsAbs(target) {
				return true
			}
			// The target is relative to the link's directory, cur.
			rest = strings.TrimSuffix(target+"/"+rest, "/")
			continue
		}
		cur = next
	}
	return false
}

// writeTree writes every node below root, which must be a new empty
// directory. Files are created exclusively and without following links.
func (m *memFS) writeTree(root string) error {
	if err := os.Chmod(root, 0o755); err != nil {
		return fmt.Errorf("%w: %v", ErrDestination, osReason(err))
	}
	return m.walk(func(p string, n *node) error {
		dst := filepath.Join(root, filepath.FromSlash(p))
		var err error
		switch {
		case n.mode.IsDir():
			err = os.Mkdir(dst, 0o755)
		case n.mode&fs.ModeSymlink != 0:
			err = os.Symlink(string(n.data), dst)
		default:
			err = writeFile(dst, n.data, n.mode.Perm())
		}
		if err != nil {
			// The repository path, never the temporary one.
			return &PathError{Path: truncate(p), Reason: osReason(err).Error(), Err: ErrDestination}
		}
		return nil
	})
}

func writeFile(name string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
