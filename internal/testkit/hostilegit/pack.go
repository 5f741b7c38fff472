package hostilegit

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Object types as a pack header encodes them.
const (
	TypeCommit   = 1
	TypeTree     = 2
	TypeBlob     = 3
	TypeTag      = 4
	TypeOFSDelta = 6
	TypeREFDelta = 7
)

var typeNames = map[int]string{TypeCommit: "commit", TypeTree: "tree", TypeBlob: "blob", TypeTag: "tag"}

// ID returns the object id git gives content data of type typ (one of
// TypeCommit, TypeTree, TypeBlob, TypeTag), in hex.
func ID(typ int, data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", typeNames[typ], len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// Entry is one entry of a tree built by [Tree].
type Entry struct {
	Mode string // "100644", "100755", "120000", "160000" or "40000"
	Name string
	ID   string // hex object id
}

// Tree encodes entries as a tree object, in the order given (sort them
// first for a tree git would write; leave them unsorted or duplicated for
// a hostile one).
func Tree(entries ...Entry) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %s\x00", e.Mode, e.Name)
		b.Write(mustHex(e.ID))
	}
	return b.Bytes()
}

// SortedTree is [Tree] with entries in git's order (a directory sorts as
// if its name ended in '/').
func SortedTree(entries ...Entry) []byte {
	key := func(e Entry) string {
		if e.Mode == "40000" {
			return e.Name + "/"
		}
		return e.Name
	}
	sorted := append([]Entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return key(sorted[i]) < key(sorted[j]) })
	return Tree(sorted...)
}

// Commit encodes a commit object of tree with parents and message, with a
// fixed author and committer at unix time when.
func Commit(tree string, parents []string, when int64, message string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "tree %s\n", tree)
	for _, p := range parents {
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	fmt.Fprintf(&b, "author Hostile <hostile@example.invalid> %d +0000\n", when)
	fmt.Fprintf(&b, "committer Hostile <hostile@example.invalid> %d +0000\n", when)
	fmt.Fprintf(&b, "\n%s", message)
	return []byte(b.String())
}

func mustHex(id string) []byte {
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) != 20 {
		panic(fmt.Sprintf("hostilegit: %q is not a hex object id", id))
	}
	return raw
}

// Pack builds a pack stream object by object. Its methods return the index
// of the object added, which OFS deltas use to name their base. The zero
// value is an empty pack.
type Pack struct {
	body     bytes.Buffer
	offsets  []int64
	declared *uint32
}

// Declare makes the header claim n objects, whatever was added.
func (p *Pack) Declare(n uint32) *Pack { p.declared = &n; return p }

// Len is the number of objects added.
func (p *Pack) Len() int { return len(p.offsets) }

// Add appends a whole object of type typ, compressed normally.
func (p *Pack) Add(typ int, data []byte) int {
	return p.AddRaw(typ, int64(len(data)), Deflate(data))
}

// AddRaw appends an object whose header says typ and size and whose body
// is zdata verbatim (which need not inflate to size, or at all).
func (p *Pack) AddRaw(typ int, size int64, zdata []byte) int {
	p.offsets = append(p.offsets, int64(12+p.body.Len()))
	p.body.Write(objectHeader(typ, size))
	p.body.Write(zdata)
	return len(p.offsets) - 1
}

// AddOFSDelta appends a delta against the object at index base.
func (p *Pack) AddOFSDelta(base int, delta []byte) int {
	here := int64(12 + p.body.Len())
	p.offsets = append(p.offsets, here)
	p.body.Write(objectHeader(TypeOFSDelta, int64(len(delta))))
	p.body.Write(ofsOffset(here - p.offsets[base]))
	p.body.Write(Deflate(delta))
	return len(p.offsets) - 1
}

// AddOFSDeltaRaw appends an OFS delta whose header declares size and whose
// body is zdata verbatim, against the object at index base.
func (p *Pack) AddOFSDeltaRaw(base int, size int64, zdata []byte) int {
	here := int64(12 + p.body.Len())
	p.offsets = append(p.offsets, here)
	p.body.Write(objectHeader(TypeOFSDelta, size))
	p.body.Write(ofsOffset(here - p.offsets[base]))
	p.body.Write(zdata)
	return len(p.offsets) - 1
}

// AddOFSDeltaRel appends an OFS delta whose base is rel bytes before it,
// wherever that lands.
func (p *Pack) AddOFSDeltaRel(rel int64, delta []byte) int {
	p.offsets = append(p.offsets, int64(12+p.body.Len()))
	p.body.Write(objectHeader(TypeOFSDelta, int64(len(delta))))
	p.body.Write(ofsOffset(rel))
	p.body.Write(Deflate(delta))
	return len(p.offsets) - 1
}

// AddREFDelta appends a delta against the object with id base (hex).
func (p *Pack) AddREFDelta(base string, delta []byte) int {
	p.offsets = append(p.offsets, int64(12+p.body.Len()))
	p.body.Write(objectHeader(TypeREFDelta, int64(len(delta))))
	p.body.Write(mustHex(base))
	p.body.Write(Deflate(delta))
	return len(p.offsets) - 1
}

