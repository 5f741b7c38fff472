package sparse_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"fmt"
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

	"github.com/railyard-gitops/railyard/sparse"
)

// sshGitServer serves the bare repositories under root over SSH on
// loopback: a real SSH handshake (golang.org/x/crypto/ssh) that accepts
// one client key and runs the real `git upload-pack` for each exec request.
type sshGitServer struct {
	addr       string
	knownHosts string // a known_hosts file holding the server's host key
	clientKey  []byte // the accepted client key, PEM
}

func newSSHGitServer(t *testing.T, root string) *sshGitServer {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	require.NoError(t, err)
	clientPub, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	allowed, err := ssh.NewPublicKey(clientPub)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(clientPriv, "")
	require.NoError(t, err)

	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) != string(allowed.Marshal()) {
			return nil, fmt.Errorf("unknown key")
		}
		return nil, nil
	}}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSSH(c, cfg, root)
		}
	}()

	s := &sshGitServer{addr: ln.Addr().String(), clientKey: pem.EncodeToMemory(block)}
	s.knownHosts = filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, hostSigner.PublicKey())
	require.NoError(t, os.WriteFile(s.knownHosts, []byte(line+"\n"), 0o600))
	return s
}

func serveSSH(c net.Conn, cfg *ssh.ServerConfig, root string) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range chReqs {
				if req.Type != "exec" || len(req.Payload) < 4 {
					_ = req.Reply(false, nil)
					continue
				}
				command := string(req.Payload[4:])
				repo, ok := strings.CutPrefix(command, "git-upload-pack ")
				repo = strings.Trim(repo, "'/")
				if !ok || strings.Contains(repo, "..") {
					_ = req.Reply(false, nil)
					return
				}
				_ = req.Reply(true, nil)
				cmd := exec.Command("git", "upload-pack", filepath.Join(root, repo))
				cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
				status := uint32(0)
				if err := cmd.Run(); err != nil {
					status = 1
				}
				_ = ch.CloseWrite()
				_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
				return
			}
		}()
	}
}

// Over SSH (a stateful transport: one connection per request) the path
// walk works the same, with key authentication and host key checking.
func TestFetchOverSSH(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	srv := newSSHGitServer(t, h.srv.Root)
	url := "ssh://git@" + srv.addr + "/" + h.name
	paths := []string{"k8s/kustomize"}
	want := newOracle(t, h.dir).checkout(t, h.commits[1], paths)

	co, err := sparse.Fetch(context.Background(), sparse.Request{URL: url, Commit: h.commits[1], Paths: paths},
		sparse.WithSSHKey("git", srv.clientKey, ""), sparse.WithSSHKnownHosts(srv.knownHosts))
	require.NoError(t, err)
	assert.Equal(t, sparse.StrategyPathWalk, co.Stats.Strategy)
	assert.Equal(t, want, snapshotFS(t, co.FS))
	assert.Positive(t, co.Stats.BytesReceived)
	assert.Equal(t, 7, co.Stats.RoundTrips, "advertisement, then a new connection (advertisement + request) per upload-pack")

	id, err := sparse.Resolve(context.Background(), url, "main",
		sparse.WithSSHKey("git", srv.clientKey, ""), sparse.WithSSHKnownHosts(srv.knownHosts))
	require.NoError(t, err)
	assert.Equal(t, h.commits[3], id)

	// A host key that is not the known one is refused.
	other := newSSHGitServer(t, h.srv.Root)
	_, err = sparse.Fetch(context.Background(), sparse.Request{URL: url, Commit: h.commits[1], Paths: paths},
		sparse.WithSSHKey("git", srv.clientKey, ""), sparse.WithSSHKnownHosts(other.knownHosts), sparse.WithRetries(0))
	assert.ErrorIs(t, err, sparse.ErrTransfer)
	// A key the server does not accept is refused.
	_, err = sparse.Fetch(context.Background(), sparse.Request{URL: url, Commit: h.commits[1], Paths: paths},
		sparse.WithSSHKey("git", other.clientKey, ""), sparse.WithSSHKnownHosts(srv.knownHosts), sparse.WithRetries(0))
	assert.ErrorIs(t, err, sparse.ErrTransfer)
}
