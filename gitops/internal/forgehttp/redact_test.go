package forgehttp_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/railyard-gitops/railyard/gitops/internal/forgehttp"
)

func TestRedacted(t *testing.T) {
	t.Parallel()
	redact := func(s string) string { return forgehttp.Redact(s, "", "tok") }
	assert.Equal(t, "a REDACTED b", redact("a tok b"))
	assert.NoError(t, forgehttp.Redacted(nil, redact))

	err := forgehttp.Redacted(fmt.Errorf("get: %w: echo tok", context.DeadlineExceeded), redact)
	assert.Equal(t, "get: context deadline exceeded: echo REDACTED", err.Error())
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	inner := errors.New("echo tok")
	err = forgehttp.Redacted(fmt.Errorf("get: %w", inner), redact)
	assert.NotErrorIs(t, err, inner, "the unredacted chain is dropped")
	assert.Nil(t, errors.Unwrap(err))
}
