package gitwire

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"io"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
)

// Pack index version 2, as git writes it (gitformat-pack): a magic and
// version, 256 fan-out counts, the sorted ids, their CRC-32s, their 31-bit
// offsets (the high bit pointing into a table of 64-bit ones), the pack's
// checksum and the index's own.
var idxMagic = []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}

const idxHeaderLen = 8 + 256*4

// writeIndex writes the version 2 index of recs for the pack whose
// checksum is packSum.
func writeIndex(w io.Writer, recs []record, packSum []byte) error {
	order := make([]int32, len(recs))
	for i := range order {
		order[i] = int32(i)
	}
	sort.Slice(order, func(a, b int) bool {
		return bytes.Compare(recs[order[a]].hash[:], recs[order[b]].hash[:]) < 0
	})
	sum := sha1.New()
	bw := bufio.NewWriter(io.MultiWriter(w, sum))
	bw.Write(idxMagic)
	var fan [256]uint32
	for _, i := range order {
		fan[recs[i].hash[0]]++
	}
	var n uint32
	var u [8]byte
	for _, c := range fan {
		n += c
		binary.BigEndian.PutUint32(u[:4], n)
		bw.Write(u[:4])
	}
	for _, i := range order {
		bw.Write(recs[i].hash[:])
	}
	for _, i := range order {
		binary.BigEndian.PutUint32(u[:4], recs[i].crc)
		bw.Write(u[:4])
	}
	var large []int64
	for _, i := range order {
		off := recs[i].out
		if off < 1<<31 {
			binary.BigEndian.PutUint32(u[:4], uint32(off))
		} else {
			binary.BigEndian.PutUint32(u[:4], 1<<31|uint32(len(large)))
			large = append(large, off)
		}
		bw.Write(u[:4])
	}
	for _, off := range large {
		binary.BigEndian.PutUint64(u[:], uint64(off))
		bw.Write(u[:])
	}
	bw.Write(packSum)
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(sum.Sum(nil))
	return err
}

// index is a loaded pack index: the sorted ids and their offsets, 28 bytes
// of memory per object.
type index struct {
	fan     [256]uint32
	ids     []byte // n*20
	offsets []int64
	packSum [20]byte
}

// errBadIndex reports an index file that does not parse or verify.
var errBadIndex = errors.New("bad pack index")

// parseIndex parses and verifies a version 2 index file's content.
func parseIndex(b []byte) (*index, error) {
	if len(b) < idxHeaderLen+40 || !bytes.Equal(b[:8], idxMagic) {
		return nil, errBadIndex
	}
	body, trailer := b[:len(b)-20], b[len(b)-20:]
	if s := sha1.Sum(body); !bytes.Equal(s[:], trailer) {
		return nil, errBadIndex
	}
	ix := &index{}
	var prev uint32
	for i := range ix.fan {
		v := binary.BigEndian.Uint32(b[8+4*i:])
		if v < prev {
			return nil, errBadIndex
		}
		ix.fan[i], prev = v, v
	}
	n := int64(prev)
	// Checked against the file's size before anything is sized from n.
	if int64(len(b)) < idxHeaderLen+n*28+40 {
		return nil, errBadIndex
	}
	p := b[idxHeaderLen:]
	ix.ids = append([]byte(nil), p[:n*20]...)
	for i := int64(1); i < n; i++ {
		if bytes.Compare(ix.ids[(i-1)*20:i*20], ix.ids[i*20:(i+1)*20]) > 0 {
			return nil, errBadIndex
		}
	}
	off32 := p[n*24 : n*28]
	large := p[n*28 : len(p)-40]
	if len(large)%8 != 0 {
		return nil, errBadIndex
	}
	ix.offsets = make([]int64, n)
	for i := int64(0); i < n; i++ {
		v := binary.BigEndian.Uint32(off32[4*i:])
		if v&(1<<31) == 0 {
			ix.offsets[i] = int64(v)
			continue
		}
		j := int(v &^ (1 << 31))
		if (j+1)*8 > len(large) {
			return nil, errBadIndex
		}
		o := binary.BigEndian.Uint64(large[8*j:])
		if o >= 1<<63 {
			return nil, errBadIndex
		}
		ix.offsets[i] = int64(o)
	}
	copy(ix.packSum[:], p[len(p)-40:len(p)-20])
	return ix, nil
}

// find returns the offset of h in the pack, or -1.
func (ix *index) find(h plumbing.Hash) int64 {
	lo := 0
	if h[0] > 0 {
		lo = int(ix.fan[h[0]-1])
	}
	hi := int(ix.fan[h[0]])
	i := lo + sort.Search(hi-lo, func(i int) bool { return bytes.Compare(ix.ids[(lo+i)*20:(lo+i+1)*20], h[:]) >= 0 })
	if i < hi && bytes.Equal(ix.ids[i*20:(i+1)*20], h[:]) {
		return ix.offsets[i]
	}
	return -1
}

// count is the number of objects indexed.
func (ix *index) count() int { return len(ix.offsets) }

// hash returns the id of the i-th object in id order.
func (ix *index) hash(i int) plumbing.Hash {
	var h plumbing.Hash
	copy(h[:], ix.ids[i*20:])
	return h
}
