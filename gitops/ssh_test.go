package gitops_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// Commit over SSH: a real handshake (gittest's SSH server, key auth), the
// host key checked against known_hosts, and the real git upload-pack and
// receive-pack per connection.
func TestCommitOverSSH(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/test", map[string]string{"README.md": "x"})
	srv, key := gittest.NewSSH(t, rem.srv.Root)

	dir := t.TempDir()
	known := filepath.Join(dir, "known_hosts")
	require.NoError(t, srv.WriteKnownHosts(known))
	url := srv.URL(rem.name)
	repo := newRepo(t, url, gitops.WithSSHKey("git", key.PEM, ""), gitops.WithSSHKnownHosts(known))
	res, err := repo.Commit(testContext(t), gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, rem.git(t, "rev-parse", "refs/heads/stage/test"), res.Commit)
	rem.assertNoRewrites(t, "stage/test")

	// A server whose host key is not the known one is refused: it failed
	// to authenticate itself.
	other, err := gittest.NewSSHKey()
	require.NoError(t, err)
	wrong := filepath.Join(dir, "wrong_known_hosts")
	require.NoError(t, os.WriteFile(wrong, []byte(knownhosts.Line([]string{srv.Addr}, other.Public)+"\n"), 0o600))
	bad := newRepo(t, url, gitops.WithSSHKey("git", key.PEM, ""), gitops.WithSSHKnownHosts(wrong), gitops.WithRetries(0, time.Millisecond, 20*time.Millisecond))
	_, err = bad.Commit(testContext(t), gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(2)})
	require.ErrorIs(t, err, gitops.ErrUnauthorized)
	assert.False(t, gitops.IsRetryable(err))
}
