package gitwire

import (
	"bufio"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// ErrMissing reports an object the store does not hold.
var ErrMissing = errors.New("object not in store")

// TooBigError reports an object larger than the caller's bound; nothing
// of it was read.
type TooBigError struct{ Size int64 }

func (e *TooBigError) Error() string { return fmt.Sprintf("object of %d bytes", e.Size) }

// Store holds fetched objects on disk, as packs of whole objects (never
// deltas) in objects/pack under its directory, like a bare repository's.
// Memory holds only their indexes (28 bytes per object). Objects read back
// are verified against their id. A Store is safe for concurrent use.
type Store struct {
	dir  string // packs live in dir/objects/pack
	temp bool

	mu     sync.RWMutex
	packs  []*storePack
	closed bool
}

type storePack struct {
	name string
	idx  *index
	f    *os.File
	size int64
}

// maxIndexFile bounds an index file read from disk (about 38 million
// objects).
const maxIndexFile = 1 << 30

// OpenStore opens (creating it if needed) the store in dir and loads the
// indexes of the packs already there; half-written packs a killed process
// left are removed. An index or pack that does not verify is an error of
// KindCorrupt: reset the store with [Store.Reset].
func OpenStore(dir string) (*Store, error) {
	s := &Store{dir: dir}
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// NewTempStore creates an empty store in a new directory under parent
// ("" for the system's), removed by Close.
func NewTempStore(parent string) (*Store, error) {
	dir, err := os.MkdirTemp(parent, "railyard-git-")
	if err != nil {
		return nil, &Error{Op: "create object store", Kind: KindInvalid, Msg: osReason(err), Err: err}
	}
	s := &Store{dir: dir, temp: true}
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) packDir() string { return filepath.Join(s.dir, "objects", "pack") }

func (s *Store) load() error {
	dir := s.packDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &Error{Op: "open object store", Kind: KindInvalid, Msg: osReason(err), Err: err}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &Error{Op: "open object store", Kind: KindInvalid, Msg: osReason(err), Err: err}
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "tmp_") {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		if base, ok := strings.CutSuffix(name, ".idx"); ok && strings.HasPrefix(base, "pack-") {
			if err := s.addPack(base); err != nil {
				return err
			}
		}
	}
	return nil
}

// addPack loads pack name's index and opens the pack.
func (s *Store) addPack(name string) error {
	dir := s.packDir()
	bad := func(why string) error {
		return newErr("open object store", KindCorrupt, "pack %s: %s", name, why)
	}
	fi, err := os.Stat(filepath.Join(dir, name+".idx"))
	if err != nil {
		return bad("index: " + osReason(err))
	}
	if fi.Size() > maxIndexFile {
		return bad("index too large")
	}
	raw, err := os.ReadFile(filepath.Join(dir, name+".idx"))
	if err != nil {
		return bad("index: " + osReason(err))
	}
	idx, err := parseIndex(raw)
	if err != nil {
		return bad(err.Error())
	}
	f, err := os.Open(filepath.Join(dir, name+".pack"))
	if err != nil {
		return bad("pack: " + osReason(err))
	}
	pi, err := f.Stat()
	var trailer [20]byte
	if err == nil && pi.Size() >= 32 {
		_, err = f.ReadAt(trailer[:], pi.Size()-20)
	}
	if err != nil || pi.Size() < 32 || trailer != idx.packSum {
		_ = f.Close()
		return bad("pack does not match its index")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packs = append(s.packs, &storePack{name: name, idx: idx, f: f, size: pi.Size()})
	return nil
}

// Close closes the packs; a temporary store's directory is removed.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.packs {
		_ = p.f.Close()
	}
	s.packs = nil
	s.closed = true
	if s.temp {
		_ = os.RemoveAll(s.dir)
	}
}

// Reset removes every pack, for a store whose content failed verification.
func (s *Store) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.packs {
		_ = p.f.Close()
	}
	s.packs = nil
	if err := os.RemoveAll(filepath.Join(s.dir, "objects")); err != nil {
		return &Error{Op: "reset object store", Kind: KindInvalid, Msg: osReason(err), Err: err}
	}
	if err := os.MkdirAll(s.packDir(), 0o700); err != nil {
		return &Error{Op: "reset object store", Kind: KindInvalid, Msg: osReason(err), Err: err}
	}
	return nil
}

// Has reports whether the store holds h.
func (s *Store) Has(h plumbing.Hash) bool {
	p, _ := s.locate(h)
	return p != nil
}

// Count returns the number of objects in the store's packs.
func (s *Store) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, p := range s.packs {
		n += p.idx.count()
	}
	return n
}

func (s *Store) locate(h plumbing.Hash) (*storePack, int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := len(s.packs) - 1; i >= 0; i-- {
		if off := s.packs[i].idx.find(h); off >= 0 {
			return s.packs[i], off
		}
	}
	return nil, -1
}

