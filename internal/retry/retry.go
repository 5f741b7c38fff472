// Package retry is railyard's one retry loop: exponential backoff with full
// jitter, a server's Retry-After honoured up to the policy's cap, and the
// caller's context respected while waiting.
package retry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy bounds retries. The zero value makes no retry.
type Policy struct {
	Retries int           // retries after the first try; 0 tries once
	MinWait time.Duration // the first backoff cap; doubles per retry
	MaxWait time.Duration // cap of any wait, a Retry-After included
}

// MaxRetries is the most retries a [Policy] made by [NewPolicy] allows.
const MaxRetries = 999

// NewPolicy checks the arguments of a WithRetries option and returns the
// policy they make. It is the one rule every railyard package applies: n
// in 0..[MaxRetries] and 0 < minWait <= maxWait (a zero wait would retry
// in a tight loop against a failing server). The error names the
// arguments; callers wrap it in their invalid-option sentinel.
func NewPolicy(n int, minWait, maxWait time.Duration) (Policy, error) {
	if n < 0 || n > MaxRetries || minWait <= 0 || minWait > maxWait {
		return Policy{}, fmt.Errorf("retries %d, waits %s..%s: want 0 <= n <= %d and 0 < minWait <= maxWait", n, minWait, maxWait, MaxRetries)
	}
	return Policy{Retries: n, MinWait: minWait, MaxWait: maxWait}, nil
}

// Backoff returns the wait before retry number attempt (0 for the first
// retry): full jitter, a uniformly random duration in [0, min(MaxWait,
// MinWait<<attempt)].
func (p Policy) Backoff(attempt int) time.Duration {
	ceil := p.MinWait
	for i := 0; i < attempt && ceil < p.MaxWait; i++ {
		ceil *= 2
	}
	if p.MaxWait > 0 {
		ceil = min(ceil, p.MaxWait)
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

// Outcome is what one try tells the loop.
type Outcome struct {
	// Retry says the failure is transient and another try may succeed.
	Retry bool
	// After is the server's Retry-After, zero when it sent none. A wait
	// longer than the policy's MaxWait ends the loop: the server will not
	// answer sooner.
	After time.Duration
}

// Do calls try until it succeeds, returns an error that is not to be
// retried, or the retries are spent; it returns try's last error. Between
// tries it waits [Policy.Backoff], or the server's Retry-After when that is
// longer, and returns the last error early when ctx ends while waiting.
// onRetry, when not nil, is called before each wait (for logging).
func Do(ctx context.Context, p Policy, try func(attempt int) (Outcome, error), onRetry func(attempt int, wait time.Duration, err error)) error {
	for attempt := 0; ; attempt++ {
		out, err := try(attempt)
		if err == nil {
			return nil
		}
		if !out.Retry || attempt >= p.Retries || ctx.Err() != nil {
			return err
		}
		if p.MaxWait > 0 && out.After > p.MaxWait {
			return err
		}
		wait := max(p.Backoff(attempt), out.After)
		if onRetry != nil {
			onRetry(attempt+1, wait, err)
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
		}
	}
}

// TransientStatus reports whether an HTTP status is worth retrying: 408,
// 429, 500, 502, 503 and 504.
func TransientStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// After parses a Retry-After header value, delay-seconds or an HTTP date
// (relative to now). It returns 0 for an empty, malformed or past value.
func After(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		// Cap before multiplying: a huge value must not overflow.
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}
