package freight

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/retry"
	"github.com/railyard-gitops/railyard/internal/testkit/optioncases"
)

func TestOptionDefaults(t *testing.T) {
	t.Parallel()
	o, err := newOptionsFor(forAll, nil)
	require.NoError(t, err)
	assert.Equal(t, http.DefaultTransport, o.transport)
	assert.Nil(t, o.httpClient)
	assert.Equal(t, DefaultMaxPages, o.maxPages)
	assert.Equal(t, DefaultMaxTags, o.maxTags)
	assert.EqualValues(t, DefaultMaxResponseSize, o.maxResponse)
	assert.Nil(t, o.credentials)
	assert.Empty(t, o.trustedAuth)
	assert.Equal(t, retry.Policy{Retries: DefaultRetries, MinWait: DefaultMinWait, MaxWait: DefaultMaxWait}, o.policy())
	assert.Empty(t, o.tempDir, "os.TempDir by default")
	assert.Equal(t, 1000, o.pageSize)
	assert.Equal(t, 100, o.limit)
	assert.Equal(t, formatSHA1, o.format)
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
	client := &http.Client{Transport: noNetwork{t}}
	o, err := newOptionsFor(forAll, []Option{
		WithLogger(l), WithHTTPClient(client), WithMaxPages(3), WithMaxTags(4), WithMaxResponseSize(5),
		WithTrustedAuthOrigins("https://auth.example", "http://localhost:5001"), WithRetries(5, time.Millisecond, time.Second), WithBasicAuth("u", "p"),
		WithGitHubToken("gh"), WithDockerConfig(), WithPageSize(50), WithLimit(7),
		WithIncludePaths("k8s/kustomize", "docs"), withObjectFormat(formatSHA256), WithConcurrency(2),
		WithGates(gate), WithIssued(Freight{ID: "x"}), WithRevisionCheck(), nil,
	})
	require.NoError(t, err)
	assert.Same(t, l, o.logger)
	assert.Same(t, client, o.httpClient)
	assert.Equal(t, noNetwork{t}, o.transport)
	assert.Equal(t, []int{3, 4}, []int{o.maxPages, o.maxTags})
	assert.EqualValues(t, 5, o.maxResponse)
	assert.Equal(t, []string{"https://auth.example", "http://localhost:5001"}, o.trustedAuth)
	assert.Equal(t, retry.Policy{Retries: 5, MinWait: time.Millisecond, MaxWait: time.Second}, o.policy())
	assert.Equal(t, "u", o.username)
	assert.Equal(t, "gh", o.githubToken)
	assert.True(t, o.dockerConfig && o.revision)
	assert.Equal(t, 50, o.pageSize)
	assert.Equal(t, 7, o.limit)
	assert.Equal(t, []string{"k8s/kustomize", "docs"}, o.includePaths)
	assert.Equal(t, formatSHA256, o.format)
	assert.Equal(t, 2, o.concurrency)
	assert.Len(t, o.gates, 1)
	assert.Len(t, o.issued, 1)
}

func TestWithGitHubTokenFromEnv(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "from-env")
	o, err := newOptionsFor(forImage, []Option{WithGitHubTokenFromEnv()})
	require.NoError(t, err)
	assert.Equal(t, "from-env", o.githubToken)
}

func TestOptionsRejected(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]Option{
		"basic and bearer":      {WithBasicAuth("u", "p"), WithBearerToken("t")},
		"backoff inverted":      {WithRetries(1, time.Second, time.Millisecond)},
		"zero max backoff":      {WithRetries(1, 0, 0)},
		"negative retries":      {WithRetries(-1, time.Millisecond, time.Second)},
		"empty temp dir":        {WithTempDir("")},
		"empty password":        {WithBasicAuth("u", "")},
		"zero page size":        {WithPageSize(0)},
		"zero limit":            {WithLimit(0)},
		"zero concurrency":      {WithConcurrency(0)},
		"unknown format":        {withObjectFormat(objectFormat(3))},
		"nil gate":              {WithGates(nil)},
		"nil logger":            {WithLogger(nil)},
		"nil client":            {WithHTTPClient(nil)},
		"basic and credentials": {WithBasicAuth("u", "p"), WithCredentials(func(context.Context, string) (Credentials, error) { return Credentials{}, nil })},
		"glob include path":     {WithIncludePaths("k8s/*")},
		"escaping include path": {WithIncludePaths("../x")},
	} {
		_, err := newOptionsFor(forAll, opts)
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
}

