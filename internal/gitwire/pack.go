package gitwire

// Pack ingestion.
//
// Why gitwire indexes packs itself instead of guarding go-git's indexer:
// measured with go-git v5.19.3 (sparse's rsstest, a 22 KB pack: one
// 16 MiB blob and a chain of 16 MiB delta results), go-git's ingestion
// peaks at 257 MiB RSS with a chain of 12 and 338 MiB with 24, although no
// object exceeds 16 MiB: its resolver recurses down each chain holding
// every level's content, and objects over its 10 MiB buffer cache are
// never cached. Its pack reader (Packfile.Get) recurses the same way when
// an object is read back later. A guard in front of it could only keep a
// 1 MiB answer under 128 MiB by holding the whole operation's inflated
// bytes to a few tens of MiB, which legitimate fetches exceed.
//
// So gitwire reads the pack itself, in one streaming pass, and writes a
// pack of whole objects only: a whole object's compressed bytes are copied
// as they arrive (after they inflated to exactly their declared size); a
// delta is resolved at once against its base — earlier in the same pack
// and already written whole — and written whole. Memory is then bounded by
// the largest object (a delta's instructions and its base, at most
// MaxObjectSize each) plus a small base cache, whatever the pack's size,
// count or chain depth; reading an object back later inflates that object
// alone.

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing"
	githash "github.com/go-git/go-git/v5/plumbing/hash"
)

// Object types in a pack header.
const (
	objCommit   = 1
	objTree     = 2
	objBlob     = 3
	objTag      = 4
	objOFSDelta = 6
	objREFDelta = 7
)

var objTypes = map[byte]plumbing.ObjectType{
	objCommit: plumbing.CommitObject, objTree: plumbing.TreeObject,
	objBlob: plumbing.BlobObject, objTag: plumbing.TagObject,
}

// Ingested describes one pack written to a [Store].
type Ingested struct {
	Objects []ObjectInfo // every object of the pack, in pack order
}

// ObjectInfo names one stored object.
type ObjectInfo struct {
	Hash plumbing.Hash
	Type plumbing.ObjectType
	Size int64
}

// record is one object of the pack being ingested.
type record struct {
	in    int64 // offset in the received pack
	out   int64 // offset in the written pack
	size  int64
	crc   uint32
	depth uint16
	typ   byte // resolved: commit, tree, blob or tag
	hash  plumbing.Hash
}

const (
	// baseCacheBudget bounds the contents kept as delta bases.
	baseCacheBudget = 8 << 20
	// baseCacheItem is the largest object the base cache keeps; a bigger
	// base is kept in the one reusable base buffer instead.
	baseCacheItem = 1 << 20
)

// indexer is one ingestion: a received pack in, a pack of whole objects
// out.
type indexer struct {
	op     string
	src    *source
	out    *packOut
	b      *budget
	recs   []record
	byHash map[plumbing.Hash]int32 // built at the first REF delta

	zr      io.ReadCloser // reused zlib reader
	zw      *zlib.Writer  // reused zlib writer
	hdr     []byte
	delta   []byte // reused: a delta's instructions
	base    []byte // reused: a base read back from the written pack
	baseIdx int    // record whose content base holds, -1 for none
	cache   baseCache
}

