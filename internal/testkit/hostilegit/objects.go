package hostilegit

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Objects builds an object graph and the pack that carries it: each
// method adds one object to the pack and returns its id.
type Objects struct {
	Pack Pack
	when int64
}

// Blob adds a blob.
func (o *Objects) Blob(data []byte) string {
	o.Pack.Add(TypeBlob, data)
	return ID(TypeBlob, data)
}

// ZeroBlob adds a blob of n zero bytes as a zlib bomb (about n/1000 bytes
// in the pack) and returns its id.
func (o *Objects) ZeroBlob(n int64) string {
	o.Pack.AddRaw(TypeBlob, n, ZlibBomb(n))
	return ZeroID(n)
}

// Tree adds a tree of entries, in git's order.
func (o *Objects) Tree(entries ...Entry) string {
	data := SortedTree(entries...)
	o.Pack.Add(TypeTree, data)
	return ID(TypeTree, data)
}

// Commit adds a commit of tree with parents; each commit is a minute after
// the previous one.
func (o *Objects) Commit(tree string, parents ...string) string {
	o.when += 60
	data := Commit(tree, parents, 1700000000+o.when, fmt.Sprintf("commit at %d\n", o.when))
	o.Pack.Add(TypeCommit, data)
	return ID(TypeCommit, data)
}

// BigCommit adds a commit of tree with parents whose message is a subject
// line followed by n zero bytes, as a zlib bomb.
func (o *Objects) BigCommit(tree string, n int64, parents ...string) string {
	o.when += 60
	head := Commit(tree, parents, 1700000000+o.when, "huge message\n")
	o.Pack.AddRaw(TypeCommit, int64(len(head))+n, ZlibBombAfter(head, n))
	return prefixZeroID(TypeCommit, head, n)
}

func prefixZeroID(typ int, prefix []byte, n int64) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", typeNames[typ], int64(len(prefix))+n)
	h.Write(prefix)
	chunk := make([]byte, 64<<10)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		h.Write(chunk[:k])
		n -= k
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Dir returns a tree entry for a directory.
func Dir(name, id string) Entry { return Entry{Mode: "40000", Name: name, ID: id} }

// File returns a tree entry for a regular file.
func File(name, id string) Entry { return Entry{Mode: "100644", Name: name, ID: id} }

// ZeroID returns the id of a blob of n zero bytes, computed without
// holding them.
func ZeroID(n int64) string { return ZeroTailID(n, nil) }

// ZeroTailID returns the id of a blob of n zero bytes followed by tail,
// computed without holding them.
func ZeroTailID(n int64, tail []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", n+int64(len(tail)))
	chunk := make([]byte, 64<<10)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		h.Write(chunk[:k])
		n -= k
	}
	h.Write(tail)
	return hex.EncodeToString(h.Sum(nil))
}

// Nest wraps the tree id in levels directories named name (the outermost
// last), adding each tree, and returns the outermost tree's id.
func (o *Objects) Nest(id string, levels int, name string) string {
	for i := 0; i < levels; i++ {
		id = o.Tree(Dir(name, id))
	}
	return id
}

// ServePack returns a handler that advertises refs (each pointing at tip)
// and answers every upload-pack request with pack, as a shallow fetch's
// answer naming tip when the request asked for a depth.
func ServePack(tip string, pack []byte) Handler {
	return Handler{
		Refs: []Ref{{Name: "HEAD", ID: tip}, {Name: "refs/heads/main", ID: tip}},
		UploadPack: func(r *Request) Reply {
			if r.Depth > 0 {
				return r.Pack(pack, tip)
			}
			return r.Pack(pack)
		},
	}
}

// LongName returns a name of n bytes.
func LongName(n int) string { return strings.Repeat("n", n) }

// BombEnv names the environment variable that sizes the bombs of the
// memory suites, in MiB inflated: plain runs use DefaultBombMiB, CI (.ci/run)
// the full 1024. An environment variable, not a flag, so that the child
// processes of rsstest see it too.
const BombEnv = "RAILYARD_BOMB_MIB"

// DefaultBombMiB is the bomb size of plain test runs.
const DefaultBombMiB = 256

// BombObjects returns how many 16 MiB objects make the bombs of this run,
// from [BombEnv]: at least 4, at most 60 (960 MiB, what fits in a 1 MiB
// pack).
func BombObjects() int {
	mib := DefaultBombMiB
	if v, err := strconv.Atoi(os.Getenv(BombEnv)); err == nil && v > 0 {
		mib = v
	}
	return min(60, max(4, mib/16))
}
