package gittest_test

import (
	"context"
	"io"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// sshFixture is a bare repository with one commit on main, served over SSH.
type sshFixture struct {
	srv    *gittest.SSHServer
	key    gittest.SSHKey
	dir    string
	commit string
	known  string // known_hosts file for srv
}

func newSSHFixture(t *testing.T) *sshFixture {
	t.Helper()
	h := gittest.New(t)
	dir, err := h.InitBare("repo.git")
	require.NoError(t, err)
	commit, err := gittest.CommitFiles(dir, "main", "first", map[string]string{"README.md": "hello\n"})
	require.NoError(t, err)
	srv, key := gittest.NewSSH(t, h.Root)
	known := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, srv.WriteKnownHosts(known))
	return &sshFixture{srv: srv, key: key, dir: dir, commit: commit, known: known}
}

// clientConfig authenticates with key and checks the host key against the
// fixture's known_hosts file.
func (f *sshFixture) clientConfig(t *testing.T, key []byte) *ssh.ClientConfig {
	t.Helper()
	signer, err := ssh.ParsePrivateKey(key)
	require.NoError(t, err)
	hostKeys, err := knownhosts.New(f.known)
	require.NoError(t, err)
	return &ssh.ClientConfig{User: "git", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hostKeys, Timeout: 10 * time.Second}
}

// A real git client clones and pushes over the server: go-git's SSH
// transport, key auth and known_hosts checking, git upload-pack and
// receive-pack behind.
func TestSSHCloneAndPush(t *testing.T) {
	t.Parallel()
	f := newSSHFixture(t)
	auth, err := gitssh.NewPublicKeys("git", f.key.PEM, "")
	require.NoError(t, err)
	auth.HostKeyCallback, err = gitssh.NewKnownHostsCallback(f.known)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	assert.Equal(t, "ssh://git@"+f.srv.Addr+"/repo.git", f.srv.URL("repo.git"))
	repo, err := git.CloneContext(ctx, memory.NewStorage(), nil, &git.CloneOptions{URL: f.srv.URL("repo.git"), Auth: auth})
	require.NoError(t, err)
	head, err := repo.Head()
	require.NoError(t, err)
	assert.Equal(t, f.commit, head.Hash().String())

	parent, err := repo.CommitObject(head.Hash())
	require.NoError(t, err)
	tree, err := parent.Tree()
	require.NoError(t, err)
	sig := object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(0, 0).UTC()}
	c := &object.Commit{Author: sig, Committer: sig, Message: "second\n", TreeHash: tree.Hash, ParentHashes: []plumbing.Hash{head.Hash()}}
	obj := repo.Storer.NewEncodedObject()
	require.NoError(t, c.Encode(obj))
	id, err := repo.Storer.SetEncodedObject(obj)
	require.NoError(t, err)
	require.NoError(t, repo.Storer.SetReference(plumbing.NewHashReference("refs/heads/main", id)))
	require.NoError(t, repo.PushContext(ctx, &git.PushOptions{Auth: auth, RefSpecs: []config.RefSpec{"refs/heads/main:refs/heads/main"}}))
	got, err := gittest.Git(f.dir, "rev-parse", "refs/heads/main")
	require.NoError(t, err)
	assert.Equal(t, id.String(), got, "the push landed")
	assert.Equal(t, 2, f.srv.Execs(), "one upload-pack, one receive-pack")
}

