package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/errs"
)

func TestFileError(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("promote: %w", &FileError{Path: "src/base/kustomization.yaml", Err: fmt.Errorf("%w: %q", ErrRemote, "https://x")})
	assert.EqualError(t, err, `promote: render: src/base/kustomization.yaml: remote reference refused: "https://x"`)
	assert.ErrorIs(t, err, ErrRemote)
	assert.ErrorIs(t, err, ErrUnsafeContent)
	assert.NotErrorIs(t, err, ErrEscape)
	var fe *FileError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "src/base/kustomization.yaml", fe.Path)
}

// Every specific sentinel matches exactly one of the four general ones,
// and none is retryable.
func TestSentinelsMatchOneGeneral(t *testing.T) {
	t.Parallel()
	general := []error{ErrInvalid, ErrNotFound, ErrUnsafeContent, ErrLimitExceeded}
	want := map[error]error{
		ErrInvalidMount: ErrInvalid, ErrInvalidWrapper: ErrInvalid, ErrInvalidImage: ErrInvalid,
		ErrInvalidOption: ErrInvalid, ErrInvalidKustomization: ErrInvalid, ErrInvalidYAML: ErrInvalid,
		ErrDuplicateObject: ErrInvalid, ErrKustomize: ErrInvalid, ErrPanic: ErrInvalid,
		ErrInvalidDeployment: ErrInvalid, ErrRead: ErrInvalid,
		ErrRemote: ErrUnsafeContent, ErrAbsolutePath: ErrUnsafeContent, ErrEscape: ErrUnsafeContent,
		ErrSymlink: ErrUnsafeContent, ErrHelmRefused: ErrUnsafeContent, ErrPluginRefused: ErrUnsafeContent,
		ErrTooLarge: ErrLimitExceeded, ErrOutputTooLarge: ErrLimitExceeded, ErrAliasBomb: ErrLimitExceeded,
		ErrNotFound: ErrNotFound, ErrInvalid: ErrInvalid, ErrUnsafeContent: ErrUnsafeContent, ErrLimitExceeded: ErrLimitExceeded,
	}
	for specific, g := range want {
		err := &FileError{Path: "p", Err: fmt.Errorf("x: %w", specific)}
		for _, other := range general {
			assert.Equal(t, other == g, errors.Is(err, other), "%v is %v", specific, other)
		}
		assert.False(t, IsRetryable(err), "%v", specific)
	}
}

// ErrRead lets the FS's own error answer IsRetryable.
func TestIsRetryableReadError(t *testing.T) {
	t.Parallel()
	transient := errs.New("flaky disk", true)
	for _, tc := range []struct {
		fsErr error
		want  bool
	}{
		{transient, true},
		{fs.ErrPermission, false},
		{context.DeadlineExceeded, true},
	} {
		err := &FileError{Path: "p", Err: fmt.Errorf("%w: p: %w", ErrRead, tc.fsErr)}
		assert.ErrorIs(t, err, ErrRead)
		assert.ErrorIs(t, err, ErrInvalid)
		assert.Equal(t, tc.want, IsRetryable(err), "%v", tc.fsErr)
	}
	assert.True(t, IsRetryable(fmt.Errorf("build: %w", context.DeadlineExceeded)))
	assert.False(t, IsRetryable(context.Canceled))
	assert.False(t, IsRetryable(nil))
}

func TestLimitError(t *testing.T) {
	t.Parallel()
	err := &FileError{Path: "w/kustomization.yaml", Err: &LimitError{Err: ErrOutputTooLarge, Limit: 10, Option: "WithMaxOutputSize", Detail: "20 bytes built"}}
	assert.EqualError(t, err, "render: w/kustomization.yaml: output too large: 20 bytes built (limit 10 bytes, WithMaxOutputSize)")
	assert.ErrorIs(t, err, ErrOutputTooLarge)
	assert.ErrorIs(t, err, ErrLimitExceeded)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, int64(10), le.Limit)
}
