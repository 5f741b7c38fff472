package sparse

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionDefaults(t *testing.T) {
	t.Parallel()
	o, err := newOptions(nil)
	require.NoError(t, err)
	assert.NotNil(t, o.logger)
	assert.Equal(t, int64(DefaultMaxBlobSize), o.maxBlob)
	assert.Equal(t, DefaultMaxFiles, o.maxFiles)
	assert.Equal(t, int64(DefaultMaxTotalSize), o.maxTotal)
	assert.Equal(t, int64(DefaultMaxTransfer), o.maxTransfer)
	assert.Equal(t, DefaultRetries, o.retries)
	assert.Empty(t, o.cacheDir)
	assert.Nil(t, o.httpAuth)
}

func TestOptionsRefuseBadValues(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]Option{
		"nil option":     nil,
		"nil logger":     WithLogger(nil),
		"nil client":     WithHTTPClient(nil),
		"empty basic":    WithBasicAuth("", ""),
		"empty token":    WithBearerToken(""),
		"bad SSH key":    WithSSHKey("git", []byte("not a key"), ""),
		"no known hosts": WithSSHKnownHosts(),
		"empty cache":    WithCache(""),
		"empty temp":     WithTempDir(""),
		"zero blob":      WithMaxBlobSize(0),
		"negative files": WithMaxFiles(-1),
		"zero total":     WithMaxTotalSize(0),
		"zero transfer":  WithMaxTransfer(0),
		"negative retry": WithRetries(-1),
		"nil progress":   WithProgress(nil),
	} {
		_, err := newOptions([]Option{opt})
		assert.ErrorIs(t, err, ErrInvalidRequest, name)
	}
	_, err := newOptions([]Option{WithBearerToken("t"), WithSSHKnownHosts("x")})
	assert.NoError(t, err)
}
