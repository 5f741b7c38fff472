package render

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewOptionsDefaults(t *testing.T) {
	t.Parallel()
	o, err := newOptions(nil)
	require.NoError(t, err)
	assert.Equal(t, int64(DefaultMaxInputSize), o.maxInputSize)
	assert.Equal(t, NamingKustomize, o.naming)
	assert.False(t, o.logger.Enabled(context.Background(), slog.LevelError), "the default logger discards")

	o, err = newOptions([]Option{nil, WithMaxInputSize(10), WithFileNaming(NamingKargo)})
	require.NoError(t, err)
	assert.Equal(t, int64(10), o.maxInputSize)
	assert.Equal(t, NamingKargo, o.naming)
}

// WithLogger receives Debug lines naming the files read and the phases;
// nothing above Debug.
func TestWithLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, err := Build(context.Background(), []Mount{{At: "app", FS: smallApp()}}, smallWrapper(), WithLogger(logger))
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, "path=app/base/deploy.yaml")
	assert.Contains(t, out, `msg="render: assembled"`)
	assert.Contains(t, out, `msg="render: built"`)
	assert.Equal(t, strings.Count(out, "\n"), strings.Count(out, "level=DEBUG"))
}

func TestWithMaxInputSizeExact(t *testing.T) {
	t.Parallel()
	app := smallApp()
	total := int64(0)
	for name, f := range app {
		if !strings.HasPrefix(name, "templates/") {
			total += int64(len(f.Data))
		}
	}
	_, err := Build(context.Background(), []Mount{{At: "app", FS: app}}, smallWrapper(), WithMaxInputSize(total))
	assert.NoError(t, err, "exactly the bytes read fit")
	_, err = Build(context.Background(), []Mount{{At: "app", FS: app}}, smallWrapper(), WithMaxInputSize(total-1))
	assert.ErrorIs(t, err, ErrTooLarge)
}