// Bytes returns the pack: header, objects and a correct SHA-1 trailer.
func (p *Pack) Bytes() []byte {
	var b bytes.Buffer
	b.WriteString("PACK")
	_ = binary.Write(&b, binary.BigEndian, uint32(2))
	count := uint32(len(p.offsets))
	if p.declared != nil {
		count = *p.declared
	}
	_ = binary.Write(&b, binary.BigEndian, count)
	b.Write(p.body.Bytes())
	sum := sha1.Sum(b.Bytes())
	b.Write(sum[:])
	return b.Bytes()
}

// BadChecksum returns [Pack.Bytes] with a trailer that does not match.
func (p *Pack) BadChecksum() []byte {
	b := p.Bytes()
	b[len(b)-1] ^= 0xff
	return b
}

// Header returns a pack header alone: "PACK", version 2 and count.
func Header(count uint32) []byte {
	b := []byte("PACK\x00\x00\x00\x02\x00\x00\x00\x00")
	binary.BigEndian.PutUint32(b[8:], count)
	return b
}

func objectHeader(typ int, size int64) []byte {
	b := []byte{byte(typ<<4) | byte(size&0x0f)}
	size >>= 4
	for size > 0 {
		b[len(b)-1] |= 0x80
		b = append(b, byte(size&0x7f))
		size >>= 7
	}
	return b
}

// ofsOffset encodes a negative offset as OFS_DELTA does.
func ofsOffset(off int64) []byte {
	b := []byte{byte(off & 0x7f)}
	for off >>= 7; off > 0; off >>= 7 {
		off--
		b = append([]byte{byte(0x80 | (off & 0x7f))}, b...)
	}
	return b
}

// Deflate returns data as a zlib stream.
func Deflate(data []byte) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	_, _ = w.Write(data)
	_ = w.Close()
	return b.Bytes()
}

// ZlibBomb returns a zlib stream inflating to n zero bytes, about a
// thousandth of n long, made in O(size of the result) time: one deflate
// block of 1 MiB of zeros is repeated (its back references only ever see
// zeros), then the rest, an empty final block and the checksum.
func ZlibBomb(n int64) []byte { return ZlibBombAfter(nil, n) }

// ZlibBombAfter is [ZlibBomb] for prefix followed by n zero bytes (a
// commit's header and a huge message, say).
func ZlibBombAfter(prefix []byte, n int64) []byte {
	const chunk = 1 << 20
	block := func(data []byte) []byte {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestCompression)
		_, _ = w.Write(data)
		_ = w.Flush() // ends byte-aligned, not final
		return b.Bytes()
	}
	var out bytes.Buffer
	out.Write([]byte{0x78, 0xda})
	if len(prefix) > 0 {
		out.Write(block(prefix))
	}
	if full := n / chunk; full > 0 {
		one := block(make([]byte, chunk))
		out.Grow(int(full) * len(one))
		for i := int64(0); i < full; i++ {
			out.Write(one)
		}
	}
	if rest := n % chunk; rest > 0 {
		out.Write(block(make([]byte, rest)))
	}
	out.Write([]byte{0x03, 0x00}) // an empty final block
	// Adler-32: over the prefix, then n zeros (a stays, b adds a each).
	a, b := uint64(1), uint64(0)
	for _, c := range prefix {
		a = (a + uint64(c)) % 65521
		b = (b + a) % 65521
	}
	b = (b + uint64(n%65521)*a) % 65521
	_ = binary.Write(&out, binary.BigEndian, uint32(b<<16|a))
	return out.Bytes()
}

// Delta builds delta instructions: a header with the base and result sizes
// (which a hostile delta may state falsely), then copy and insert
// operations.
type Delta struct{ b bytes.Buffer }

// NewDelta starts a delta from a base of srcSize bytes to a result of
// dstSize bytes.
func NewDelta(srcSize, dstSize uint64) *Delta {
	d := &Delta{}
	d.b.Write(varint(srcSize))
	d.b.Write(varint(dstSize))
	return d
}

// Copy copies size bytes of the base from offset (size at most 1<<24-1;
// 0 means 0x10000, as git reads it).
func (d *Delta) Copy(offset, size uint32) *Delta {
	cmd := byte(0x80)
	var args []byte
	for i := 0; i < 4; i++ {
		if v := byte(offset >> (8 * i)); v != 0 {
			cmd |= 1 << i
			args = append(args, v)
		}
	}
	for i := 0; i < 3; i++ {
		if v := byte(size >> (8 * i)); v != 0 {
			cmd |= 0x10 << i
			args = append(args, v)
		}
	}
	d.b.WriteByte(cmd)
	d.b.Write(args)
	return d
}

// Insert inserts data literally, in chunks of at most 127 bytes.
func (d *Delta) Insert(data []byte) *Delta {
	for len(data) > 0 {
		n := min(len(data), 127)
		d.b.WriteByte(byte(n))
		d.b.Write(data[:n])
		data = data[n:]
	}
	return d
}

// Bytes returns the instructions.
func (d *Delta) Bytes() []byte { return d.b.Bytes() }

func varint(n uint64) []byte {
	var b []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
