package logtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
)

// Debug records are kept, and concurrent loggers lose no line (run under
// -race in CI).
func TestBufferKeepsEveryRecord(t *testing.T) {
	t.Parallel()
	var b logtest.Buffer
	logger := b.Logger()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { logger.Debug("fetch", "n", i) })
	}
	wg.Wait()
	out := b.String()
	assert.Equal(t, 20, strings.Count(out, "level=DEBUG msg=fetch"))
	for i := range 20 {
		assert.Contains(t, out, fmt.Sprintf(" n=%d\n", i))
	}
}
