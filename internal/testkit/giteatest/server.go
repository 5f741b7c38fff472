package giteatest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a running Gitea. Its fields are set by [Start] and must not be
// changed. A Server is safe for concurrent use.
type Server struct {
	// URL is the server's root URL, "http://127.0.0.1:PORT/".
	URL string
	// User is the admin user's name; repositories made by
	// [Server.CreateRepo] belong to it.
	User string
	// Password is the admin user's password.
	Password string
	// Token is an access token of the admin user with every scope ("all"):
	// it can create repositories, push, and open and merge pull requests.
	// Send it as "Authorization: token <Token>", or as the password of
	// HTTP basic auth for git.
	Token string

	dir    string
	cmd    *exec.Cmd
	done   chan struct{} // closed when the web process has exited
	output *tailBuffer

	closeOnce sync.Once
	closeErr  error
}

// Start runs a new Gitea from the binary bin: it writes a minimal app.ini
// into a new temporary directory, runs `gitea migrate`, creates the admin
// user and its token with `gitea admin user create`, starts `gitea web` on
// a free port of 127.0.0.1 and waits until the API answers to the token
// (GET /api/v1/user; /api/v1/version answers by then too). When
// another process takes the chosen port first, it tries again on a new port
// (three attempts).
//
// ctx bounds the start only; the server runs until [Server.Close]. Start
// returns [ErrNoBinary] for an empty bin, a [*CommandError] when a gitea
// command fails or the server exits early, and ctx's error when ctx is done
// first. Nothing is left running or on disk after an error.
func Start(ctx context.Context, bin string, opts ...Option) (*Server, error) {
	if bin == "" {
		return nil, ErrNoBinary
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(bin); err == nil {
		bin = abs
	}
	dir, err := os.MkdirTemp("", "giteatest-")
	if err != nil {
		return nil, fmt.Errorf("giteatest: make work dir: %w", err)
	}
	s := &Server{User: o.user, Password: o.password, dir: dir, output: &tailBuffer{max: 16 << 10}}
	ok := false
	defer func() {
		if !ok {
			_ = s.Close()
		}
	}()

	keys := newSecrets()
	if err := s.configure(o, keys); err != nil {
		return nil, err
	}
	out := io.MultiWriter(s.output, o.output)
	if _, err := s.run(ctx, bin, out, false, "migrate"); err != nil {
		return nil, err
	}
	// Its standard output holds the token: keep it out of logs and errors.
	created, err := s.run(ctx, bin, out, true, "admin", "user", "create",
		"--admin", "--username", o.user, "--password", o.password, "--email", o.email,
		"--must-change-password=false", "--access-token", "--access-token-name", "railyard",
		"--access-token-scopes", "all")
	if err != nil {
		return nil, err
	}
	m := tokenRE.FindSubmatch(created)
	if m == nil {
		return nil, &CommandError{Command: "admin user create", Err: errors.New("no access token in the output"), Output: s.output.String()}
	}
	s.Token = string(m[1])

	for attempt := 1; ; attempt++ {
		// A port chosen just before `web` binds it: the window for a clash
		// is small, and a clash is retried.
		if err := s.configure(o, keys); err != nil {
			return nil, err
		}
		err := s.web(ctx, bin, out)
		if err == nil {
			break
		}
		if attempt < 3 && errors.Is(err, errPortTaken) {
			s.cmd, s.done = nil, nil
			continue
		}
		return nil, err
	}
	ok = true
	return s, nil
}

// configure picks a free port, sets s.URL and writes app.ini for it.
func (s *Server) configure(o *options, keys secrets) error {
	port, err := pickPort()
	if err != nil {
		return err
	}
	s.URL = "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	ini, err := appIni(s.dir, port, o, keys)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dir, "app.ini"), ini, 0o600); err != nil {
		return fmt.Errorf("giteatest: write app.ini: %w", err)
	}
	return nil
}

// errPortTaken reports that `gitea web` could not bind its port.
var errPortTaken = errors.New("port taken")

// web starts `gitea web` and waits until it answers; a server that exits or
// fails to listen first gives a [*CommandError] with its output (wrapping
// errPortTaken when the port was taken).
func (s *Server) web(ctx context.Context, bin string, out io.Writer) error {
	mark := s.output.written()
	s.cmd = s.command(bin, out, "web")
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return &CommandError{Command: "web", Err: err}
	}
	s.done = make(chan struct{})
	var waitErr error
	go func() {
		waitErr = s.cmd.Wait()
		close(s.done)
	}()
	err := s.waitReady(ctx, mark)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errPortTaken):
		// Gitea logs the failure but does not exit.
		s.kill()
		return &CommandError{Command: "web", Err: err, Output: s.output.since(mark)}
	}
	select {
	case <-s.done:
		return &CommandError{Command: "web", Err: fmt.Errorf("exited before answering: %v", waitErr), Output: s.output.since(mark)}
	default:
		return err
	}
}

