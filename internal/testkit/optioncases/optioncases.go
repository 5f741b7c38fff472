// Package optioncases holds, as test cases, the option rules every
// railyard package shares, so each package checks its own options
// against one table instead of a copy of it.
package optioncases

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// RetryCase is one WithRetries(n, minWait, maxWait) call and whether the
// shared rule (retry.NewPolicy: 0 <= n <= 999 and 0 < minWait <= maxWait)
// accepts it.
type RetryCase struct {
	Name             string
	N                int
	MinWait, MaxWait time.Duration
	OK               bool
}

// RetryCases are the edges of the shared WithRetries rule.
var RetryCases = []RetryCase{
	{"no retries", 0, time.Millisecond, time.Millisecond, true},
	{"most retries", 999, time.Millisecond, time.Second, true},
	{"too many", 1000, time.Millisecond, time.Second, false},
	{"negative", -1, time.Millisecond, time.Second, false},
	{"zero min wait", 1, 0, time.Second, false},
	{"zero waits", 0, 0, 0, false},
	{"reversed waits", 1, time.Second, time.Millisecond, false},
	{"negative waits", 1, -time.Second, -time.Millisecond, false},
}

// RetryRefusal is the phrase every package's refusal of WithRetries holds.
const RetryRefusal = "want 0 <= n <= 999 and 0 < minWait <= maxWait"

// Retries checks a package's WithRetries against [RetryCases]: apply
// builds the package's options (or constructor) with WithRetries(n,
// minWait, maxWait); a refusal must match invalid (the package's
// invalid-input sentinel) and say [RetryRefusal].
func Retries(t testing.TB, invalid error, apply func(n int, minWait, maxWait time.Duration) error) {
	t.Helper()
	for _, c := range RetryCases {
		err := apply(c.N, c.MinWait, c.MaxWait)
		switch {
		case c.OK && err != nil:
			t.Errorf("%s: WithRetries(%d, %v, %v): %v", c.Name, c.N, c.MinWait, c.MaxWait, err)
		case c.OK:
		case !errors.Is(err, invalid):
			t.Errorf("%s: WithRetries(%d, %v, %v): got %v, want an error matching %v", c.Name, c.N, c.MinWait, c.MaxWait, err, invalid)
		case !strings.Contains(err.Error(), RetryRefusal):
			t.Errorf("%s: the refusal %q does not say %q", c.Name, err, RetryRefusal)
		}
	}
}

// CredentialsExclusive checks that any two of a package's credential
// options, named in all, are refused together, the same one twice too,
// with an error matching invalid that names both ("WithA and WithB both
// set credentials"). apply builds the package's options with a, a nil
// option, then b.
func CredentialsExclusive[O any](t testing.TB, invalid error, all map[string]O, apply func(a, b O) error) {
	t.Helper()
	if len(all) == 0 {
		t.Fatal("no credential options to check")
	}
	for first, a := range all {
		for second, b := range all {
			err := apply(a, b)
			want := first + " and " + second + " both set credentials"
			switch {
			case !errors.Is(err, invalid):
				t.Errorf("%s then %s: got %v, want an error matching %v", first, second, err, invalid)
			case !strings.Contains(err.Error(), want):
				t.Errorf("%s then %s: the refusal %q does not say %q", first, second, err, want)
			}
		}
	}
}
