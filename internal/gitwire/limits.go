package gitwire

import "fmt"

// Limits bound what one operation (a [Remote]'s life, retries included)
// accepts from a server. Every field must be positive; [Limits.Check]
// says so. They are checked before memory is spent: a declared object
// count before anything is sized from it, an object's declared size before
// it is inflated, a delta's declared result size before it is applied.
type Limits struct {
	// MaxTransfer bounds the bytes received from the server.
	MaxTransfer int64
	// MaxObjects bounds the objects one pack may declare, and so hold.
	MaxObjects int64
	// MaxObjectSize bounds the inflated size of any one object: a whole
	// object, a delta's instructions and a delta's result.
	MaxObjectSize int64
	// MaxInflated bounds the bytes inflated over the operation: every
	// object, delta instructions and results, and a delta base read back
	// from disk again. It bounds the CPU and disk a server can make the
	// operation spend; memory does not grow with it.
	MaxInflated int64
	// MaxDeltaDepth bounds delta chains. Resolving a delta costs the same
	// at any depth here (bases are stored whole), so the default is git's
	// own ceiling.
	MaxDeltaDepth int
}

// DefaultMaxDeltaDepth is git's own ceiling on delta chains
// (pack-objects' OE_DEPTH_BITS).
const DefaultMaxDeltaDepth = 4095

// minObjectBytes is the fewest bytes one object takes in a pack: a 1-byte
// header and the shortest zlib stream (2 bytes of header, a 2-byte empty
// final block, a 4-byte checksum).
const minObjectBytes = 9

// Check reports a limit that is not positive.
func (l Limits) Check() error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"max transfer", l.MaxTransfer}, {"max objects", l.MaxObjects},
		{"max object size", l.MaxObjectSize}, {"max inflated", l.MaxInflated},
		{"max delta depth", int64(l.MaxDeltaDepth)},
	} {
		if f.v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", f.name, f.v)
		}
	}
	return nil
}

// budget is what is left of the limits in one operation.
type budget struct {
	lim      Limits
	inflated int64
}

// inflate charges n inflated bytes, failing once the total crosses
// MaxInflated.
func (b *budget) inflate(op string, n int64) error {
	b.inflated += n
	if b.inflated > b.lim.MaxInflated || b.inflated < 0 {
		return limitErr(op, "inflated", b.lim.MaxInflated)
	}
	return nil
}