// tokenRE finds the token in the output of `gitea admin user create
// --access-token` ("Access token was successfully created... <40 hex>").
var tokenRE = regexp.MustCompile(`(?m)Access token was successfully created\.\.\. ([0-9a-f]{40})\s*$`)

// command prepares a gitea sub-command with its own process group, the work
// dir's config and a clean environment.
func (s *Server) command(bin string, out io.Writer, args ...string) *exec.Cmd {
	args = append([]string{"--config", filepath.Join(s.dir, "app.ini"), "--work-path", s.dir}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.dir
	cmd.Env = s.env()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs a short gitea command to its end, killed when ctx is done, and
// returns its standard output, which goes to out too unless it is secret.
func (s *Server) run(ctx context.Context, bin string, out io.Writer, secret bool, args ...string) ([]byte, error) {
	var stdout bytes.Buffer
	cmd := s.command(bin, out, args...)
	cmd.Stdout = io.MultiWriter(out, &stdout)
	if secret {
		cmd.Stdout = &stdout
	}
	if err := cmd.Start(); err != nil {
		return nil, &CommandError{Command: args[0], Err: err}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return nil, &CommandError{Command: strings.Join(args[:min(3, len(args))], " "), Err: err, Output: s.output.String()}
		}
		return stdout.Bytes(), nil
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return nil, fmt.Errorf("giteatest: gitea %s: %w", args[0], ctx.Err())
	}
}

// env is the environment of gitea commands: the caller's, without git and
// Gitea variables that would change what the server does.
func (s *Server) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GIT_") || strings.HasPrefix(name, "GITEA_") || name == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+filepath.Join(s.dir, "home"),
		"GITEA_WORK_DIR="+s.dir,
		"GITEA_CUSTOM="+filepath.Join(s.dir, "custom"),
	)
}

// waitReady polls /api/v1/user with the admin token until it answers 200:
// then the server listening is this one, not another process that took the
// port. It returns early when the process exits, logs that it cannot
// listen (errPortTaken), or ctx is done.
func (s *Server) waitReady(ctx context.Context, mark int64) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"api/v1/user", nil)
		if err != nil {
			return fmt.Errorf("giteatest: %w", err)
		}
		req.Header.Set("Authorization", "token "+s.Token)
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if out := s.output.since(mark); strings.Contains(out, "Failed to start server") || strings.Contains(out, "address already in use") {
			return errPortTaken
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("giteatest: wait for gitea web: %w", ctx.Err())
		case <-s.done:
			return errors.New("giteatest: gitea web exited")
		case <-tick.C:
		}
	}
}

// Close stops Gitea (SIGTERM to its process group, SIGKILL after 10 s) and
// removes its work directory. It is safe to call more than once; later calls
// return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.kill()
		if err := os.RemoveAll(s.dir); err != nil {
			s.closeErr = fmt.Errorf("giteatest: remove work dir: %w", err)
		}
	})
	return s.closeErr
}

// kill stops the web process group, if any, and waits for it.
func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
	// Whatever is left of the group (git children, a hung server).
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.done
}