// ingest reads one pack from r into a new pack file under dir. maxCount is
// the most objects the header may declare (the limit, or less when the
// transfer limit cannot carry more). It returns the final pack's name
// ("pack-<sum>") and what it holds; nothing is left in dir on error.
func ingest(op string, r io.Reader, dir string, b *budget, maxCount int64) (string, *Ingested, error) {
	ix := &indexer{op: op, src: newSource(r), b: b, baseIdx: -1}
	var hdr [12]byte
	if _, err := io.ReadFull(ix.src, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return "", nil, errEmptyPack
		}
		return "", nil, readErr(op, err)
	}
	if string(hdr[:4]) != "PACK" {
		return "", nil, newErr(op, KindCorrupt, "not a pack: starts with %q", sanitize(hdr[:4]))
	}
	if v := binary.BigEndian.Uint32(hdr[4:8]); v != 2 && v != 3 {
		return "", nil, newErr(op, KindUnsafe, "pack version %d", v)
	}
	count := int64(binary.BigEndian.Uint32(hdr[8:]))
	// Checked before anything is sized from the count: a 100-byte answer
	// may declare four billion objects.
	switch {
	case count > b.lim.MaxObjects:
		return "", nil, limitErr(op, "objects", b.lim.MaxObjects)
	case count > maxCount:
		// More objects than what is left of the transfer limit can carry.
		return "", nil, limitErr(op, "transfer", b.lim.MaxTransfer)
	}
	out, err := newPackOut(dir, hdr[8:])
	if err != nil {
		return "", nil, err
	}
	ix.out = out
	name, info, err := ix.run(count)
	if err != nil {
		out.abort()
		return "", nil, err
	}
	return name, info, nil
}

var errEmptyPack = errors.New("empty pack")

func (ix *indexer) run(count int64) (string, *Ingested, error) {
	// Grown as objects arrive, never sized from the header.
	for i := int64(0); i < count; i++ {
		if err := ix.object(); err != nil {
			return "", nil, err
		}
	}
	// The received pack's checksum covers everything before it.
	got := ix.src.sum()
	var want [20]byte
	if _, err := io.ReadFull(ix.src, want[:]); err != nil {
		return "", nil, readErr(ix.op, err)
	}
	if !bytes.Equal(got, want[:]) {
		return "", nil, newErr(ix.op, KindCorrupt, "pack checksum does not match its content")
	}
	info := &Ingested{}
	if len(ix.recs) == 0 {
		ix.out.abort()
		return "", info, nil
	}
	name, err := ix.out.finish(ix.recs)
	if err != nil {
		return "", nil, err
	}
	info.Objects = make([]ObjectInfo, len(ix.recs))
	for i, r := range ix.recs {
		info.Objects[i] = ObjectInfo{Hash: r.hash, Type: objTypes[r.typ], Size: r.size}
	}
	return name, info, nil
}

// object reads one object and writes it whole.
func (ix *indexer) object() error {
	in := ix.src.off
	typ, size, err := ix.header()
	if err != nil {
		return err
	}
	switch typ {
	case objCommit, objTree, objBlob, objTag:
		return ix.whole(in, typ, size)
	case objOFSDelta:
		rel, err := ix.ofs()
		if err != nil {
			return err
		}
		if rel <= 0 || rel > in-12 {
			return newErr(ix.op, KindCorrupt, "delta at %d names a base outside the pack", in)
		}
		base := ix.find(in - rel)
		if base < 0 {
			return newErr(ix.op, KindCorrupt, "delta at %d names no object as its base", in)
		}
		return ix.resolve(in, base, size)
	case objREFDelta:
		var h plumbing.Hash
		if _, err := io.ReadFull(ix.src, h[:]); err != nil {
			return readErr(ix.op, err)
		}
		base, ok := ix.lookup(h)
		if !ok {
			// Thin packs are never asked for: a base outside the pack is
			// an object this operation did not check.
			return newErr(ix.op, KindUnsafe, "delta against %s, which is not earlier in the pack", h)
		}
		return ix.resolve(in, base, size)
	}
	return newErr(ix.op, KindCorrupt, "object at %d has type %d", in, typ)
}

