package gitwire

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind is what went wrong, in the categories the public packages map to
// their sentinels. Each package decides, at its exported boundary, which of
// its errors a Kind becomes.
type Kind int

const (
	// KindInvalid: a bad URL, option or request, refused before any I/O.
	KindInvalid Kind = iota + 1
	// KindAuth: credentials missing or refused (HTTP 401/403, SSH user
	// authentication), or a server whose SSH host key is not the known one.
	KindAuth
	// KindNotFound: no repository at the URL (HTTP 404, "does not appear
	// to be a git repository").
	KindNotFound
	// KindRefused: the server answered with an ERR line or an error
	// status that retrying cannot change.
	KindRefused
	// KindNotOurRef: the server refused to send an object that was asked
	// for by id ("not our ref").
	KindNotOurRef
	// KindFilterRefused: the server refused an object filter.
	KindFilterRefused
	// KindUnavailable: a transient failure (network error, 408, 429, 5xx,
	// an answer cut short) that outlasted the retries.
	KindUnavailable
	// KindCorrupt: an answer that does not parse: malformed pkt-lines, a
	// pack whose objects or checksum do not verify.
	KindCorrupt
	// KindLimit: a limit was crossed; the error wraps a *[LimitError].
	KindLimit
	// KindUnsafe: content refused on principle: a delta against an object
	// outside the pack, a pack version or object type git does not write.
	KindUnsafe
)

var kindNames = map[Kind]string{
	KindInvalid: "invalid", KindAuth: "unauthorized", KindNotFound: "not found",
	KindRefused: "refused", KindNotOurRef: "object refused", KindFilterRefused: "filter refused",
	KindUnavailable: "unavailable", KindCorrupt: "corrupt answer", KindLimit: "limit exceeded",
	KindUnsafe: "unsafe content",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is every failure gitwire reports. Its message never holds a
// credential (every known secret is masked) and holds at most
// [MaxServerText] bytes of a server's own words.
type Error struct {
	Op   string // what was being done: "advertisement", "upload-pack", "receive-pack", "read pack", ...
	Kind Kind
	Msg  string // redacted detail, server text included
	// RetryAfter is a server's Retry-After, when it sent one.
	RetryAfter time.Duration
	Err        error // the cause, if any; its message is not shown
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Op + ": " + e.Kind.String()
	}
	return e.Op + ": " + e.Kind.String() + ": " + e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether another try may succeed: for transient
// failures and corrupt answers.
func (e *Error) Retryable() bool { return e.Kind == KindUnavailable || e.Kind == KindCorrupt }

// KindOf returns the Kind of the first *Error in err's chain, or 0.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// LimitError reports a limit crossed by what a server sent.
type LimitError struct {
	Limit string // "transfer", "objects", "object size", "inflated", "delta depth", "shallow lines", "refs"
	Max   int64
}

func (e *LimitError) Error() string { return fmt.Sprintf("%s over the limit of %d", e.Limit, e.Max) }

func limitErr(op, limit string, max int64) error {
	le := &LimitError{Limit: limit, Max: max}
	return &Error{Op: op, Kind: KindLimit, Msg: le.Error(), Err: le}
}

func newErr(op string, kind Kind, format string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// MaxServerText bounds how much of a server's own text (an ERR line, a
// 401 body, SSH standard error) an error quotes.
const MaxServerText = 200

// serverText makes text a server sent fit for an error message: printable
// characters only, at most MaxServerText bytes. Secrets are masked by the
// caller's redaction set afterwards.
func serverText(b []byte) string {
	s := strings.TrimSpace(string(b))
	s = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError:
			return '?'
		case r == '\n' || r == '\t':
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, s)
	if len(s) > MaxServerText {
		cut := MaxServerText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
