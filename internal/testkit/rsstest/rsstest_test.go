package rsstest_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/rsstest"
)

var sink []byte

func TestRunMeasuresChild(t *testing.T) {
	t.Run("small", func(t *testing.T) {
		peak := rsstest.Run(t, 256*rsstest.MiB, time.Minute, func(t *testing.T) {
			sink = make([]byte, 1<<20)
		})
		if os.Getenv("RAILYARD_RSSTEST_CHILD") == "" {
			assert.Positive(t, peak)
			assert.Less(t, peak, int64(256*rsstest.MiB))
		}
	})
	t.Run("large", func(t *testing.T) {
		peak := rsstest.Run(t, 1<<40, time.Minute, func(t *testing.T) {
			b := make([]byte, 64<<20)
			for i := range b {
				b[i] = byte(i)
			}
			sink = b
		})
		if os.Getenv("RAILYARD_RSSTEST_CHILD") == "" {
			// The child touched 64 MiB: the peak shows it.
			assert.Greater(t, peak, int64(64*rsstest.MiB))
		}
	})
}

func TestPeakRSS(t *testing.T) {
	t.Parallel()
	p, err := rsstest.PeakRSS()
	require.NoError(t, err)
	assert.Positive(t, p)
}
