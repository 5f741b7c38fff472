package gitops_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/railyard-gitops/railyard/gitops"
)

// sshGitServer serves the bare repositories under root over SSH on
// loopback, running the real git-upload-pack / git-receive-pack for each
// exec request, for clients holding clientKey.
func sshGitServer(t *testing.T, root string, clientKey ssh.PublicKey) (addr string, hostKey ssh.PublicKey) {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	require.NoError(t, err)
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), clientKey.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSSHConn(conn, cfg, root)
		}
	}()
	return ln.Addr().String(), hostSigner.PublicKey()
}

func serveSSHConn(conn net.Conn, cfg *ssh.ServerConfig, root string) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range creqs {
				if req.Type != "exec" || len(req.Payload) < 4 {
					_ = req.Reply(req.Type == "env", nil)
					continue
				}
				cmdline := string(req.Payload[4:])
				service, repo, _ := strings.Cut(cmdline, " ")
				repo = strings.Trim(repo, "'/")
				if (service != "git-upload-pack" && service != "git-receive-pack") || strings.Contains(repo, "..") {
					_ = req.Reply(false, nil)
					return
				}
				_ = req.Reply(true, nil)
				cmd := exec.Command("git", strings.TrimPrefix(service, "git-"), filepath.Join(root, repo))
				cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
				status := uint32(0)
				if err := cmd.Run(); err != nil {
					status = 1
				}
				_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
				return
			}
		}()
	}
}

func TestCommitOverSSH(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/test", map[string]string{"README.md": "x"})
	_, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(clientPriv, "deploy") // unencrypted: bcrypt KDFs crawl under -race
	require.NoError(t, err)
	keyPEM := pem.EncodeToMemory(block)
	clientSigner, err := ssh.NewSignerFromKey(clientPriv)
	require.NoError(t, err)
	addr, hostKey := sshGitServer(t, rem.srv.Root, clientSigner.PublicKey())

	dir := t.TempDir()
	known := filepath.Join(dir, "known_hosts")
	require.NoError(t, os.WriteFile(known, []byte(knownhosts.Line([]string{addr}, hostKey)+"\n"), 0o600))
	url := "ssh://git@" + addr + "/" + rem.name
	repo := newRepo(t, url, gitops.WithSSHKey("git", keyPEM, ""), gitops.WithSSHKnownHosts(known))
	res, err := repo.Commit(testContext(t), gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, rem.git(t, "rev-parse", "refs/heads/stage/test"), res.Commit)
	rem.assertNoRewrites(t, "stage/test")

	// A server whose host key is not the known one is refused.
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherSigner, err := ssh.NewSignerFromKey(otherKey)
	require.NoError(t, err)
	wrong := filepath.Join(dir, "wrong_known_hosts")
	require.NoError(t, os.WriteFile(wrong, []byte(knownhosts.Line([]string{addr}, otherSigner.PublicKey())+"\n"), 0o600))
	bad := newRepo(t, url, gitops.WithSSHKey("git", keyPEM, ""), gitops.WithSSHKnownHosts(wrong), gitops.WithMaxAttempts(1))
	_, err = bad.Commit(testContext(t), gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(2)})
	require.ErrorIs(t, err, gitops.ErrTransport)
}