func TestSSHRefusals(t *testing.T) {
	t.Parallel()
	f := newSSHFixture(t)

	// A key other than the authorized one fails the handshake.
	other, err := gittest.NewSSHKey()
	require.NoError(t, err)
	_, err = ssh.Dial("tcp", f.srv.Addr, f.clientConfig(t, other.PEM))
	require.Error(t, err)

	// A known_hosts file with another host key refuses the server.
	otherSrv, _ := gittest.NewSSH(t, t.TempDir())
	wrongKnown := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, otherSrv.WriteKnownHosts(wrongKnown))
	cfg := f.clientConfig(t, f.key.PEM)
	cfg.HostKeyCallback, err = knownhosts.New(wrongKnown)
	require.NoError(t, err)
	_, err = ssh.Dial("tcp", f.srv.Addr, cfg)
	require.Error(t, err)

	client, err := ssh.Dial("tcp", f.srv.Addr, f.clientConfig(t, f.key.PEM))
	require.NoError(t, err)
	defer client.Close()
	for _, command := range []string{
		"sh -c id",
		"git-upload-archive 'repo.git'",
		"git-upload-pack '../repo.git'",
		"git-upload-pack 'repo.git/../../etc'",
		"git-upload-pack 'notarepo'",
		"git-upload-pack ''",
	} {
		sess, err := client.NewSession()
		require.NoError(t, err)
		assert.Error(t, sess.Run(command), "%q must be refused", command)
		sess.Close()
	}
	assert.Zero(t, f.srv.Execs(), "nothing ran")

	// The allowed commands advertise the repository's refs.
	for _, service := range []string{"git-upload-pack", "git-receive-pack"} {
		sess, err := client.NewSession()
		require.NoError(t, err)
		stdout, err := sess.StdoutPipe()
		require.NoError(t, err)
		in, err := sess.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, sess.Start(service+" '/repo.git'"))
		adv := readAdvertisement(t, stdout)
		_, err = io.WriteString(in, "0000") // nothing wanted
		require.NoError(t, err)
		// Like sshd, the server may end the session as soon as the command
		// exits: closing our side then finds the channel already closed.
		if err := in.Close(); err != nil {
			require.ErrorIs(t, err, io.EOF)
		}
		_, _ = io.Copy(io.Discard, stdout)
		assert.NoError(t, sess.Wait(), "%s exits 0", service)
		assert.Contains(t, adv, f.commit+" refs/heads/main", service)
		sess.Close()
	}
	assert.Equal(t, 2, f.srv.Execs())
}

// readAdvertisement reads pkt-lines up to the first flush-pkt.
func readAdvertisement(t *testing.T, r io.Reader) string {
	t.Helper()
	var adv strings.Builder
	for {
		var size [4]byte
		_, err := io.ReadFull(r, size[:])
		require.NoError(t, err)
		n, err := strconv.ParseUint(string(size[:]), 16, 16)
		require.NoError(t, err)
		if n == 0 {
			return adv.String()
		}
		require.GreaterOrEqual(t, n, uint64(4))
		line := make([]byte, n-4)
		_, err = io.ReadFull(r, line)
		require.NoError(t, err)
		adv.Write(line)
	}
}

// Close ends open sessions (a git process waiting for its client
// included) and leaves no goroutine behind.
func TestSSHClose(t *testing.T) {
	h := gittest.New(t)
	_, err := h.InitBare("repo.git")
	require.NoError(t, err)
	before := runtime.NumGoroutine()
	key, err := gittest.NewSSHKey()
	require.NoError(t, err)
	srv, err := gittest.StartSSH(h.Root, key.Public)
	require.NoError(t, err)
	known := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, srv.WriteKnownHosts(known))
	f := &sshFixture{srv: srv, known: known}

	client, err := ssh.Dial("tcp", srv.Addr, f.clientConfig(t, key.PEM))
	require.NoError(t, err)
	sess, err := client.NewSession()
	require.NoError(t, err)
	_, err = sess.StdinPipe() // never written: upload-pack waits for the client
	require.NoError(t, err)
	require.NoError(t, sess.Start("git-upload-pack 'repo.git'"))
	require.Eventually(t, func() bool { return srv.Execs() == 1 }, 10*time.Second, 10*time.Millisecond)

	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on an open session")
	}
	assert.Error(t, sess.Wait(), "the session was cut")
	client.Close()
	_, err = ssh.Dial("tcp", srv.Addr, f.clientConfig(t, key.PEM))
	assert.Error(t, err, "no longer listening")

	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); after > before && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, after, before, "goroutines left behind")
}

func TestStartSSHNeedsAKey(t *testing.T) {
	t.Parallel()
	_, err := gittest.StartSSH(t.TempDir(), nil)
	assert.Error(t, err)
}