// Read returns the type and content of object h, at most max bytes long,
// after checking that it hashes to h. It returns [ErrMissing], a
// *[TooBigError] (nothing read), or an *Error of KindCorrupt.
func (s *Store) Read(h plumbing.Hash, max int64) (plumbing.ObjectType, []byte, error) {
	p, off := s.locate(h)
	if p == nil {
		return plumbing.InvalidObject, nil, ErrMissing
	}
	typ, size, hdrLen, err := readHeader(p.f, off)
	if err != nil {
		return plumbing.InvalidObject, nil, corruptObject(h, err.Error())
	}
	if size > max {
		return plumbing.InvalidObject, nil, &TooBigError{Size: size}
	}
	if off+int64(hdrLen) >= p.size-20 {
		return plumbing.InvalidObject, nil, corruptObject(h, "offset beyond the pack")
	}
	data := make([]byte, size)
	if err := inflateAt(p.f, off+int64(hdrLen), p.size-20, data); err != nil {
		return plumbing.InvalidObject, nil, corruptObject(h, err.Error())
	}
	ot := objTypes[typ]
	if plumbing.ComputeHash(ot, data) != h {
		return plumbing.InvalidObject, nil, corruptObject(h, "content does not match its id")
	}
	return ot, data, nil
}

// Size returns the type and size of object h from its header, without
// reading its content.
func (s *Store) Size(h plumbing.Hash) (plumbing.ObjectType, int64, error) {
	p, off := s.locate(h)
	if p == nil {
		return plumbing.InvalidObject, 0, ErrMissing
	}
	typ, size, _, err := readHeader(p.f, off)
	if err != nil {
		return plumbing.InvalidObject, 0, corruptObject(h, err.Error())
	}
	return objTypes[typ], size, nil
}

func corruptObject(h plumbing.Hash, why string) error {
	return newErr("read object", KindCorrupt, "%s: %s", h, why)
}

// readHeader parses the object header at off: a whole object only.
func readHeader(f io.ReaderAt, off int64) (typ byte, size int64, n int, err error) {
	var b [16]byte
	k, err := f.ReadAt(b[:], off)
	if k == 0 && err != nil {
		return 0, 0, 0, fmt.Errorf("read header: %w", err)
	}
	c := b[0]
	typ = (c >> 4) & 7
	size = int64(c & 0x0f)
	n = 1
	for shift := 4; c&0x80 != 0; shift += 7 {
		if n >= k || shift > 56 {
			return 0, 0, 0, errors.New("bad object header")
		}
		c = b[n]
		n++
		size |= int64(c&0x7f) << shift
	}
	if _, ok := objTypes[typ]; !ok {
		return 0, 0, 0, fmt.Errorf("object of pack type %d (not a whole object)", typ)
	}
	return typ, size, n, nil
}

// inflateAt inflates the zlib stream at off (ending before end) into
// data, which it must fill exactly.
func inflateAt(f io.ReaderAt, off, end int64, data []byte) error {
	rd := readers.Get().(*pooledReader)
	defer readers.Put(rd)
	rd.br.Reset(io.NewSectionReader(f, off, end-off))
	var err error
	if rd.zr == nil {
		rd.zr, err = zlib.NewReader(rd.br)
	} else {
		err = rd.zr.(zlib.Resetter).Reset(rd.br, nil)
	}
	if err != nil {
		return err
	}
	zr := rd.zr
	if _, err := io.ReadFull(zr, data); err != nil {
		return fmt.Errorf("inflate: %w", err)
	}
	var one [1]byte
	for {
		n, err := zr.Read(one[:])
		if n > 0 {
			return errors.New("content longer than its header says")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("inflate: %w", err)
		}
	}
}

// pooledReader is a reusable buffered zlib reader: objects are read by the
// hundred, and a zlib reader costs tens of KiB to set up.
type pooledReader struct {
	br *bufio.Reader
	zr io.ReadCloser
}

var readers = sync.Pool{New: func() any { return &pooledReader{br: bufio.NewReaderSize(nil, 32<<10)} }}

// readWhole reads the whole object at off of a pack being written into
// data (exactly its size).
func readWhole(f io.ReaderAt, off, size int64, data []byte) (byte, int64, error) {
	typ, got, n, err := readHeader(f, off)
	if err != nil {
		return 0, 0, err
	}
	if got != size {
		return 0, 0, errors.New("size changed on disk")
	}
	return typ, got, inflateAt(f, off+int64(n), 1<<62, data)
}

// osReason is the system's reason for a failed file operation, without
// the path (errors name no temporary or cache paths).
func osReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Op + ": " + le.Err.Error()
	}
	return err.Error()
}

// ingest reads one pack from r into the store. An empty pack adds nothing.
func (s *Store) ingest(op string, r io.Reader, b *budget, maxCount int64) (*Ingested, error) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, newErr(op, KindInvalid, "object store closed")
	}
	name, info, err := ingest(op, r, s.packDir(), b, maxCount)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return info, nil
	}
	if err := s.addPack(name); err != nil {
		return nil, err
	}
	return info, nil
}

// Ingest reads one pack from r into the store under limits, as a fetch
// does; for tests and callers with a pack at hand.
func (s *Store) Ingest(r io.Reader, lim Limits) (*Ingested, error) {
	if err := lim.Check(); err != nil {
		return nil, newErr("read pack", KindInvalid, "%v", err)
	}
	b := &budget{lim: lim}
	maxCount := min(lim.MaxObjects, lim.MaxTransfer/minObjectBytes)
	info, err := s.ingest("read pack", r, b, maxCount)
	if errors.Is(err, errEmptyPack) {
		return &Ingested{}, nil
	}
	return info, err
}
