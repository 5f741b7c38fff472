package gitops_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/optioncases"
)

func TestMessageTemplate(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	repo := newRepo(t, rem.url, gitops.WithMessageTemplate("deploy {{.Provenance.FreightID}} to {{.Branch}} ({{.Files}} files)"))
	res, err := repo.Commit(testContext(t), gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(1), Provenance: testProvenance})
	require.NoError(t, err)
	assert.Equal(t, "deploy "+testProvenance.FreightID+" to stage/test (2 files)\n\n"+testProvenance.Trailers(),
		rem.git(t, "log", "-1", "--format=%B", res.Commit)+"\n")
}

func TestOptionsRefuseBadValues(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]gitops.Option{
		"template":              gitops.WithMessageTemplate("{{"),
		"yaml provenance":       gitops.WithProvenanceFile("provenance.yaml"),
		"json provenance":       gitops.WithProvenanceFile("x/PROV.JSON"),
		"escaping provenance":   gitops.WithProvenanceFile("../PROVENANCE"),
		"retries":               gitops.WithRetries(-1, time.Millisecond, time.Millisecond),
		"retries above 999":     gitops.WithRetries(1000, time.Millisecond, time.Second),
		"empty temp dir":        gitops.WithTempDir(""),
		"nil logger":            gitops.WithLogger(nil),
		"nil signer":            gitops.WithSigner(nil),
		"nil clock":             gitops.WithClock(nil),
		"nil client":            gitops.WithHTTPClient(nil),
		"author with brackets":  gitops.WithAuthor("a <b>", "c@d"),
		"empty committer email": gitops.WithCommitter("a", ""),
		"empty token":           gitops.WithBearerToken(""),
		"ssh key on https":      gitops.WithSSHKey("git", []byte("not a key"), ""),
	} {
		_, err := gitops.NewRepo("https://example.com/r.git", opt)
		assert.Error(t, err, name)
	}
	_, err := gitops.NewRepo("https://example.com/r.git", gitops.WithBasicAuth("x-access-token", "a"), gitops.WithBasicAuth("u", "p"))
	assert.Error(t, err, "two auth options")
	_, err = gitops.NewRepo("file:///tmp/r.git")
	assert.Error(t, err, "file URLs are refused")
	_, err = gitops.NewRepo("ssh://git@example.com/r.git", gitops.WithSSHKey("git", []byte("not a key"), "hunter2"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestProvenanceFileOption(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	ctx := testContext(t)
	for name, opt := range map[string]gitops.Option{"none": gitops.WithProvenanceFile(""), "custom": gitops.WithProvenanceFile(".railyard/provenance")} {
		res, err := newRepo(t, rem.url, opt).Commit(ctx, gitops.Change{Branch: "stage/" + name, Dir: "d", Files: render(1), Provenance: testProvenance})
		require.NoError(t, err)
		files := strings.Fields(rem.git(t, "ls-tree", "-r", "--name-only", res.Commit))
		if name == "none" {
			assert.Equal(t, []string{"d/deployment-web.yaml", "d/service-web.yaml"}, files)
		} else {
			assert.Contains(t, files, "d/.railyard/provenance")
		}
	}
}

// The git side's options: limits must be positive, auth options exclude
// each other, errors match ErrInvalid, and a nil option is ignored.
func TestGitOptions(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]gitops.Option{
		"zero transfer":    gitops.WithMaxTransfer(0),
		"zero objects":     gitops.WithMaxObjects(0),
		"zero object size": gitops.WithMaxObjectSize(-1),
		"zero inflated":    gitops.WithMaxInflated(0),
		"nil credentials":  gitops.WithCredentials(nil),
		"empty bearer":     gitops.WithBearerToken(""),
	} {
		_, err := gitops.NewRepo("https://example.com/r.git", opt)
		assert.ErrorIs(t, err, gitops.ErrInvalid, name)
	}
	_, err := gitops.NewRepo("https://example.com/r.git", gitops.WithBearerToken("a"), gitops.WithBasicAuth("u", "p"))
	assert.ErrorIs(t, err, gitops.ErrInvalid, "two auth options")
	_, err = gitops.NewRepo("https://example.com/r.git", nil, gitops.WithMaxObjects(10), nil)
	assert.NoError(t, err, "nil options are ignored")
	_, err = gitops.NewRepo("ssh://git@example.com/r.git", gitops.WithBearerToken("a"))
	assert.ErrorIs(t, err, gitops.ErrInvalid, "a bearer token does not apply to ssh")

	// Regression: a URL that does not parse was quoted with its password.
	_, err = gitops.NewRepo("https://x:s3cr3t-in-url@host:badport/r.git")
	require.Error(t, err)
	assert.ErrorIs(t, err, gitops.ErrInvalid)
	assert.NotContains(t, err.Error(), "s3cr3t-in-url")
}

// WithRetries follows the rule every railyard package shares
// (retry.NewPolicy): n in 0..999 and 0 < minWait <= maxWait. Before,
// gitops accepted zero waits (a tight retry loop) and reversed ones until
// NewRepo's cross-check.
func TestWithRetriesValidation(t *testing.T) {
	t.Parallel()
	optioncases.Retries(t, gitops.ErrInvalid, func(n int, minWait, maxWait time.Duration) error {
		_, err := gitops.NewRepo("https://example.com/r.git", gitops.WithRetries(n, minWait, maxWait))
		return err
	})
}

// Two credential options are refused, naming both (before, the message
// named neither); the same option twice is refused too.
func TestCredentialOptionsExcludeEachOther(t *testing.T) {
	t.Parallel()
	key, err := gittest.NewSSHKey()
	require.NoError(t, err)
	creds := func(context.Context, string) (gitops.Credentials, error) { return gitops.Credentials{}, nil }
	all := map[string]gitops.Option{
		"WithBasicAuth":   gitops.WithBasicAuth("u", "p"),
		"WithBearerToken": gitops.WithBearerToken("t"),
		"WithCredentials": gitops.WithCredentials(creds),
		"WithSSHKey":      gitops.WithSSHKey("git", key.PEM, ""),
	}
	optioncases.CredentialsExclusive(t, gitops.ErrInvalid, all, func(a, b gitops.Option) error {
		_, err := gitops.NewRepo("https://example.com/r.git", a, nil, b)
		return err
	})
}

// WithTempDir puts the fetched tip's object store under dir, and it is
// gone once the Repo lets go of it. Before, gitops always used
// os.TempDir, which a caller with a small or read-only /tmp could not
// change.
func TestWithTempDir(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	ctx := testContext(t)
	seed := newRepo(t, rem.url)
	_, err := seed.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: "d", Files: render(1)})
	require.NoError(t, err)

	dir := t.TempDir()
	repo := newRepo(t, rem.url, gitops.WithTempDir(dir))
	_, err = repo.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: "d", Files: render(2)})
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries, "the fetched tip's store lives under the temp dir")
	for _, e := range entries {
		assert.True(t, strings.HasPrefix(e.Name(), "railyard-git-"), e.Name())
	}
}
