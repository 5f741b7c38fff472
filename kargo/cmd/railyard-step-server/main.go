// Command railyard-step-server serves railyard's render-branch step over
// HTTP for a stock Kargo's http step (package
// github.com/railyard-gitops/railyard/kargo/stepserver documents the
// protocol; the module's README.md the Promotion template).
//
//	RAILYARD_STEP_TOKEN=... \
//	RAILYARD_GIT_URL_PREFIX=https://github.com/org/ \
//	RAILYARD_GIT_USERNAME=x-access-token RAILYARD_GIT_PASSWORD=... \
//	railyard-step-server -listen :8080
//
// Environment:
//
//	RAILYARD_STEP_TOKEN      bearer token Kargo must send (required unless -no-auth)
//	RAILYARD_GIT_URL_PREFIX  repository URLs the credentials below are sent to
//	RAILYARD_GIT_USERNAME    git user name (with a token: any non-empty name)
//	RAILYARD_GIT_PASSWORD    git password or token; also the forge token
//
// The credentials are sent only to repositories whose URL starts with
// RAILYARD_GIT_URL_PREFIX (which must end in "/"); without a prefix none are
// sent.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/railyard-gitops/railyard/kargo/renderbranch"
	"github.com/railyard-gitops/railyard/kargo/stepserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "railyard-step-server:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. ready, if not nil, receives the listening
// address once the server accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("railyard-step-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	path := fs.String("path", "/v1/render-branch", "URL path of the step")
	noAuth := fs.Bool("no-auth", false, "serve without a bearer token (only where nothing but Kargo can reach the server)")
	timeout := fs.Duration("timeout", stepserver.DefaultTimeout, "bound of one call")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))

	var runnerOpts []renderbranch.Option
	runnerOpts = append(runnerOpts, renderbranch.WithLogger(logger))
	prefix, user, password := getenv("RAILYARD_GIT_URL_PREFIX"), getenv("RAILYARD_GIT_USERNAME"), getenv("RAILYARD_GIT_PASSWORD")
	switch {
	case prefix == "" && (user != "" || password != ""):
		return errors.New("RAILYARD_GIT_URL_PREFIX must say where the git credentials may be sent")
	case prefix != "":
		if !strings.HasPrefix(prefix, "https://") || !strings.HasSuffix(prefix, "/") {
			return errors.New(`RAILYARD_GIT_URL_PREFIX must be an https:// URL ending in "/"`)
		}
		runnerOpts = append(runnerOpts, renderbranch.WithCredentials(func(_ context.Context, repoURL string) (renderbranch.Credentials, error) {
			if strings.HasPrefix(repoURL, prefix) {
				return renderbranch.Credentials{Username: user, Password: password}, nil
			}
			return renderbranch.Credentials{}, nil
		}))
	}
	runner, err := renderbranch.New(runnerOpts...)
	if err != nil {
		return err
	}
	handlerOpts := []stepserver.Option{stepserver.WithTimeout(*timeout), stepserver.WithLogger(logger)}
	if *noAuth {
		handlerOpts = append(handlerOpts, stepserver.WithoutAuthentication())
	}
	if token := getenv("RAILYARD_STEP_TOKEN"); token != "" {
		handlerOpts = append(handlerOpts, stepserver.WithBearerToken(token))
	}
	h, err := stepserver.New(runner, handlerOpts...)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(*path, h)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	logger.Info("serving", "address", ln.Addr().String(), "path", *path)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	return srv.Shutdown(shutdown)
}
