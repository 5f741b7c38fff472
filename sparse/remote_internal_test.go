package sparse

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 3*time.Second, retryAfter("3"))
	assert.Zero(t, retryAfter(""))
	assert.Zero(t, retryAfter("soon"))
	assert.Zero(t, retryAfter("-1"))
	d := retryAfter(time.Now().Add(time.Minute).UTC().Format(http.TimeFormat))
	assert.Greater(t, d, 50*time.Second)
	assert.LessOrEqual(t, d, time.Minute)
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	for attempt := range 10 {
		d := backoff(attempt)
		ceiling := min(100*time.Millisecond<<attempt, 5*time.Second)
		assert.GreaterOrEqual(t, d, ceiling/2, "attempt %d", attempt)
		assert.LessOrEqual(t, d, ceiling, "attempt %d", attempt)
	}
}

func TestRefusal(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		"error decoding upload-pack response: filter 'tree' not supported",
		"unexpected client error: ERR upload-pack: not our ref 0123",
		"git upload-pack: filtering capability not negotiated",
	} {
		assert.True(t, refusal(msg), msg)
	}
	for _, msg := range []string{
		`Post "http://host/filter.git/git-upload-pack": connection refused`,
		"unexpected EOF",
	} {
		assert.False(t, refusal(msg), msg)
	}
}
