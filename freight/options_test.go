package freight

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionDefaults(t *testing.T) {
	t.Parallel()
	o, err := newOptions(nil)
	require.NoError(t, err)
	assert.Equal(t, http.DefaultTransport, o.transport)
	assert.Equal(t, 3, o.retries)
	assert.Equal(t, 250*time.Millisecond, o.minBackoff)
	assert.Equal(t, 10*time.Second, o.maxBackoff)
	assert.Equal(t, 1000, o.pageSize)
	assert.Equal(t, 100, o.limit)
	assert.Equal(t, SHA1, o.format)
	assert.Equal(t, 8, o.concurrency)
	assert.Empty(t, o.username+o.password+o.bearer+o.githubToken, "anonymous by default")
	assert.False(t, o.dockerConfig || o.revision)
	assert.Empty(t, o.includePaths)
	assert.Empty(t, o.gates)
	assert.Empty(t, o.issued)
	assert.False(t, o.logger.Enabled(t.Context(), slog.LevelError), "logs discarded by default")
}

func TestOptionsApply(t *testing.T) {
	t.Parallel()
	l := slog.New(slog.NewTextHandler(io.Discard, nil))
	gate := GateFunc(nil)
	o, err := newOptions([]Option{
		WithLogger(l), WithRetries(5, time.Millisecond, time.Second), WithBasicAuth("u", "p"),
		WithGitHubToken("gh"), WithDockerConfig(), WithPageSize(50), WithLimit(7),
		WithIncludePaths("k8s/kustomize", "docs"), WithObjectFormat(SHA256), WithConcurrency(2),
		WithGates(gate), WithIssued(Freight{ID: "x"}), WithRevisionCheck(), nil,
	})
	require.NoError(t, err)
	assert.Same(t, l, o.logger)
	assert.Equal(t, 5, o.retries)
	assert.Equal(t, "u", o.username)
	assert.Equal(t, "gh", o.githubToken)
	assert.True(t, o.dockerConfig && o.revision)
	assert.Equal(t, 50, o.pageSize)
	assert.Equal(t, 7, o.limit)
	assert.Equal(t, []string{"k8s/kustomize", "docs"}, o.includePaths)
	assert.Equal(t, SHA256, o.format)
	assert.Equal(t, 2, o.concurrency)
	assert.Len(t, o.gates, 1)
	assert.Len(t, o.issued, 1)
}

func TestWithGitHubTokenFromEnv(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "from-env")
	o, err := newOptions([]Option{WithGitHubTokenFromEnv()})
	require.NoError(t, err)
	assert.Equal(t, "from-env", o.githubToken)
}

func TestOptionsRejected(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]Option{
		"basic and bearer":      {WithBasicAuth("u", "p"), WithBearerToken("t")},
		"backoff inverted":      {WithRetries(1, time.Second, time.Millisecond)},
		"zero max backoff":      {WithRetries(1, 0, 0)},
		"negative retries":      {WithRetries(-1, 0, time.Second)},
		"empty password":        {WithBasicAuth("u", "")},
		"zero page size":        {WithPageSize(0)},
		"zero limit":            {WithLimit(0)},
		"zero concurrency":      {WithConcurrency(0)},
		"unknown format":        {WithObjectFormat(ObjectFormat(3))},
		"nil gate":              {WithGates(nil)},
		"nil logger":            {WithLogger(nil)},
		"nil transport":         {WithTransport(nil)},
		"glob include path":     {WithIncludePaths("k8s/*")},
		"escaping include path": {WithIncludePaths("../x")},
	} {
		_, err := newOptions(opts)
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
}
