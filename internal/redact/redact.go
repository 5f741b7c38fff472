// Package redact removes credentials from text that may reach an error
// message or a log line: passwords and tokens in URLs, and known secrets
// wherever they appear (for example echoed back in a server's response).
package redact

import "strings"

// Mask replaces what is removed.
const Mask = "xxxxx"

// URLs replaces the password (or token) of every "scheme://user:password@"
// in s with [Mask], keeping the user name, like url.URL.Redacted does for
// one URL. A user info without a password ("scheme://token@") is masked
// whole, since it is usually a token.
func URLs(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		// The authority ends at the first '/', '?', '#' or white space.
		end := strings.IndexAny(s, "/?# \t\n\"'")
		if end < 0 {
			end = len(s)
		}
		at := strings.LastIndex(s[:end], "@")
		if at < 0 {
			continue
		}
		user, _, hasPassword := strings.Cut(s[:at], ":")
		if hasPassword {
			b.WriteString(user + ":" + Mask)
		} else {
			b.WriteString(Mask)
		}
		s = s[at:]
	}
}

// Secrets replaces every occurrence in s of each non-empty secret with
// [Mask].
func Secrets(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}

// String applies [URLs] and then [Secrets].
func String(s string, secrets ...string) string { return Secrets(URLs(s), secrets...) }

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
