package retry_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/retry"
)

func TestBackoffIsFullJitterWithinCap(t *testing.T) {
	t.Parallel()
	p := retry.Policy{Retries: 10, MinWait: 100 * time.Millisecond, MaxWait: time.Second}
	for attempt := 0; attempt < 8; attempt++ {
		ceil := min(100*time.Millisecond<<attempt, time.Second)
		var low bool
		for i := 0; i < 200; i++ {
			d := p.Backoff(attempt)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.LessOrEqual(t, d, ceil)
			if d < ceil/4 {
				low = true
			}
		}
		// Full jitter draws from the whole range, equal jitter never from
		// below half the cap.
		assert.True(t, low, "attempt %d: no wait below a quarter of the cap in 200 draws", attempt)
	}
	assert.Zero(t, retry.Policy{}.Backoff(3))
	// Large attempt numbers do not overflow.
	assert.LessOrEqual(t, p.Backoff(200), time.Second)
}

func TestDo(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	fast := retry.Policy{Retries: 3, MinWait: time.Microsecond, MaxWait: time.Millisecond}
	t.Run("retries transient until success", func(t *testing.T) {
		t.Parallel()
		n := 0
		err := retry.Do(context.Background(), fast, func(int) (retry.Outcome, error) {
			n++
			if n < 3 {
				return retry.Outcome{Retry: true}, boom
			}
			return retry.Outcome{}, nil
		}, nil)
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})
	t.Run("stops after n retries", func(t *testing.T) {
		t.Parallel()
		n, retried := 0, 0
		err := retry.Do(context.Background(), fast, func(int) (retry.Outcome, error) {
			n++
			return retry.Outcome{Retry: true}, boom
		}, func(int, time.Duration, error) { retried++ })
		require.ErrorIs(t, err, boom)
		assert.Equal(t, 4, n)
		assert.Equal(t, 3, retried)
	})
	t.Run("permanent error is not retried", func(t *testing.T) {
		t.Parallel()
		n := 0
		err := retry.Do(context.Background(), fast, func(int) (retry.Outcome, error) {
			n++
			return retry.Outcome{}, boom
		}, nil)
		require.ErrorIs(t, err, boom)
		assert.Equal(t, 1, n)
	})
	t.Run("retry-after beyond the cap ends the loop", func(t *testing.T) {
		t.Parallel()
		n := 0
		err := retry.Do(context.Background(), fast, func(int) (retry.Outcome, error) {
			n++
			return retry.Outcome{Retry: true, After: time.Hour}, boom
		}, nil)
		require.ErrorIs(t, err, boom)
		assert.Equal(t, 1, n)
	})
	t.Run("retry-after within the cap is waited", func(t *testing.T) {
		t.Parallel()
		p := retry.Policy{Retries: 1, MinWait: time.Microsecond, MaxWait: time.Second}
		start := time.Now()
		n := 0
		_ = retry.Do(context.Background(), p, func(int) (retry.Outcome, error) {
			n++
			return retry.Outcome{Retry: true, After: 50 * time.Millisecond}, boom
		}, nil)
		assert.Equal(t, 2, n)
		assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	})
	t.Run("context ends the wait", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		p := retry.Policy{Retries: 5, MinWait: time.Hour, MaxWait: time.Hour}
		start := time.Now()
		err := retry.Do(ctx, p, func(int) (retry.Outcome, error) {
			return retry.Outcome{Retry: true, After: 30 * time.Minute}, boom
		}, nil)
		require.ErrorIs(t, err, boom)
		assert.Less(t, time.Since(start), 10*time.Second)
	})
}

func TestAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{"7", 7 * time.Second},
		{" 2 ", 2 * time.Second},
		{"99999999999999999", 24 * time.Hour},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(72 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
	} {
		assert.Equal(t, tc.want, retry.After(tc.v, now), "%q", tc.v)
	}
	assert.True(t, retry.TransientStatus(503))
	assert.False(t, retry.TransientStatus(404))
}

func FuzzAfter(f *testing.F) {
	for _, s := range []string{"", "1", "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "1e9"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, v string) {
		d := retry.After(v, now)
		if d < 0 || d > 24*time.Hour {
			t.Fatalf("After(%q) = %v", v, d)
		}
	})
}

// NewPolicy is the one rule behind every package's WithRetries.
func TestNewPolicy(t *testing.T) {
	t.Parallel()
	p, err := retry.NewPolicy(3, time.Millisecond, time.Second)
	require.NoError(t, err)
	assert.Equal(t, retry.Policy{Retries: 3, MinWait: time.Millisecond, MaxWait: time.Second}, p)
	for _, ok := range [][3]int64{{0, 1, 1}, {retry.MaxRetries, 1, int64(time.Hour)}} {
		_, err := retry.NewPolicy(int(ok[0]), time.Duration(ok[1]), time.Duration(ok[2]))
		assert.NoError(t, err, "%v", ok)
	}
	for name, bad := range map[string][3]int64{
		"negative retries":  {-1, 1, 1},
		"too many retries":  {retry.MaxRetries + 1, 1, 1},
		"zero minimum wait": {1, 0, 1},
		"negative waits":    {1, -1, -1},
		"zero waits":        {0, 0, 0},
		"waits reversed":    {1, 2, 1},
	} {
		_, err := retry.NewPolicy(int(bad[0]), time.Duration(bad[1]), time.Duration(bad[2]))
		assert.ErrorContains(t, err, "want 0 <= n <= 999 and 0 < minWait <= maxWait", name)
	}
}
