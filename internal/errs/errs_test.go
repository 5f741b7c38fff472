package errs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/railyard-gitops/railyard/internal/errs"
)

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	transient := errs.New("unavailable", true)
	auth := errs.New("unauthorized", false)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("boom"), false},
		{"transient sentinel", transient, true},
		{"wrapped transient", fmt.Errorf("fetch: %w", transient), true},
		{"permanent sentinel", auth, false},
		{"outer sentinel decides", fmt.Errorf("%w: %w", auth, transient), false},
		{"outer transient decides", fmt.Errorf("%w: %w", transient, auth), true},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), false},
		{"sentinel over deadline", fmt.Errorf("%w: %w", auth, context.DeadlineExceeded), false},
		{"marked retryable", errs.Retryable(errors.New("x"), true), true},
		{"marked permanent over transient", errs.Retryable(fmt.Errorf("%w", transient), false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, errs.IsRetryable(tc.err))
		})
	}
}

func TestRetryableKeepsChain(t *testing.T) {
	t.Parallel()
	base := errs.New("not found", false)
	err := errs.Retryable(fmt.Errorf("get: %w", base), true)
	assert.ErrorIs(t, err, base)
	assert.Equal(t, "get: not found", err.Error())
	assert.NoError(t, errs.Retryable(nil, true))
}
