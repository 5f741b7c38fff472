package forgehttp

import (
	"context"
	"errors"
	"strings"
)

// Redact replaces every non-empty secret in s with "REDACTED".
func Redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

// Redacted returns err with its message passed through redact. The result
// keeps only what callers branch on: it matches context.Canceled or
// context.DeadlineExceeded when err does, and nothing else of err's chain,
// which may hold the unredacted text. It returns nil for nil.
func Redacted(err error, redact func(string) string) error {
	if err == nil {
		return nil
	}
	r := &redactedError{msg: redact(err.Error())}
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			r.cause = c
		}
	}
	return r
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
