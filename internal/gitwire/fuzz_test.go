package gitwire

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/railyard-gitops/railyard/internal/testkit/hostilegit"
)

// fuzzLimits are small enough that no input makes a fuzz run slow.
var fuzzLimits = Limits{MaxTransfer: 1 << 20, MaxObjects: 64, MaxObjectSize: 64 << 10, MaxInflated: 1 << 20, MaxDeltaDepth: 8}

func seedPacks() [][]byte {
	blob := []byte("some base content for deltas\n")
	var p hostilegit.Pack
	b := p.Add(hostilegit.TypeBlob, blob)
	p.AddOFSDelta(b, hostilegit.NewDelta(uint64(len(blob)), 9).Copy(0, 4).Insert([]byte("added")).Bytes())
	p.AddREFDelta(hostilegit.ID(hostilegit.TypeBlob, blob), hostilegit.NewDelta(uint64(len(blob)), 3).Insert([]byte("ref")).Bytes())
	p.Add(hostilegit.TypeTree, hostilegit.Tree(hostilegit.Entry{Mode: "100644", Name: "a", ID: hostilegit.ID(hostilegit.TypeBlob, blob)}))
	var q hostilegit.Pack
	q.AddRaw(hostilegit.TypeBlob, 10, hostilegit.ZlibBomb(1<<16))
	return [][]byte{p.Bytes(), q.Bytes(), hostilegit.Header(3), p.BadChecksum()}
}

// Any bytes given as a pack: a typed error or objects that read back
// verified; never a panic, never anything past the limits.
func FuzzIngest(f *testing.F) {
	for _, s := range seedPacks() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pack []byte) {
		st, err := NewTempStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		info, err := st.Ingest(bytes.NewReader(pack), fuzzLimits)
		if err != nil {
			if KindOf(err) == 0 {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, o := range info.Objects {
			if o.Size > fuzzLimits.MaxObjectSize {
				t.Fatalf("object of %d bytes accepted", o.Size)
			}
			typ, data, err := st.Read(o.Hash, fuzzLimits.MaxObjectSize)
			if err != nil || typ != o.Type || int64(len(data)) != o.Size {
				t.Fatalf("object %s does not read back: %v", o.Hash, err)
			}
		}
	})
}

// Any bytes as an advertisement: parsed or refused, never a panic.
func FuzzAdvertisement(f *testing.F) {
	id := "0123456789abcdef0123456789abcdef01234567"
	f.Add(hostilegit.RefLines([]hostilegit.Ref{{Name: "HEAD", ID: id}, {Name: "refs/heads/main", ID: id}}, hostilegit.DefaultCaps))
	f.Add(hostilegit.RefLines(nil, []string{"ofs-delta"}))
	f.Add(hostilegit.ERR("access denied"))
	f.Add([]byte("0000"))
	f.Add([]byte("zzzz"))
	f.Fuzz(func(t *testing.T, b []byte) {
		adv, err := parseAdvertisement(newPktReader(bytes.NewReader(b)), AdvertiseRequest{Refs: []string{"refs/heads/main"}, Watch: []plumbing.Hash{plumbing.NewHash(id)}})
		if err == nil && adv == nil {
			t.Fatal("nil advertisement without error")
		}
		if err == nil && len(adv.Refs) > 2 {
			t.Fatalf("kept refs not asked for: %v", adv.Refs)
		}
	})
}

// Any bytes as a side-band stream: data, a typed end, never a panic, and
// never more bytes out than in.
func FuzzSideband(f *testing.F) {
	f.Add(append(hostilegit.Sideband(1, []byte("PACK data")), hostilegit.Flush()...))
	f.Add(hostilegit.Sideband(3, []byte("fatal: no")))
	f.Add(hostilegit.Sideband(2, []byte("progress")))
	f.Add([]byte("0005\x09"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := io.ReadAll(&sidebandReader{p: newPktReader(bytes.NewReader(b))})
		if len(out) > len(b) {
			t.Fatalf("%d bytes out of %d in", len(out), len(b))
		}
		var m *malformed
		var c *channelError
		var r *refusal
		if err != nil && !errors.As(err, &m) && !errors.As(err, &c) && !errors.As(err, &r) && err != io.ErrUnexpectedEOF && !errors.Is(err, errDelim) {
			t.Fatalf("unexpected error %T %v", err, err)
		}
	})
}

// Any bytes as an index file: refused or consistent.
func FuzzParseIndex(f *testing.F) {
	var b bytes.Buffer
	recs := []record{{hash: plumbing.NewHash("0123456789abcdef0123456789abcdef01234567"), out: 12}, {hash: plumbing.NewHash("f123456789abcdef0123456789abcdef01234567"), out: 1 << 32}}
	_ = writeIndex(&b, recs, make([]byte, 20))
	f.Add(b.Bytes())
	f.Add(idxMagic)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ix, err := parseIndex(raw)
		if err != nil {
			return
		}
		for i := 0; i < ix.count(); i++ {
			if ix.find(ix.hash(i)) < 0 {
				t.Fatalf("indexed id %d not found", i)
			}
		}
	})
}

// Any delta against any base: a result of exactly the declared size, or
// an error; never a panic or an out-of-range copy.
func FuzzApplyDelta(f *testing.F) {
	f.Add([]byte("base"), hostilegit.NewDelta(4, 6).Copy(0, 4).Insert([]byte("xy")).Bytes())
	f.Add([]byte("base"), []byte{4, 0x80, 0x91})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		src, rest, ok := deltaVarint(delta)
		if !ok {
			return
		}
		dst, rest, ok := deltaVarint(rest)
		if !ok || dst > 1<<20 || src != uint64(len(base)) {
			return
		}
		var out []byte
		err := applyDelta(base, rest, dst, func(p []byte) { out = append(out, p...) })
		if err == nil && uint64(len(out)) != dst {
			t.Fatalf("result of %d bytes, declared %d", len(out), dst)
		}
	})
}

// Any bytes as a push report: an error unless it accounts for exactly the
// updates pushed, all accepted.
func FuzzReadReport(f *testing.F) {
	upd := []RefUpdate{{Name: "refs/heads/a"}, {Name: "refs/heads/b"}}
	var ok bytes.Buffer
	pktLine(&ok, "unpack ok\n")
	pktLine(&ok, "ok refs/heads/a\n")
	pktLine(&ok, "ok refs/heads/b\n")
	pktFlush(&ok)
	f.Add(ok.Bytes())
	f.Add([]byte("0010unpack ok\n0000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := readReport("receive-pack", newPktReader(bytes.NewReader(b)), upd)
		if err == nil && !bytes.Contains(b, []byte("ok refs/heads/a")) {
			t.Fatal("accepted a report without the update's status")
		}
		if err != nil && KindOf(err) == 0 {
			t.Fatalf("untyped error %v", err)
		}
	})
}