// header reads an object header: type and declared inflated size, which
// is checked against MaxObjectSize at once.
func (ix *indexer) header() (byte, int64, error) {
	c, err := ix.src.ReadByte()
	if err != nil {
		return 0, 0, readErr(ix.op, err)
	}
	typ := (c >> 4) & 7
	size := int64(c & 0x0f)
	for shift := 4; c&0x80 != 0; shift += 7 {
		if shift > 56 {
			return 0, 0, newErr(ix.op, KindCorrupt, "object size does not fit 63 bits")
		}
		if c, err = ix.src.ReadByte(); err != nil {
			return 0, 0, readErr(ix.op, err)
		}
		size |= int64(c&0x7f) << shift
	}
	if size > ix.b.lim.MaxObjectSize || size < 0 {
		return 0, 0, limitErr(ix.op, "object size", ix.b.lim.MaxObjectSize)
	}
	return typ, size, nil
}

// ofs reads an OFS_DELTA's negative base offset.
func (ix *indexer) ofs() (int64, error) {
	c, err := ix.src.ReadByte()
	if err != nil {
		return 0, readErr(ix.op, err)
	}
	off := int64(c & 0x7f)
	for c&0x80 != 0 {
		if off > 1<<55 {
			return 0, newErr(ix.op, KindCorrupt, "delta base offset does not fit 63 bits")
		}
		if c, err = ix.src.ReadByte(); err != nil {
			return 0, readErr(ix.op, err)
		}
		off = (off+1)<<7 | int64(c&0x7f)
	}
	return off, nil
}

// find returns the record received at offset in, or -1.
func (ix *indexer) find(in int64) int {
	i := sort.Search(len(ix.recs), func(i int) bool { return ix.recs[i].in >= in })
	if i < len(ix.recs) && ix.recs[i].in == in {
		return i
	}
	return -1
}

func (ix *indexer) lookup(h plumbing.Hash) (int, bool) {
	if ix.byHash == nil {
		ix.byHash = make(map[plumbing.Hash]int32, len(ix.recs))
		for i, r := range ix.recs {
			if _, ok := ix.byHash[r.hash]; !ok {
				ix.byHash[r.hash] = int32(i)
			}
		}
	}
	i, ok := ix.byHash[h]
	return int(i), ok
}

func (ix *indexer) add(r record) {
	ix.recs = append(ix.recs, r)
	if ix.byHash != nil {
		if _, ok := ix.byHash[r.hash]; !ok {
			ix.byHash[r.hash] = int32(len(ix.recs) - 1)
		}
	}
}

// objectHasher starts the id of an object of typ and size. It is go-git's
// SHA-1 (sha1cd), which, like git's sha1dc, detects the known collision
// attacks: a crafted colliding object does not get the id it collides with.
func objectHasher(typ byte, size int64) hash.Hash {
	h := githash.New(crypto.SHA1)
	h.Write([]byte(objTypes[typ].String()))
	h.Write([]byte{' '})
	h.Write(strconv.AppendInt(nil, size, 10))
	h.Write([]byte{0})
	return h
}

// inflater returns the reused zlib reader reset on the source.
func (ix *indexer) inflater() (io.Reader, error) {
	var err error
	if ix.zr == nil {
		ix.zr, err = zlib.NewReader(ix.src)
	} else {
		err = ix.zr.(zlib.Resetter).Reset(ix.src, nil)
	}
	if err != nil {
		return nil, ix.zerr(err)
	}
	return ix.zr, nil
}

// zerr classifies an error from inflating: the source's own read errors
// (a cut answer) pass through, the rest is a corrupt stream.
func (ix *indexer) zerr(err error) error {
	if ix.src.err != nil {
		return readErr(ix.op, ix.src.err)
	}
	return &Error{Op: ix.op, Kind: KindCorrupt, Msg: "object does not inflate: " + err.Error(), Err: err}
}

