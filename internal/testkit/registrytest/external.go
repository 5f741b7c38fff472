package registrytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// EnvRegistry names the environment variable through which CI passes the
// path of the distribution registry binary (v3) to integration tests.
const EnvRegistry = "RAILYARD_REGISTRY"

// ErrNoBinary reports that no registry binary was given or found.
var ErrNoBinary = errors.New("registrytest: no distribution registry binary (set " + EnvRegistry + ")")

// externalStartTimeout bounds one start attempt when ctx has no deadline.
const externalStartTimeout = 30 * time.Second

// externalAttempts bounds restarts after losing a race for the port.
const externalAttempts = 3

// maxExternalLog bounds the registry output kept for error messages.
const maxExternalLog = 8 << 10

// External is a distribution registry process serving in-memory storage on
// 127.0.0.1 without authentication, with the same push helpers as
// [Registry] (PushIndex, PushImage, Tag, TagMany, Ref, Repo). It is safe
// for concurrent use. Stop it with [External.Close].
type External struct {
	// URL is the base URL, "http://127.0.0.1:PORT".
	URL string
	// Host is "127.0.0.1:PORT", the registry part of image references.
	Host string

	pusher

	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	out    *tailBuffer
	once   sync.Once
}

// BinaryFromEnv returns the registry binary named by $RAILYARD_REGISTRY, or
// an error wrapping [ErrNoBinary] when it is unset or not an executable
// file. Integration tests fail (not skip) on that error.
func BinaryFromEnv() (string, error) {
	bin := os.Getenv(EnvRegistry)
	if bin == "" {
		return "", ErrNoBinary
	}
	st, err := os.Stat(bin)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%w: %s is not an executable file", ErrNoBinary, bin)
	}
	return bin, nil
}

// StartExternal runs bin (distribution's `registry`, v3) with a minimal
// configuration — in-memory storage, deletes enabled, no authentication,
// http on a free 127.0.0.1 port, tracing off — and returns once GET /v2/
// answers 200. ctx bounds only the start (30 s at most without a
// deadline); the process runs until [External.Close]. Note that
// distribution clamps ?n= to 1000 tags and sends a Link header even when
// the last page is exactly full.
//
// It returns [ErrNoBinary] for an empty bin, or an error carrying the
// tail of the registry's output when it exits or does not answer in time;
// retrying will not help then.
func StartExternal(ctx context.Context, bin string) (*External, error) {
	if bin == "" {
		return nil, ErrNoBinary
	}
	var err error
	for range externalAttempts {
		var e *External
		e, err = startExternal(ctx, bin)
		if err == nil {
			return e, nil
		}
		if ctx.Err() != nil || errors.Is(err, exec.ErrNotFound) {
			break
		}
	}
	return nil, err
}

// startExternal makes one attempt at StartExternal.
func startExternal(ctx context.Context, bin string) (*External, error) {
	host, err := freeLoopbackAddr()
	if err != nil {
		return nil, fmt.Errorf("registrytest: external registry: %w", err)
	}
	dir, err := os.MkdirTemp("", "registrytest-external-")
	if err != nil {
		return nil, fmt.Errorf("registrytest: external registry: %w", err)
	}
	config := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(config, []byte(externalConfig(host)), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("registrytest: external registry: writing config: %w", err)
	}
	e := &External{
		URL:    "http://" + host,
		Host:   host,
		dir:    dir,
		exited: make(chan struct{}),
		out:    &tailBuffer{max: maxExternalLog},
		pusher: newPusher(host, authn.Anonymous),
	}
	e.cmd = exec.Command(bin, "serve", config)
	e.cmd.Dir = dir
	e.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true")
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	if err := e.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("registrytest: external registry: %w", err)
	}
	go func() {
		_ = e.cmd.Wait()
		close(e.exited)
	}()
	if err := e.waitReady(ctx); err != nil {
		e.Close()
		return nil, fmt.Errorf("registrytest: external registry at %s: %w; output:\n%s", host, err, e.out.String())
	}
	return e, nil
}

// waitReady polls GET /v2/ until it answers 200.
func (e *External) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, externalStartTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/v2/", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-e.exited:
			return fmt.Errorf("exited during start: %v", e.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Close stops the registry process and removes its configuration. Calling
// it again does nothing.
func (e *External) Close() {
	e.once.Do(func() {
		select {
		case <-e.exited:
		default:
			_ = e.cmd.Process.Kill()
			<-e.exited
		}
		e.client.CloseIdleConnections()
		_ = os.RemoveAll(e.dir)
	})
}

// externalConfig is distribution's configuration for addr.
func externalConfig(addr string) string {
	return `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  inmemory: {}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: ` + strconv.Quote(addr) + `
  secret: registrytest-not-a-secret
`
}

// freeLoopbackAddr returns a 127.0.0.1 address whose port was free a
// moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