// Every option is accepted by the constructors it documents and refused,
// with ErrInvalid, by the others (before, options that did not apply were
// ignored: NewImageSource(..., WithLimit(5)) was silently accepted).
func TestOptionsApplyOnlyWhereDocumented(t *testing.T) {
	t.Parallel()
	creds := func(context.Context, string) (Credentials, error) { return Credentials{}, nil }
	for name, tc := range map[string]struct {
		opt Option
		to  target
	}{
		"WithLogger":             {WithLogger(slog.Default()), forAll},
		"WithHTTPClient":         {WithHTTPClient(http.DefaultClient), forGit | forImage},
		"WithRetries":            {WithRetries(1, time.Millisecond, time.Second), forGit | forImage},
		"WithTempDir":            {WithTempDir(t.TempDir()), forGit},
		"WithBasicAuth":          {WithBasicAuth("u", "p"), forGit | forImage},
		"WithBearerToken":        {WithBearerToken("t"), forGit | forImage},
		"WithGitHubToken":        {WithGitHubToken("t"), forGit | forImage},
		"WithGitHubTokenFromEnv": {WithGitHubTokenFromEnv(), forGit | forImage},
		"WithCredentials":        {WithCredentials(creds), forGit | forImage},
		"WithMaxTransfer":        {WithMaxTransfer(5), forGit},
		"WithMaxObjects":         {WithMaxObjects(5), forGit},
		"WithMaxObjectSize":      {WithMaxObjectSize(5), forGit},
		"WithMaxInflated":        {WithMaxInflated(5), forGit},
		"WithDockerConfig":       {WithDockerConfig(), forImage},
		"WithPageSize":           {WithPageSize(5), forImage},
		"WithMaxPages":           {WithMaxPages(5), forImage},
		"WithMaxTags":            {WithMaxTags(5), forImage},
		"WithMaxResponseSize":    {WithMaxResponseSize(5), forImage},
		"WithTrustedAuthOrigins": {WithTrustedAuthOrigins("https://a.example"), forImage},
		"WithLimit":              {WithLimit(5), forGit},
		"WithIncludePaths":       {WithIncludePaths("k8s"), forGit},
		"withObjectFormat":       {withObjectFormat(formatSHA256), forGit | forWarehouse},
		"WithConcurrency":        {WithConcurrency(2), forWarehouse},
		"WithGates":              {WithGates(GateFunc(nil)), forWarehouse},
		"WithIssued":             {WithIssued(), forWarehouse},
		"WithRevisionCheck":      {WithRevisionCheck(), forWarehouse},
	} {
		for _, c := range []target{forGit, forImage, forWarehouse} {
			_, err := newOptionsFor(c, []Option{tc.opt})
			if tc.to&c != 0 {
				assert.NoError(t, err, "%s for %s", name, c)
				continue
			}
			require.ErrorIs(t, err, ErrInvalid, "%s for %s", name, c)
			assert.Contains(t, err.Error(), name+" does not apply to "+c.String())
		}
	}
}

// WithRetries follows the rule every railyard package shares
// (retry.NewPolicy): n in 0..999 and 0 < minWait <= maxWait. Before,
// freight accepted a zero minimum wait (a tight retry loop) and any n.
func TestWithRetriesValidation(t *testing.T) {
	t.Parallel()
	optioncases.Retries(t, ErrInvalid, func(n int, minWait, maxWait time.Duration) error {
		_, err := newOptionsFor(forGit, []Option{WithRetries(n, minWait, maxWait)})
		return err
	})
}

// Two credential options are refused, naming both, whatever their order;
// before, the message named none of them. The same option twice is refused
// too: which secret would win is not left to option order.
func TestCredentialOptionsExcludeEachOther(t *testing.T) {
	t.Parallel()
	creds := func(context.Context, string) (Credentials, error) { return Credentials{}, nil }
	all := map[string]Option{
		"WithBasicAuth":   WithBasicAuth("u", "p"),
		"WithBearerToken": WithBearerToken("t"),
		"WithCredentials": WithCredentials(creds),
	}
	optioncases.CredentialsExclusive(t, ErrInvalid, all, func(a, b Option) error {
		_, err := newOptionsFor(forGit, []Option{a, nil, b})
		return err
	})
	for first, a := range all {
		_, err := newOptionsFor(forImage, []Option{a, WithGitHubToken("gh"), WithDockerConfig()})
		assert.NoError(t, err, "%s with the scoped and ambient fallbacks", first)
	}
}
