package redact_test

import (
	"errors"
	"io/fs"
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
}

func FuzzURLs(f *testing.F) {
	for _, s := range []string{"https://u:p@h/x", "a://b@c", "://@@//", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := redact.URLs(s)
		if !strings.Contains(s, "://") && out != s {
			t.Fatalf("text without URLs changed: %q -> %q", s, out)
		}
		// Idempotent: redacting twice changes nothing more.
		if again := redact.URLs(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, again)
		}
	})
}