// inflateExactly copies exactly size inflated bytes of the zlib stream
// starting at the source into w, and consumes the stream's end: a stream
// longer or shorter than size is corrupt, and it never inflates more than
// size+1 bytes.
func (ix *indexer) inflateExactly(w io.Writer, size int64) error {
	zr, err := ix.inflater()
	if err != nil {
		return err
	}
	n, err := io.Copy(w, io.LimitReader(zr, size))
	if err != nil {
		return ix.zerr(err)
	}
	if n != size {
		if ix.src.err != nil {
			return readErr(ix.op, ix.src.err)
		}
		return newErr(ix.op, KindCorrupt, "object inflates to %d bytes, not the %d its header says", n, size)
	}
	var one [1]byte
	switch k, err := zr.Read(one[:]); {
	case k > 0:
		return newErr(ix.op, KindCorrupt, "object inflates past the %d bytes its header says", size)
	case err == io.EOF:
		return nil
	case err == nil:
		// flate may return (0, nil) before reaching the end: read on.
		for {
			k, err = zr.Read(one[:])
			if k > 0 {
				return newErr(ix.op, KindCorrupt, "object inflates past the %d bytes its header says", size)
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return ix.zerr(err)
			}
		}
	default:
		return ix.zerr(err)
	}
}

// whole copies a whole object: its header is rewritten canonically, its
// compressed bytes are copied as they are consumed, after they inflated
// to exactly size bytes hashing to the object's id.
func (ix *indexer) whole(in int64, typ byte, size int64) error {
	if err := ix.b.inflate(ix.op, size); err != nil {
		return err
	}
	r := record{in: in, out: ix.out.off, size: size, typ: typ}
	ix.out.startObject()
	ix.out.write(encodeHeader(ix.hdr[:0], typ, size))
	h := objectHasher(typ, size)
	var w io.Writer = h
	var keep *bytes.Buffer
	if size <= baseCacheItem {
		keep = bytes.NewBuffer(make([]byte, 0, size))
		w = io.MultiWriter(h, keep)
	}
	ix.src.tee(ix.out)
	err := ix.inflateExactly(w, size)
	ix.src.tee(nil)
	if err != nil {
		return err
	}
	if ix.out.err != nil {
		return ix.out.err
	}
	copy(r.hash[:], h.Sum(nil))
	r.crc = ix.out.crc
	ix.add(r)
	if keep != nil {
		ix.cache.put(len(ix.recs)-1, keep.Bytes())
	}
	return nil
}

// resolve reads a delta of size instruction bytes against record base and
// writes its result whole.
func (ix *indexer) resolve(in int64, base int, size int64) error {
	br := ix.recs[base]
	if int(br.depth)+1 > ix.b.lim.MaxDeltaDepth {
		return limitErr(ix.op, "delta depth", int64(ix.b.lim.MaxDeltaDepth))
	}
	if err := ix.b.inflate(ix.op, size); err != nil {
		return err
	}
	if int64(cap(ix.delta)) < size {
		ix.delta = make([]byte, 0, size)
	}
	buf := bytes.NewBuffer(ix.delta[:0])
	if err := ix.inflateExactly(buf, size); err != nil {
		return err
	}
	delta := buf.Bytes()
	ix.delta = delta[:0]
	srcSize, delta, ok := deltaVarint(delta)
	if !ok {
		return newErr(ix.op, KindCorrupt, "delta at %d has no base size", in)
	}
	dstSize, delta, ok := deltaVarint(delta)
	if !ok {
		return newErr(ix.op, KindCorrupt, "delta at %d has no result size", in)
	}
	// The declared result size, checked before anything is built from it.
	if dstSize > uint64(ix.b.lim.MaxObjectSize) {
		return limitErr(ix.op, "object size", ix.b.lim.MaxObjectSize)
	}
	if err := ix.b.inflate(ix.op, int64(dstSize)); err != nil {
		return err
	}
	if srcSize != uint64(br.size) {
		return newErr(ix.op, KindCorrupt, "delta at %d is for a base of %d bytes, its base has %d", in, srcSize, br.size)
	}
	src, err := ix.content(base)
	if err != nil {
		return err
	}
	r := record{in: in, out: ix.out.off, size: int64(dstSize), typ: br.typ, depth: br.depth + 1}
	ix.out.startObject()
	ix.out.write(encodeHeader(ix.hdr[:0], br.typ, r.size))
	if ix.zw == nil {
		ix.zw, _ = zlib.NewWriterLevel(ix.out, zlib.BestSpeed)
	} else {
		ix.zw.Reset(ix.out)
	}
	h := objectHasher(br.typ, r.size)
	var keep []byte
	if r.size <= baseCacheItem {
		keep = make([]byte, 0, r.size)
	}
	emit := func(p []byte) {
		_, _ = ix.zw.Write(p)
		h.Write(p)
		if keep != nil {
			keep = append(keep, p...)
		}
	}
	if err := applyDelta(src, delta, dstSize, emit); err != nil {
		return &Error{Op: ix.op, Kind: KindCorrupt, Msg: fmt.Sprintf("delta at %d: %v", in, err), Err: err}
	}
	if err := ix.zw.Close(); err != nil {
		return err
	}
	if ix.out.err != nil {
		return ix.out.err
	}
	copy(r.hash[:], h.Sum(nil))
	r.crc = ix.out.crc
	ix.add(r)
	if keep != nil {
		ix.cache.put(len(ix.recs)-1, keep)
	}
	return nil
}

