package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, nil))
	assert.Contains(t, out.String(), "railyard demo")
	assert.Error(t, run(&out, []string{"--bogus"}))
}
