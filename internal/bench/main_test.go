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