// content returns the content of record i: from the base cache, from the
// reusable base buffer, or read back from the written pack (which counts
// as inflating it again).
func (ix *indexer) content(i int) ([]byte, error) {
	if data, ok := ix.cache.get(i); ok {
		return data, nil
	}
	r := ix.recs[i]
	if ix.baseIdx == i {
		return ix.base[:r.size], nil
	}
	if err := ix.b.inflate(ix.op, r.size); err != nil {
		return nil, err
	}
	if err := ix.out.flush(); err != nil {
		return nil, err
	}
	if int64(cap(ix.base)) < r.size {
		ix.base = make([]byte, r.size)
	}
	ix.baseIdx = -1
	data := ix.base[:r.size]
	_, _, err := readWhole(ix.out.f, r.out, r.size, data)
	if err != nil {
		return nil, &Error{Op: ix.op, Kind: KindCorrupt, Msg: "read back a delta base: " + err.Error(), Err: err}
	}
	ix.baseIdx = i
	return data, nil
}

// deltaVarint decodes a delta header size.
func deltaVarint(b []byte) (uint64, []byte, bool) {
	var v uint64
	for i, shift := 0, 0; i < len(b); i, shift = i+1, shift+7 {
		if shift > 56 {
			return 0, nil, false
		}
		v |= uint64(b[i]&0x7f) << shift
		if b[i]&0x80 == 0 {
			return v, b[i+1:], true
		}
	}
	return 0, nil, false
}

