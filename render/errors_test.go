package render

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileError(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("promote: %w", &FileError{Path: "src/base/kustomization.yaml", Err: fmt.Errorf("%w: %q", ErrRemote, "https://x")})
	assert.EqualError(t, err, `promote: render: src/base/kustomization.yaml: remote reference refused: "https://x"`)
	assert.ErrorIs(t, err, ErrRemote)
	assert.NotErrorIs(t, err, ErrEscape)
	var fe *FileError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "src/base/kustomization.yaml", fe.Path)
}