// pickPort chooses the port of each `web` attempt; tests replace it.
var pickPort = freePort

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("giteatest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// secrets are the server's keys, the same in every app.ini it is given.
type secrets struct{ secretKey, internalToken, jwtSecret string }

func newSecrets() secrets {
	jwt := make([]byte, 32)
	_, _ = rand.Read(jwt)
	return secrets{
		secretKey:     randomString(32),
		internalToken: randomString(64),
		jwtSecret:     base64.RawURLEncoding.EncodeToString(jwt),
	}
}

// appIni renders the minimal configuration of a server in dir on port.
func appIni(dir string, port int, o *options, keys secrets) ([]byte, error) {
	runUser := ""
	if u, err := user.Current(); err == nil {
		runUser = u.Username
	} else if name := os.Getenv("USER"); name != "" {
		runUser = name
	} else {
		return nil, fmt.Errorf("giteatest: current user: %w", err)
	}
	root := "http://127.0.0.1:" + strconv.Itoa(port) + "/"

	cfg := &iniFile{}
	top := cfg.section("")
	top.set("APP_NAME", "railyard giteatest")
	top.set("RUN_MODE", "prod")
	top.set("RUN_USER", runUser)
	top.set("WORK_PATH", dir)
	if os.Geteuid() == 0 {
		top.set("I_AM_BEING_UNSAFE_RUNNING_AS_ROOT", "true")
	}

	srv := cfg.section("server")
	srv.set("PROTOCOL", "http")
	srv.set("HTTP_ADDR", "127.0.0.1")
	srv.set("HTTP_PORT", strconv.Itoa(port))
	srv.set("DOMAIN", "127.0.0.1")
	srv.set("ROOT_URL", root)
	srv.set("LOCAL_ROOT_URL", root)
	srv.set("APP_DATA_PATH", filepath.Join(dir, "data"))
	srv.set("OFFLINE_MODE", "true")
	srv.set("DISABLE_SSH", "true")
	srv.set("START_SSH_SERVER", "false")
	srv.set("LFS_START_SERVER", "false")
	if o.root != "" {
		srv.set("STATIC_ROOT_PATH", o.root)
	}

	db := cfg.section("database")
	db.set("DB_TYPE", "sqlite3")
	db.set("PATH", filepath.Join(dir, "data", "gitea.db"))
	db.set("SQLITE_JOURNAL_MODE", "WAL")

	sec := cfg.section("security")
	sec.set("INSTALL_LOCK", "true")
	sec.set("SECRET_KEY", keys.secretKey)
	sec.set("INTERNAL_TOKEN", keys.internalToken)
	sec.set("PASSWORD_HASH_ALGO", "pbkdf2_v1") // fast basic auth; test-only secrets
	sec.set("MIN_PASSWORD_LENGTH", "8")
	sec.set("PASSWORD_COMPLEXITY", "off")
	cfg.section("oauth2").set("JWT_SECRET", keys.jwtSecret)

	repo := cfg.section("repository")
	repo.set("ROOT", filepath.Join(dir, "repos"))
	repo.set("DEFAULT_BRANCH", "main")
	cfg.section("repository.signing").set("SIGNING_KEY", "none")

	svc := cfg.section("service")
	svc.set("DISABLE_REGISTRATION", "true")
	svc.set("REQUIRE_SIGNIN_VIEW", "false")
	svc.set("ENABLE_NOTIFY_MAIL", "false")
	svc.set("REGISTER_EMAIL_CONFIRM", "false")
	svc.set("ENABLE_CAPTCHA", "false")
	svc.set("NO_REPLY_ADDRESS", "noreply.example.com")
	cfg.section("mailer").set("ENABLED", "false")

	idx := cfg.section("indexer")
	idx.set("ISSUE_INDEXER_TYPE", "db")
	idx.set("REPO_INDEXER_ENABLED", "false")
	// In-memory queues. Push updates run synchronously in the post-receive
	// hook, so a push has updated the branch list (and pull requests) by the
	// time it returns. Not every queue can be "immediate": with all of them
	// immediate (Gitea's own test setup), reading a pull request right after
	// merging it never answered here (v1.26.0, sqlite).
	cfg.section("queue").set("TYPE", "channel")
	cfg.section("queue.push_update").set("TYPE", "immediate")
	cfg.section("session").set("PROVIDER", "memory")
	cfg.section("cache").set("ADAPTER", "memory")
	cfg.section("actions").set("ENABLED", "false")
	cfg.section("packages").set("ENABLED", "false")
	cfg.section("cron").set("ENABLED", "false")
	cfg.section("cron.update_checker").set("ENABLED", "false")
	cfg.section("other").set("SHOW_FOOTER_VERSION", "false")

	lg := cfg.section("log")
	lg.set("MODE", "console")
	lg.set("LEVEL", "Warn")
	lg.set("ROOT_PATH", filepath.Join(dir, "log"))
	lg.set("logger.router.MODE", "")
	lg.set("logger.access.MODE", "")
	lg.set("logger.xorm.MODE", "")

	for _, st := range o.settings {
		cfg.section(st.section).set(st.key, st.value)
	}
	return cfg.bytes(), nil
}

// iniFile is an ordered app.ini; later sets of a key replace earlier ones.
type iniFile struct{ sections []*iniSection }

type iniSection struct {
	name string
	keys []string
	vals map[string]string
}

func (f *iniFile) section(name string) *iniSection {
	for _, s := range f.sections {
		if strings.EqualFold(s.name, name) {
			return s
		}
	}
	s := &iniSection{name: name, vals: map[string]string{}}
	f.sections = append(f.sections, s)
	return s
}

func (s *iniSection) set(key, value string) {
	if _, ok := s.vals[key]; !ok {
		s.keys = append(s.keys, key)
	}
	s.vals[key] = value
}

func (f *iniFile) bytes() []byte {
	var b bytes.Buffer
	for _, s := range f.sections {
		if s.name != "" {
			fmt.Fprintf(&b, "\n[%s]\n", s.name)
		}
		for _, k := range s.keys {
			fmt.Fprintf(&b, "%s = %s\n", k, s.vals[k])
		}
	}
	return b.Bytes()
}

// randomString returns n random lowercase hex characters.
func randomString(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
	n   int64 // bytes written in all
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n += int64(len(p))
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the kept bytes.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// written returns how many bytes were written in all, a mark for since.
func (t *tailBuffer) written() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// since returns the kept bytes written after mark.
func (t *tailBuffer) since(mark int64) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := t.n - mark; n < int64(len(t.buf)) {
		return string(t.buf[int64(len(t.buf))-n:])
	}
	return string(t.buf)
}