// applyDelta applies delta instructions to src, passing the result to
// emit in pieces; the result must be exactly dstSize bytes and use every
// instruction.
func applyDelta(src, delta []byte, dstSize uint64, emit func([]byte)) error {
	var done uint64
	for len(delta) > 0 {
		cmd := delta[0]
		delta = delta[1:]
		switch {
		case cmd&0x80 != 0:
			var off, n uint64
			for i := 0; i < 4; i++ {
				if cmd&(1<<i) != 0 {
					if len(delta) == 0 {
						return errors.New("copy instruction cut short")
					}
					off |= uint64(delta[0]) << (8 * i)
					delta = delta[1:]
				}
			}
			for i := 0; i < 3; i++ {
				if cmd&(0x10<<i) != 0 {
					if len(delta) == 0 {
						return errors.New("copy instruction cut short")
					}
					n |= uint64(delta[0]) << (8 * i)
					delta = delta[1:]
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > uint64(len(src)) {
				return errors.New("copy beyond the base")
			}
			if done+n > dstSize {
				return errors.New("result longer than declared")
			}
			emit(src[off : off+n])
			done += n
		case cmd != 0:
			n := uint64(cmd)
			if uint64(len(delta)) < n {
				return errors.New("insert instruction cut short")
			}
			if done+n > dstSize {
				return errors.New("result longer than declared")
			}
			emit(delta[:n])
			delta = delta[n:]
			done += n
		default:
			return errors.New("reserved instruction 0")
		}
	}
	if done != dstSize {
		return fmt.Errorf("result of %d bytes, declared %d", done, dstSize)
	}
	return nil
}

// encodeHeader appends a pack object header to b.
func encodeHeader(b []byte, typ byte, size int64) []byte {
	c := typ<<4 | byte(size&0x0f)
	size >>= 4
	for size > 0 {
		b = append(b, c|0x80)
		c = byte(size & 0x7f)
		size >>= 7
	}
	return append(b, c)
}

// readErr classifies a failure to read the answer: the connection's own
// errors and a stream that ends early are a cut answer (transient).
func readErr(op string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var m *malformed
	var ce *channelError
	var rf *refusal
	var rs *remoteStderr
	var un *unsupported
	switch {
	case errors.As(err, &rs):
		return classifyStderr(op, rs.msg)
	case errors.As(err, &un):
		return &Error{Op: op, Kind: KindUnsafe, Msg: un.Error(), Err: err}
	case errors.As(err, &m):
		return &Error{Op: op, Kind: KindCorrupt, Msg: m.Error(), Err: err}
	case errors.As(err, &ce):
		return classifyRefusal(op, ce.msg)
	case errors.As(err, &rf):
		return classifyRefusal(op, rf.msg)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Op: op, Kind: KindUnavailable, Msg: "answer cut short", Err: err}
	}
	return &Error{Op: op, Kind: KindUnavailable, Msg: "read answer", Err: err}
}

// baseCache keeps small objects' contents as delta bases, least recently
// added first out, within baseCacheBudget bytes.
type baseCache struct {
	m     map[int][]byte
	order []int
	bytes int
}

func (c *baseCache) get(i int) ([]byte, bool) {
	d, ok := c.m[i]
	return d, ok
}

func (c *baseCache) put(i int, data []byte) {
	if c.m == nil {
		c.m = map[int][]byte{}
	}
	for c.bytes+len(data) > baseCacheBudget && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= len(c.m[old])
		delete(c.m, old)
	}
	c.m[i] = data
	c.order = append(c.order, i)
	c.bytes += len(data)
}

// source reads the received pack with exact accounting: it hashes every
// byte consumed (not read ahead) for the pack checksum, and copies consumed
// bytes to a tee while one is set, in batches.
type source struct {
	r       io.Reader
	buf     []byte
	rpos    int
	wpos    int
	mark    int // buf[mark:rpos] is consumed but not yet passed to the sinks
	off     int64
	h       hash.Hash
	hashing bool
	teeW    io.Writer
	err     error // the underlying reader's error, io.EOF included
}

func newSource(r io.Reader) *source {
	return &source{r: r, buf: make([]byte, 64<<10), h: sha1.New(), hashing: true}
}

func (s *source) sink() {
	if s.mark < s.rpos {
		if s.hashing {
			s.h.Write(s.buf[s.mark:s.rpos])
		}
		if s.teeW != nil {
			_, _ = s.teeW.Write(s.buf[s.mark:s.rpos])
		}
	}
	s.mark = s.rpos
}

func (s *source) fill() error {
	s.sink()
	if s.err != nil {
		return s.err
	}
	s.rpos, s.wpos, s.mark = 0, 0, 0
	for s.wpos == 0 {
		n, err := s.r.Read(s.buf)
		s.wpos = n
		if err != nil {
			s.err = err
			if n == 0 {
				return err
			}
		}
	}
	return nil
}

