package gitwire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxPktLen is the longest pkt-line git sends: 65520 bytes, the 4-byte
// length included.
const maxPktLen = 65520

// pktReader reads pkt-lines into one reused buffer: a line costs at most
// maxPktLen bytes of memory, whatever the server sends.
type pktReader struct {
	r   *bufio.Reader
	buf [maxPktLen]byte
}

func newPktReader(r io.Reader) *pktReader {
	if br, ok := r.(*bufio.Reader); ok {
		return &pktReader{r: br}
	}
	return &pktReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// errFlush is what next returns for a flush-pkt ("0000"); errDelim for a
// delim-pkt ("0001"), which protocol v0 never sends.
var (
	errFlush = errors.New("flush-pkt")
	errDelim = errors.New("delim-pkt")
)

// malformed reports a pkt-line stream that does not parse.
type malformed struct{ why string }

func (m *malformed) Error() string { return "malformed pkt-line: " + m.why }

// next returns the next pkt-line's payload (valid until the next call),
// errFlush for a flush-pkt, io.EOF when the stream ends cleanly before a
// line, io.ErrUnexpectedEOF when it ends inside one, and *malformed for
// bytes that are not a pkt-line.
func (p *pktReader) next() ([]byte, error) {
	var hdr [4]byte
	n, err := io.ReadFull(p.r, hdr[:])
	if err != nil {
		if n == 0 && err == io.EOF {
			return nil, io.EOF
		}
		return nil, cut(err)
	}
	size, ok := hexLen(hdr)
	switch {
	case !ok:
		return nil, &malformed{fmt.Sprintf("length %q", sanitize(hdr[:]))}
	case size == 0:
		return nil, errFlush
	case size == 1:
		return nil, errDelim
	case size < 4 || size > maxPktLen:
		return nil, &malformed{fmt.Sprintf("length %d", size)}
	}
	line := p.buf[:size-4]
	if _, err := io.ReadFull(p.r, line); err != nil {
		return nil, cut(err)
	}
	return line, nil
}

// cut keeps a reader's own error (a network error, a limit) and turns a
// clean end inside a line into io.ErrUnexpectedEOF.
func cut(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func hexLen(h [4]byte) (int, bool) {
	n := 0
	for _, c := range h {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int(v)
	}
	return n, true
}

// sanitize renders bytes from the wire for a message: printable ASCII
// kept, the rest as '?'.
func sanitize(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < ' ' || c > '~' {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}

// pktLine appends payload as one pkt-line to b.
func pktLine(b *bytes.Buffer, payload string) {
	fmt.Fprintf(b, "%04x%s", len(payload)+4, payload)
}

// pktFlush appends a flush-pkt to b.
func pktFlush(b *bytes.Buffer) { b.WriteString("0000") }

// errLine returns the message of an "ERR <msg>" pkt-line, if line is one.
func errLine(line []byte) ([]byte, bool) {
	if msg, ok := bytes.CutPrefix(line, []byte("ERR ")); ok {
		return msg, true
	}
	return nil, false
}

// sideband demultiplexes a side-band(-64k) stream: it returns the bytes of
// channel 1, drops progress (channel 2), and ends with a *refusal carrying
// the server's words on channel 3. A flush-pkt ends the stream.
type sideband struct {
	p    *pktReader
	rest []byte
	done bool
	err  error
}

// channelError is a fatal error a server sent on side-band channel 3.
type channelError struct{ msg []byte }

func (c *channelError) Error() string { return "server error: " + serverText(c.msg) }

func (s *sideband) Read(b []byte) (int, error) {
	for len(s.rest) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		line, err := s.p.next()
		switch {
		case errors.Is(err, errFlush):
			s.err = io.EOF
			continue
		case errors.Is(err, io.EOF):
			// The stream ended without its flush: the pack reader decides
			// whether what came was complete.
			s.err = io.EOF
			continue
		case err != nil:
			s.err = err
			continue
		case len(line) == 0:
			s.err = &malformed{"empty side-band packet"}
			continue
		}
		switch line[0] {
		case 1:
			s.rest = line[1:]
		case 2:
			// Progress: dropped (the transfer limit bounds it).
		case 3:
			s.err = &channelError{msg: append([]byte(nil), line[1:]...)}
		default:
			if msg, ok := errLine(line); ok {
				s.err = &refusal{msg: append([]byte(nil), msg...)}
				continue
			}
			s.err = &malformed{fmt.Sprintf("side-band channel %d", line[0])}
		}
	}
	n := copy(b, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}

// refusal is an ERR line a server sent instead of an answer.
type refusal struct{ msg []byte }

func (r *refusal) Error() string { return "ERR " + serverText(r.msg) }
