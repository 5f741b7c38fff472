// Package redact removes credentials from text that may reach an error
// message or a log line: passwords and tokens in URLs, and known secrets
// wherever they appear (for example echoed back in a server's response).
package redact

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// Mask replaces what is removed.
const Mask = "xxxxx"

// URLs replaces the password (or token) of every "scheme://user:password@"
// in s, and of scheme-relative "//user:password@", with [Mask], keeping
// the user name, like url.URL.Redacted does for one URL. A user info
// without a password ("scheme://token@") is masked whole, since it is
// usually a token.
func URLs(s string) string { return String(s) }

// Secrets replaces every occurrence in s of each non-empty secret with
// [Mask]. Overlapping and adjacent occurrences are masked as one: no part
// of any occurrence stays, and a mask is never matched again (a secret of
// x's would otherwise grow the mask it is part of).
func Secrets(s string, secrets ...string) string {
	return apply(s, secretSpans(nil, s, secrets))
}

// String masks URL passwords and secrets in s at once: both are found in
// the original text, so masking one cannot hide the other from its search
// (a secret spanning "//" would otherwise stop a URL from being seen, and a
// URL's mask would otherwise split a secret).
func String(s string, secrets ...string) string {
	return apply(s, secretSpans(urlSpans(s), s, secrets))
}

// span is a half-open byte range of a text to mask.
type span struct{ from, to int }

// urlSpans returns the spans URLs masks: the password of each authority's
// user info, or the whole user info when it has none.
func urlSpans(s string) []span {
	var out []span
	pos := 0
	for {
		// "//" starts an authority with or without a scheme before it:
		// scheme-relative spellings ("//u:p@host") carry user info too.
		i := strings.Index(s[pos:], "//")
		if i < 0 {
			return out
		}
		pos += i + 2
		// The authority ends at the first '/', '?', '#' or white space.
		// Not at a quote: a user info may hold "'" (and a string that is
		// not a URL may hold '"'), and stopping there would leave the rest
		// of the password; running on past a closing quote masks at most
		// a little more than needed.
		rest := s[pos:]
		end := strings.IndexAny(rest, "/?# \t\n")
		if end < 0 {
			end = len(rest)
		}
		at := strings.LastIndex(rest[:end], "@")
		if at < 0 {
			continue
		}
		from := pos
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			from = pos + colon + 1
		}
		out = append(out, span{from, pos + at})
		pos += at
	}
}

// secretSpans adds to spans every occurrence of each non-empty secret in s.
func secretSpans(spans []span, s string, secrets []string) []span {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for pos := 0; pos <= len(s)-len(sec); {
			i := strings.Index(s[pos:], sec)
			if i < 0 {
				break
			}
			spans = append(spans, span{pos + i, pos + i + len(sec)})
			pos += i + 1
		}
	}
	return spans
}

// apply replaces each maximal run of overlapping or adjacent spans of s
// with one [Mask]; an empty span (a user info with nothing before its "@")
// becomes a mask of its own.
func apply(s string, spans []span) string {
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	var b strings.Builder
	last := 0
	for i := 0; i < len(spans); {
		from, to := spans[i].from, spans[i].to
		for i++; i < len(spans) && spans[i].from <= to; i++ {
			to = max(to, spans[i].to)
		}
		b.WriteString(s[last:from])
		b.WriteString(Mask)
		last = to
	}
	b.WriteString(s[last:])
	return b.String()
}

// Error wraps err so that its message is redacted by [String] while
// errors.Is and errors.As still see err. It returns nil for a nil err.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &redacted{err: err, msg: String(err.Error(), secrets...)}
}

type redacted struct {
	err error
	msg string
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// Set is the secrets one client knows: every credential it was given or
// handed out by a provider. Text passed through it loses them, and URL
// passwords. A nil *Set redacts URLs only. It is safe for concurrent use;
// the zero value is ready to use.
type Set struct {
	mu      sync.RWMutex
	secrets []string
}

// minSecretLen is the shortest secret Set records: masking every "a" or
// "x" of a message would make it unreadable and hide nothing worth hiding.
const minSecretLen = 4

// Add records secrets (short or empty ones are ignored; see [Set]).
func (s *Set) Add(secrets ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
next:
	for _, sec := range secrets {
		if len(sec) < minSecretLen {
			continue
		}
		for _, have := range s.secrets {
			if have == sec {
				continue next
			}
		}
		s.secrets = append(s.secrets, sec) // any order: String masks the union of all
	}
}

// String returns text with URL passwords and every recorded secret masked.
func (s *Set) String(text string) string {
	if s == nil {
		return String(text)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return String(text, s.secrets...)
}

// Error returns err with its message redacted by [Set.String], keeping its
// chain for errors.Is and errors.As. It returns nil for nil.
func (s *Set) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := s.String(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redacted{err: err, msg: msg}
}

// Handler returns a slog.Handler that passes every record to h with its
// message and attribute values redacted by set (string values, errors,
// Stringers and groups alike).
func Handler(h slog.Handler, set *Set) slog.Handler { return &handler{h: h, set: set} }

// Logger returns a logger whose records are redacted by set; a nil l gives
// a logger that discards everything.
func Logger(l *slog.Logger, set *Set) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(Handler(l.Handler(), set))
}

type handler struct {
	h   slog.Handler
	set *Set
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.set.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = h.attr(a)
	}
	return &handler{h: h.h.WithAttrs(clean), set: h.set}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{h: h.h.WithGroup(name), set: h.set}
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.set.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, ga := range g {
			clean[i] = h.attr(ga)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.set.String(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, h.set.String(x.String()))
		case nil:
			return a
		default:
			return slog.String(a.Key, h.set.String(fmt.Sprint(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
