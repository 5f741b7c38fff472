package optioncases_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/railyard-gitops/railyard/internal/retry"
	"github.com/railyard-gitops/railyard/internal/testkit/optioncases"
)

var errInvalid = errors.New("invalid")

// recorder is a testing.TB that keeps the failures a check reports, so
// the checks themselves can be shown to fail.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatal(args ...any) { r.failures = append(r.failures, fmt.Sprint(args...)) }

// The table is the rule of internal/retry, which every package's
// WithRetries calls: a package wrapping it passes.
func TestRetryCasesMatchTheSharedRule(t *testing.T) {
	t.Parallel()
	optioncases.Retries(t, errInvalid, func(n int, minWait, maxWait time.Duration) error {
		if _, err := retry.NewPolicy(n, minWait, maxWait); err != nil {
			return fmt.Errorf("%w: %w", errInvalid, err)
		}
		return nil
	})
}

func TestRetriesCatchesLooseRules(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	optioncases.Retries(r, errInvalid, func(n int, minWait, maxWait time.Duration) error {
		if n < 0 {
			return errInvalid // no reason given
		}
		return nil // accepts zero and reversed waits, 1000 retries
	})
	want := 0
	for _, c := range optioncases.RetryCases {
		if !c.OK {
			want++
		}
	}
	if len(r.failures) != want {
		t.Fatalf("got %d failures, want %d (one per refused case): %q", len(r.failures), want, r.failures)
	}
}

func TestCredentialsExclusive(t *testing.T) {
	t.Parallel()
	all := map[string]string{"WithA": "a", "WithB": "b"}
	optioncases.CredentialsExclusive(t, errInvalid, all, func(a, b string) error {
		return fmt.Errorf("%w: %s and %s both set credentials", errInvalid, map[string]string{"a": "WithA", "b": "WithB"}[a], map[string]string{"a": "WithA", "b": "WithB"}[b])
	})

	r := &recorder{TB: t}
	optioncases.CredentialsExclusive(r, errInvalid, all, func(a, b string) error {
		if a == b {
			return nil // the same option twice slips through
		}
		return errInvalid // names neither
	})
	if len(r.failures) != 4 {
		t.Fatalf("got %d failures, want 4: %q", len(r.failures), r.failures)
	}
	r = &recorder{TB: t}
	optioncases.CredentialsExclusive(r, errInvalid, map[string]string{}, func(a, b string) error { return nil })
	if len(r.failures) != 1 {
		t.Fatalf("an empty set must fail the check, got %q", r.failures)
	}
}
