package redact_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/railyard-gitops/railyard/internal/redact"
)

func TestURLs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"no urls here", "no urls here"},
		{"https://github.com/org/repo.git", "https://github.com/org/repo.git"},
		{"https://user:s3cret@github.com/org/repo.git", "https://user:xxxxx@github.com/org/repo.git"},
		{"https://ghp_token@github.com/x", "https://xxxxx@github.com/x"},
		{`fetch "http://a:b@h:1/x" and https://c:d@e?q=1`, `fetch "http://a:xxxxx@h:1/x" and https://c:xxxxx@e?q=1`},
		{"https://u:p@ss@host/x", "https://u:xxxxx@host/x"},
		{"https://host/path@v1", "https://host/path@v1"},
		{"git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"ssh://git:pw@host:22/r", "ssh://git:xxxxx@host:22/r"},
		{`trusted auth origin "//:00000@"`, `trusted auth origin "//:xxxxx@"`},
		{"//user:pw@host/x and //tok@h", "//user:xxxxx@host/x and //xxxxx@h"},
		// A quote is not the end of an authority: "'" is allowed in user
		// info, and a quoted URL without a path is still masked.
		{`origin "//'u:pa'ss@h"`, `origin "//'u:xxxxx@h"`},
		{`'https://u:p@h': refused`, `'https://u:xxxxx@h': refused`},
		{`"https://u:p@h", "https://v:q@i"`, `"https://u:xxxxx@h", "https://v:xxxxx@i"`},
		{"://", "://"},
		{"x://@", "x://xxxxx@"},
	} {
		assert.Equal(t, tc.want, redact.URLs(tc.in), tc.in)
	}
}

func TestSecretsAndError(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "Bearer xxxxx and xxxxx", redact.Secrets("Bearer tok and tok", "tok", ""))
	err := redact.Error(errors.Join(fs.ErrNotExist, errors.New("401: echo tok at https://u:p@h/")), "tok")
	assert.Equal(t, "file does not exist\n401: echo xxxxx at https://u:xxxxx@h/", err.Error())
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.NoError(t, redact.Error(nil))
	// One pass: a mask already written is not matched again by a secret
	// made of its letters; overlapping secrets are masked as one, leaving
	// no part of either.
	assert.Equal(t, "echo: xxxxx", redact.Secrets("echo: 0 xxxx", "0 xxxx", "xxxx"))
	assert.Equal(t, "xxxxx", redact.Secrets("a-b", "a-", "-b"))
	assert.Equal(t, "xxxxx and xxxxx", redact.Secrets("abab and bab", "aba", "bab"))
	// URL passwords and secrets are found in the same text: a secret that
	// holds "//" is masked whole (fuzz finding: masking the URL first split
	// it), and a secret that eats a URL's "//" does not hide its password.
	assert.Equal(t, "echo: xxxxx", redact.String("echo: 0 //@ 0000", "0 //@ 0000", "//@ 0000"))
	assert.Equal(t, "see httpxxxxx:xxxxx@h/x", redact.String("see https://u:p@h/x", "s://u"))
	var set *redact.Set
	assert.Equal(t, "https://u:xxxxx@h", set.String("https://u:p@h"))
}

func FuzzURLs(f *testing.F) {
	for _, s := range []string{"https://u:p@h/x", "a://b@c", "://@@//", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := redact.URLs(s)
		if !strings.Contains(s, "//") && out != s { // "//" starts every authority, scheme-relative too
			t.Fatalf("text without an authority changed: %q -> %q", s, out)
		}
		// Idempotent: redacting twice changes nothing more.
		if again := redact.URLs(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, again)
		}
	})
}

// FuzzString: whatever the text and the secret, no occurrence of the
// secret survives String, URL masking included. Inputs holding the mask's
// letter are left out, so that every "x" of the output is a mask's and
// can be taken out before looking (TestSecretsAndError has secrets of x's).
func FuzzString(f *testing.F) {
	f.Add("echo: 0 //@ 0000", "//@ 0000")
	f.Add("see https://u:p@h/x", "s://u")
	f.Add("abab and bab", "bab")
	f.Add("https://tok@h and //a:b@c", "tok@h")
	f.Fuzz(func(t *testing.T, s, secret string) {
		if secret == "" || strings.ContainsAny(s+secret, "x\x00") {
			return
		}
		out := redact.String(s, secret)
		if strings.Contains(strings.ReplaceAll(out, "x", "\x00"), secret) {
			t.Fatalf("String(%q, %q) = %q keeps the secret", s, secret, out)
		}
		if !strings.Contains(s, secret) && !strings.Contains(s, "//") && out != s {
			t.Fatalf("String(%q, %q) = %q changed text holding neither", s, secret, out)
		}
	})
}

func TestSet(t *testing.T) {
	t.Parallel()
	var s redact.Set
	s.Add("", "abc", "tok-1234", "tok-1234-long", "tok-1234")
	assert.Equal(t, "a xxxxx b xxxxx abc", s.String("a tok-1234-long b tok-1234 abc"))
	assert.Equal(t, "https://u:xxxxx@h/x", s.String("https://u:pw@h/x"))
	var nilSet *redact.Set
	assert.Equal(t, "https://u:xxxxx@h/ tok", nilSet.String("https://u:pw@h/ tok"))
	nilSet.Add("ignored")

	base := fs.ErrNotExist
	err := s.Error(fmt.Errorf("open tok-1234: %w", base))
	assert.Equal(t, "open xxxxx: file does not exist", err.Error())
	assert.ErrorIs(t, err, base)
	plain := errors.New("nothing secret")
	assert.Same(t, plain, s.Error(plain))
	assert.NoError(t, s.Error(nil))
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestHandlerRedactsEverything(t *testing.T) {
	t.Parallel()
	var s redact.Set
	s.Add("hunter22")
	var buf bytes.Buffer
	l := redact.Logger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &s)
	l = l.With("url", "https://x:hunter22@h/r").WithGroup("g")
	l.Debug("got hunter22", "err", errors.New("echo hunter22"), "s", stringer{"hunter22"},
		"grp", slog.GroupValue(slog.String("in", "hunter22")), "n", 3, "any", []string{"hunter22"})
	out := buf.String()
	assert.NotContains(t, out, "hunter22")
	assert.Contains(t, out, "xxxxx")
	assert.Contains(t, out, "g.n=3")
	redact.Logger(nil, &s).Info("discarded hunter22")
}
