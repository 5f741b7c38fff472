package sparse

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/retry"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/optioncases"
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
	assert.Equal(t, retry.Policy{Retries: DefaultRetries, MinWait: DefaultMinWait, MaxWait: DefaultMaxWait}, o.retry)
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
		"negative retry":   WithRetries(-1, time.Millisecond, time.Second),
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

// WithRetries follows the rule every railyard package shares
// (retry.NewPolicy): n in 0..999 and 0 < minWait <= maxWait. Before, sparse
// accepted zero waits (a tight retry loop) and any n.
func TestWithRetriesValidation(t *testing.T) {
	t.Parallel()
	optioncases.Retries(t, ErrInvalidRequest, func(n int, minWait, maxWait time.Duration) error {
		_, err := newOptions([]Option{WithRetries(n, minWait, maxWait)})
		return err
	})
}

// Two credential options are refused, naming both; before, the last one
// silently won (a bearer token given after basic auth replaced it). The
// same option twice is refused too.
func TestCredentialOptionsExcludeEachOther(t *testing.T) {
	t.Parallel()
	key, err := gittest.NewSSHKey()
	require.NoError(t, err)
	creds := func(context.Context, string) (Credentials, error) { return Credentials{}, nil }
	all := map[string]Option{
		"WithBasicAuth":   WithBasicAuth("u", "p"),
		"WithBearerToken": WithBearerToken("t"),
		"WithCredentials": WithCredentials(creds),
		"WithSSHKey":      WithSSHKey("git", key.PEM, ""),
	}
	for first, a := range all {
		_, err = newOptions([]Option{a, WithSSHKnownHosts("known_hosts")})
		require.NoError(t, err, first)
	}
	for _, tgt := range []target{forFetch, forResolve} {
		optioncases.CredentialsExclusive(t, ErrInvalidRequest, all, func(a, b Option) error {
			_, err := newOptionsFor(tgt, []Option{a, nil, b})
			return err
		})
	}
}

// Options that only a fetch uses are refused by Resolve rather than
// ignored: before, sparse.Resolve(ctx, url, ref, WithMaxObjects(1)) ran
// without complaint, and a caller could believe a limit held that did not.
func TestOptionsApplyOnlyWhereDocumented(t *testing.T) {
	t.Parallel()
	key, err := gittest.NewSSHKey()
	require.NoError(t, err)
	creds := func(context.Context, string) (Credentials, error) { return Credentials{}, nil }
	for name, tc := range map[string]struct {
		opt Option
		to  target
	}{
		"WithLogger":        {WithLogger(slog.Default()), forAll},
		"WithHTTPClient":    {WithHTTPClient(http.DefaultClient), forAll},
		"WithBasicAuth":     {WithBasicAuth("u", "p"), forAll},
		"WithBearerToken":   {WithBearerToken("t"), forAll},
		"WithCredentials":   {WithCredentials(creds), forAll},
		"WithSSHKey":        {WithSSHKey("git", key.PEM, ""), forAll},
		"WithSSHKnownHosts": {WithSSHKnownHosts("known_hosts"), forAll},
		"WithRetries":       {WithRetries(1, time.Millisecond, time.Second), forAll},
		"WithMaxTransfer":   {WithMaxTransfer(5), forAll},
		"WithCache":         {WithCache(t.TempDir()), forFetch},
		"WithTempDir":       {WithTempDir(t.TempDir()), forFetch},
		"WithMaxBlobSize":   {WithMaxBlobSize(5), forFetch},
		"WithMaxFiles":      {WithMaxFiles(5), forFetch},
		"WithMaxTotalSize":  {WithMaxTotalSize(5), forFetch},
		"WithMaxObjects":    {WithMaxObjects(5), forFetch},
		"WithMaxObjectSize": {WithMaxObjectSize(5 << 30), forFetch},
		"WithMaxInflated":   {WithMaxInflated(5), forFetch},
		"WithProgress":      {WithProgress(func(Progress) {}), forFetch},
	} {
		for _, c := range []target{forFetch, forResolve} {
			_, err := newOptionsFor(c, []Option{tc.opt})
			if tc.to&c != 0 {
				assert.NoError(t, err, "%s for %s", name, c)
				continue
			}
			require.ErrorIs(t, err, ErrInvalidRequest, "%s for %s", name, c)
			assert.ErrorContains(t, err, name+" does not apply to "+c.String())
		}
	}
}