// ReadByte implements io.ByteReader (so that zlib reads exactly the bytes
// of one stream).
func (s *source) ReadByte() (byte, error) {
	if s.rpos == s.wpos {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	c := s.buf[s.rpos]
	s.rpos++
	s.off++
	return c, nil
}

func (s *source) Read(p []byte) (int, error) {
	if s.rpos == s.wpos {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf[s.rpos:s.wpos])
	s.rpos += n
	s.off += int64(n)
	return n, nil
}

// tee starts (w != nil) or stops copying consumed bytes to w.
func (s *source) tee(w io.Writer) {
	s.sink()
	s.teeW = w
}

// sum returns the SHA-1 of everything consumed so far and stops hashing.
func (s *source) sum() []byte {
	s.sink()
	s.hashing = false
	return s.h.Sum(nil)
}

// packOut is the pack being written: a temporary file in dir, its running
// SHA-1 and the CRC-32 of the current object.
type packOut struct {
	dir string
	f   *os.File
	buf []byte
	off int64
	sum hash.Hash
	crc uint32
	err error
}

func newPackOut(dir string, count []byte) (*packOut, error) {
	f, err := os.CreateTemp(dir, "tmp_pack_")
	if err != nil {
		return nil, &Error{Op: "write pack", Kind: KindInvalid, Msg: "create pack file: " + osReason(err), Err: err}
	}
	o := &packOut{dir: dir, f: f, buf: make([]byte, 0, 64<<10), sum: sha1.New()}
	o.write([]byte("PACK\x00\x00\x00\x02"))
	o.write(count)
	return o, nil
}

func (o *packOut) startObject() { o.crc = 0 }

func (o *packOut) write(p []byte) {
	o.sum.Write(p)
	o.crc = crc32.Update(o.crc, crc32.IEEETable, p)
	o.off += int64(len(p))
	if len(o.buf)+len(p) > cap(o.buf) {
		if o.flush() != nil {
			return
		}
		if len(p) >= cap(o.buf) {
			if _, err := o.f.Write(p); err != nil && o.err == nil {
				o.err = &Error{Op: "write pack", Kind: KindInvalid, Msg: osReason(err), Err: err}
			}
			return
		}
	}
	o.buf = append(o.buf, p...)
}

// Write implements io.Writer for the tee and the zlib writer.
func (o *packOut) Write(p []byte) (int, error) {
	o.write(p)
	return len(p), nil
}

func (o *packOut) flush() error {
	if o.err != nil {
		return o.err
	}
	if len(o.buf) > 0 {
		if _, err := o.f.Write(o.buf); err != nil {
			o.err = &Error{Op: "write pack", Kind: KindInvalid, Msg: osReason(err), Err: err}
			return o.err
		}
		o.buf = o.buf[:0]
	}
	return nil
}

func (o *packOut) abort() {
	_ = o.f.Close()
	_ = os.Remove(o.f.Name())
}

// finish writes the trailer and the index, and renames both into place.
func (o *packOut) finish(recs []record) (string, error) {
	sum := o.sum.Sum(nil)
	o.buf = append(o.buf, sum...)
	if err := o.flush(); err != nil {
		return "", err
	}
	if err := o.f.Close(); err != nil {
		return "", &Error{Op: "write pack", Kind: KindInvalid, Msg: osReason(err), Err: err}
	}
	name := fmt.Sprintf("pack-%x", sum)
	idx, err := os.CreateTemp(o.dir, "tmp_idx_")
	if err != nil {
		_ = os.Remove(o.f.Name())
		return "", &Error{Op: "write pack", Kind: KindInvalid, Msg: "create index file: " + osReason(err), Err: err}
	}
	werr := writeIndex(idx, recs, sum)
	if cerr := idx.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(o.f.Name(), o.dir+"/"+name+".pack")
	}
	if werr == nil {
		werr = os.Rename(idx.Name(), o.dir+"/"+name+".idx")
	}
	if werr != nil {
		_ = os.Remove(o.f.Name())
		_ = os.Remove(idx.Name())
		return "", &Error{Op: "write pack", Kind: KindInvalid, Msg: osReason(werr), Err: werr}
	}
	return name, nil
}
