package gittest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHServer serves the bare repositories under a root directory over SSH
// on loopback: a real SSH handshake (golang.org/x/crypto/ssh) with a fresh
// ed25519 host key, public-key authentication accepting one client key,
// and, for each session's exec request "git-upload-pack '<repo>'" or
// "git-receive-pack '<repo>'", the real git command with the session as its
// standard streams and its exit status sent back. Any other command, and a
// repository name that is not a clean relative path ending in ".git", is
// refused. Environment requests are refused, as by an sshd without
// AcceptEnv. It is safe for concurrent use.
type SSHServer struct {
	// Addr is the listening address, "127.0.0.1:<port>".
	Addr string
	// HostKey is the server's host key.
	HostKey ssh.PublicKey

	root    string
	gitPath string
	ln      net.Listener
	cfg     *ssh.ServerConfig
	execs   atomic.Int64

	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

// StartSSH serves the bare repositories under root to clients holding the
// private key of authorizedKey. Close stops it.
func StartSSH(root string, authorizedKey ssh.PublicKey) (*SSHServer, error) {
	if authorizedKey == nil {
		return nil, errors.New("gittest: StartSSH needs an authorized key")
	}
	gitPath, err := gitBinary()
	if err != nil {
		return nil, err
	}
	if root, err = filepath.Abs(root); err != nil {
		return nil, fmt.Errorf("gittest: %w", err)
	}
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("gittest: host key: %w", err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		return nil, fmt.Errorf("gittest: host key: %w", err)
	}
	allowed := authorizedKey.Marshal()
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), allowed) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("gittest: %w", err)
	}
	s := &SSHServer{
		Addr: ln.Addr().String(), HostKey: hostSigner.PublicKey(),
		root: root, gitPath: gitPath, ln: ln, cfg: cfg, conns: map[net.Conn]struct{}{},
	}
	s.wg.Go(s.accept)
	return s, nil
}

// URL returns the ssh:// URL of the named repository, with user "git".
func (s *SSHServer) URL(name string) string { return "ssh://git@" + s.Addr + "/" + name }

// KnownHostsLine returns the known_hosts line for the server's address and
// host key.
func (s *SSHServer) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey)
}

// WriteKnownHosts writes a known_hosts file holding only the server's host
// key to path.
func (s *SSHServer) WriteKnownHosts(path string) error {
	return os.WriteFile(path, []byte(s.KnownHostsLine()+"\n"), 0o600)
}

// Execs returns how many git commands the server has started.
func (s *SSHServer) Execs() int { return int(s.execs.Load()) }

// Close stops listening, closes every connection and waits for the git
// commands and goroutines of the server to end.
func (s *SSHServer) Close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *SSHServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

func (s *SSHServer) serveConn(c net.Conn) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, s.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { ssh.DiscardRequests(reqs) })
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		wg.Go(func() { s.serveSession(ch, chReqs) })
	}
}

// serveSession runs the session's one exec request.
func (s *SSHServer) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() {
		_ = ch.Close()
		for req := range reqs { // until the client or Close ends the channel
			_ = req.Reply(false, nil)
		}
	}()
	for req := range reqs {
		if req.Type != "exec" {
			_ = req.Reply(false, nil)
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			_ = req.Reply(false, nil)
			return
		}
		service, repo, _ := strings.Cut(payload.Command, " ")
		repo = strings.TrimPrefix(strings.Trim(repo, "'"), "/")
		if (service != "git-upload-pack" && service != "git-receive-pack") || checkName(repo) != nil {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		s.execs.Add(1)
		cmd := osexec.Command(s.gitPath, strings.TrimPrefix(service, "git-"), filepath.Join(s.root, filepath.FromSlash(repo)))
		cmd.Env = env()
		cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
		// Like sshd, the session ends when the command does, whether or not
		// the client closed its side (a command that fails at once, on a
		// missing repository, must not wait for the client's input).
		status := uint32(1)
		if stdin, err := cmd.StdinPipe(); err == nil && cmd.Start() == nil {
			go func() { _, _ = io.Copy(stdin, ch); _ = stdin.Close() }()
			if cmd.Wait() == nil {
				status = 0
			}
		}
		_ = ch.CloseWrite()
		_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
		return
	}
}

// SSHKey is an unencrypted ed25519 client key.
type SSHKey struct {
	// PEM is the private key in OpenSSH format. It is unencrypted: the
	// bcrypt KDF of an encrypted key crawls under -race.
	PEM []byte
	// Public is its public key, for StartSSH.
	Public ssh.PublicKey
}

// NewSSHKey returns a fresh client key.
func NewSSHKey() (SSHKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SSHKey{}, fmt.Errorf("gittest: %w", err)
	}
	public, err := ssh.NewPublicKey(pub)
	if err != nil {
		return SSHKey{}, fmt.Errorf("gittest: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return SSHKey{}, fmt.Errorf("gittest: %w", err)
	}
	return SSHKey{PEM: pem.EncodeToMemory(block), Public: public}, nil
}

// NewSSH starts an SSHServer for the bare repositories under root that
// accepts a fresh client key, and returns both; the server is closed when
// the test ends.
func NewSSH(t testing.TB, root string) (*SSHServer, SSHKey) {
	t.Helper()
	key, err := NewSSHKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := StartSSH(root, key.Public)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, key
}
