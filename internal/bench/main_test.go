package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunListsAndRejects(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, nil))
	assert.Contains(t, out.String(), "usage:")
	assert.ErrorContains(t, run(context.Background(), &out, []string{"no-such-bench"}), "unknown benchmark")
}

// TestMedianCI checks the median and its distribution-free interval on
// known samples: 1..100 has the ranks 50 ± 9.8, and one sample is its own
// interval.
func TestMedianCI(t *testing.T) {
	xs := make([]float64, 100)
	for i := range xs {
		xs[99-i] = float64(i + 1) // unsorted on purpose
	}
	med, lo, hi := medianCI(xs)
	if med != 51 || lo != 41 || hi != 61 {
		t.Fatalf("medianCI(1..100) = %v [%v, %v], want 51 [41, 61]", med, lo, hi)
	}
	if med, lo, hi := medianCI([]float64{0.9}); med != 0.9 || lo != 0.9 || hi != 0.9 {
		t.Fatalf("medianCI(0.9) = %v [%v, %v]", med, lo, hi)
	}
}
