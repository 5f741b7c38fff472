package sparse

import (
	"testing"
	"time"

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
	assert.Equal(t, int64(DefaultMaxObjects), o.maxObjects)
	assert.Equal(t, int64(DefaultMaxObjectSize), o.maxObjectSize)
	assert.Equal(t, int64(DefaultMaxInflated), o.maxInflated)
	assert.Equal(t, DefaultRetries, o.retries)
	assert.Equal(t, DefaultMinWait, o.minWait)
	assert.Equal(t, DefaultMaxWait, o.maxWait)
	assert.Empty(t, o.cacheDir)
	assert.Nil(t, o.creds)

	// A nil option is ignored.
	o, err = newOptions([]Option{nil, WithMaxFiles(3), nil})
	require.NoError(t, err)
	assert.Equal(t, 3, o.maxFiles)
}

// The object size limit follows a larger blob size limit unless it was set.
func TestOptionObjectSizeFollowsBlobSize(t *testing.T) {
	t.Parallel()
	o, err := newOptions([]Option{WithMaxBlobSize(64 << 20)})
	require.NoError(t, err)
	assert.Equal(t, int64(64<<20), o.maxObjectSize)
	_, err = newOptions([]Option{WithMaxBlobSize(64 << 20), WithMaxObjectSize(1 << 20)})
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestOptionsRefuseBadValues(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]Option{
		"nil logger":       WithLogger(nil),
		"nil client":       WithHTTPClient(nil),
		"empty basic":      WithBasicAuth("", ""),
		"empty token":      WithBearerToken(""),
		"nil credentials":  WithCredentials(nil),
		"bad SSH key":      WithSSHKey("git", []byte("not a key"), ""),
		"no known hosts":   WithSSHKnownHosts(),
		"empty cache":      WithCache(""),
		"empty temp":       WithTempDir(""),
		"zero blob":        WithMaxBlobSize(0),
		"negative files":   WithMaxFiles(-1),
		"zero total":       WithMaxTotalSize(0),
		"zero transfer":    WithMaxTransfer(0),
		"zero objects":     WithMaxObjects(0),
		"zero object size": WithMaxObjectSize(0),
		"zero inflated":    WithMaxInflated(0),
		"negative retry":   WithRetries(-1, 0, time.Second),
		"negative wait":    WithRetries(1, -time.Second, time.Second),
		"waits reversed":   WithRetries(1, time.Minute, time.Second),
		"nil progress":     WithProgress(nil),
	} {
		_, err := newOptions([]Option{opt})
		assert.ErrorIs(t, err, ErrInvalidRequest, name)
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
	_, err := newOptions([]Option{WithBearerToken("t"), WithSSHKnownHosts("x")})
	assert.NoError(t, err)
}
