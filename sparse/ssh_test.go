package sparse_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/sparse"
)

// sshGitServer serves the bare repositories under a root over SSH
// (gittest's SSH server: a real handshake accepting one client key, the
// real git upload-pack per exec request), with a known_hosts file for it.
type sshGitServer struct {
	*gittest.SSHServer
	knownHosts string // a known_hosts file holding the server's host key
	clientKey  []byte // the accepted client key, PEM
}

func newSSHGitServer(t *testing.T, root string) *sshGitServer {
	t.Helper()
	srv, key := gittest.NewSSH(t, root)
	s := &sshGitServer{SSHServer: srv, clientKey: key.PEM, knownHosts: filepath.Join(t.TempDir(), "known_hosts")}
	require.NoError(t, srv.WriteKnownHosts(s.knownHosts))
	return s
}

// Over SSH (a stateful transport: one connection per request) the path
// walk works the same, with key authentication and host key checking.
func TestFetchOverSSH(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	srv := newSSHGitServer(t, h.srv.Root)
	url := srv.URL(h.name)
	paths := []string{"k8s/kustomize"}
	want := newOracle(t, h.dir).checkout(t, h.commits[1], paths)

	co, err := sparse.Fetch(context.Background(), sparse.Request{URL: url, Commit: h.commits[1], Paths: paths},
		sparse.WithSSHKey("git", srv.clientKey, ""), sparse.WithSSHKnownHosts(srv.knownHosts))
	require.NoError(t, err)
	assert.Equal(t, sparse.StrategyPathWalk, co.Stats.Strategy)
	assert.Equal(t, want, snapshotFS(t, co.FS))
	assert.Positive(t, co.Stats.BytesReceived)
	assert.Equal(t, 7, co.Stats.RoundTrips, "advertisement, then a new connection (advertisement + request) per upload-pack")
	assert.Equal(t, 4, srv.Execs(), "one upload-pack per connection")

	id, err := sparse.Resolve(context.Background(), url, "main",
		sparse.WithSSHKey("git", srv.clientKey, ""), sparse.WithSSHKnownHosts(srv.knownHosts))
	require.NoError(t, err)
	assert.Equal(t, h.commits[3], id)

	// A host key that is not the known one is refused: the server failed
	// to authenticate itself.
	other := newSSHGitServer(t, h.srv.Root)
	_, err = sparse.Fetch(context.Background(), sparse.Request{URL: url, Commit: h.commits[1], Paths: paths},
		sparse.WithSSHKey("git", srv.clientKey, ""), sparse.WithSSHKnownHosts(other.knownHosts), sparse.WithRetries(0, time.Millisecond, 10*time.Millisecond))
	assert.ErrorIs(t, err, sparse.ErrUnauthorized)
	// A key the server does not accept is refused.
	_, err = sparse.Fetch(context.Background(), sparse.Request{URL: url, Commit: h.commits[1], Paths: paths},
		sparse.WithSSHKey("git", other.clientKey, ""), sparse.WithSSHKnownHosts(srv.knownHosts), sparse.WithRetries(0, time.Millisecond, 10*time.Millisecond))
	assert.ErrorIs(t, err, sparse.ErrUnauthorized)
	assert.False(t, sparse.IsRetryable(err))
}

// Regression: an scp-like URL carrying a password in its user part
// ("git:secret@host:path") was echoed whole in errors and logs: redactURL
// only redacted the userinfo of URLs with a scheme.
func TestSCPLikeURLPasswordNotLeaked(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	srv := newSSHGitServer(t, h.srv.Root)
	const secret = "s3cret-scp-token"
	url := "git:" + secret + "@" + srv.Addr + "/" + h.name
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, err := sparse.Fetch(context.Background(), sparse.Request{URL: url, Commit: h.commits[1], Paths: []string{"k8s/kustomize"}},
		sparse.WithSSHKnownHosts(srv.knownHosts), sparse.WithRetries(0, time.Millisecond, 10*time.Millisecond), sparse.WithLogger(logger))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
	assert.NotContains(t, logs.String(), secret)
	_, err = sparse.Resolve(context.Background(), url, "main", sparse.WithRetries(0, time.Millisecond, 10*time.Millisecond), sparse.WithLogger(logger))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
	assert.NotContains(t, logs.String(), secret)
}

// Regression: WithSSHKnownHosts was applied only together with WithSSHKey.
// Authenticating through ssh-agent (no key option), the caller's pinned
// known_hosts files were ignored for the defaults ($SSH_KNOWN_HOSTS,
// ~/.ssh/known_hosts): a host whose key is not in the pinned file was
// trusted, and one whose key is was refused. Not parallel: it sets
// SSH_AUTH_SOCK and SSH_KNOWN_HOSTS for the process.
func TestSSHKnownHostsWithAgent(t *testing.T) {
	h := newHistory(t)
	srv := newSSHGitServer(t, h.srv.Root)
	other := newSSHGitServer(t, h.srv.Root)

	key, err := ssh.ParseRawPrivateKey(srv.clientKey)
	require.NoError(t, err)
	keyring := agent.NewKeyring()
	require.NoError(t, keyring.Add(agent.AddedKey{PrivateKey: key}))
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(keyring, c); _ = c.Close() }()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	// The default files trust the other server's key, not this server's.
	t.Setenv("SSH_KNOWN_HOSTS", other.knownHosts)

	req := sparse.Request{URL: srv.URL(h.name), Commit: h.commits[1], Paths: []string{"k8s/kustomize"}}
	co, err := sparse.Fetch(context.Background(), req, sparse.WithSSHKnownHosts(srv.knownHosts), sparse.WithRetries(0, time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err, "the pinned known_hosts holds this server's key")
	assert.Equal(t, h.commits[1], co.Commit)

	// Pinned to a file without this server's key while the defaults would
	// accept it: refused.
	t.Setenv("SSH_KNOWN_HOSTS", srv.knownHosts)
	_, err = sparse.Fetch(context.Background(), req, sparse.WithSSHKnownHosts(other.knownHosts), sparse.WithRetries(0, time.Millisecond, 10*time.Millisecond))
	assert.ErrorIs(t, err, sparse.ErrUnauthorized)
}
