package gitwire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// Caps are the capabilities a server advertised: name to value ("" for a
// capability without one; the first value of a repeated one).
type Caps map[string]string

// Supports reports whether the server advertised capability name.
func (c Caps) Supports(name string) bool { _, ok := c[name]; return ok }

// Advertisement is what a server said about its references. To keep
// memory independent of how many references a server has, it holds only
// the references asked for ([AdvertiseRequest.Refs]) and HEAD.
type Advertisement struct {
	// Refs maps each reference asked for that the server has to its id;
	// an annotated tag's peeled id is under its name with "^{}" appended.
	Refs map[string]plumbing.Hash
	// Head is the id HEAD points at, zero when HEAD was not advertised.
	Head plumbing.Hash
	// Caps are the server's capabilities.
	Caps Caps
	// Empty is true when the repository has no references at all.
	Empty bool
	// watched lists the ids of AdvertiseRequest.Watch the server
	// advertised as some reference's value (or peeled value).
	watched map[plumbing.Hash]bool
}

// Advertises reports whether h, one of the ids given in
// [AdvertiseRequest.Watch], is the value of an advertised reference.
func (a *Advertisement) Advertises(h plumbing.Hash) bool { return a.watched[h] }

// AdvertiseRequest says which parts of an advertisement to keep.
type AdvertiseRequest struct {
	Refs  []string        // full reference names to keep, e.g. "refs/heads/main"
	Watch []plumbing.Hash // ids to look for among all advertised values
}

// parseAdvertisement reads a v0 reference advertisement from p (after
// the smart-HTTP service header, if any), keeping what req asks for.
func parseAdvertisement(p *pktReader, req AdvertiseRequest) (*Advertisement, error) {
	keep := make(map[string]bool, len(req.Refs))
	for _, r := range req.Refs {
		keep[r] = true
		keep[r+"^{}"] = true
	}
	watch := make(map[plumbing.Hash]bool, len(req.Watch))
	for _, h := range req.Watch {
		watch[h] = true
	}
	a := &Advertisement{Refs: map[string]plumbing.Hash{}, Caps: Caps{}, watched: map[plumbing.Hash]bool{}}
	first := true
	for {
		line, err := p.next()
		switch {
		case errors.Is(err, errFlush):
			if first {
				// No reference at all and no capabilities: some servers
				// answer an empty repository so.
				a.Empty = true
			}
			return a, nil
		case errors.Is(err, io.EOF):
			if first {
				return nil, &malformed{"empty advertisement"}
			}
			return nil, io.ErrUnexpectedEOF
		case err != nil:
			return nil, err
		}
		if msg, ok := errLine(line); ok {
			return nil, &refusal{msg: append([]byte(nil), msg...)}
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if first && bytes.HasPrefix(line, []byte("version ")) {
			continue // protocol v1 announces itself, then speaks v0
		}
		if bytes.HasPrefix(line, []byte("shallow ")) {
			continue // the server's own repository is shallow
		}
		if first {
			ref, caps, ok := bytes.Cut(line, []byte{0})
			if !ok {
				return nil, &malformed{"first reference line without capabilities"}
			}
			a.Caps = parseCaps(caps)
			if f := a.Caps["object-format"]; f != "" && f != "sha1" {
				return nil, &unsupported{"object format " + sanitize([]byte(f))}
			}
			line = ref
			first = false
			if bytes.HasSuffix(line, []byte(" capabilities^{}")) {
				a.Empty = true
				continue
			}
		}
		id, name, ok := bytes.Cut(line, []byte(" "))
		if !ok || len(name) == 0 {
			return nil, &malformed{"reference line " + sanitize(truncateBytes(line, 80))}
		}
		h, ok := parseHash(id)
		if !ok {
			return nil, &malformed{"object id " + sanitize(truncateBytes(id, 80))}
		}
		if watch[h] {
			a.watched[h] = true
		}
		n := string(name)
		if n == "HEAD" {
			a.Head = h
			continue
		}
		if keep[n] {
			if _, dup := a.Refs[n]; !dup {
				a.Refs[n] = h
			}
		}
	}
}

// unsupported reports a server feature gitwire does not speak.
type unsupported struct{ what string }

func (u *unsupported) Error() string { return u.what + " is not supported" }

func parseCaps(b []byte) Caps {
	c := Caps{}
	for _, f := range strings.Fields(string(b)) {
		name, value, _ := strings.Cut(f, "=")
		if _, ok := c[name]; !ok {
			c[name] = value
		}
	}
	return c
}

// parseHash parses a 40-digit lower-case hex object id.
func parseHash(b []byte) (plumbing.Hash, bool) {
	var h plumbing.Hash
	if len(b) != 40 {
		return h, false
	}
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return h, false
		}
	}
	_, err := hex.Decode(h[:], b)
	return h, err == nil
}

func truncateBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
