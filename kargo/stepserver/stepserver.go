// Package stepserver serves the railyard-render-branch step over HTTP, for a
// stock Kargo (no custom build) to call with its built-in http step. The
// request body is the step's configuration ([renderbranch.Config], the same
// JSON as the in-process step's config); the response carries the same
// output ([renderbranch.Output.Map]).
//
// # Protocol
//
// POST <path> with a JSON body and, when the server has a token,
// "Authorization: Bearer <token>". Answers are JSON objects:
//
//	200 {"status": "Succeeded", "output": {...}}   delivered (or nothing to change)
//	200 {"status": "Running",   "output": {...}}   a pull request is open: call again later
//	422 {"status": "Failed",  "error": "...", "retryable": false}   retrying cannot help
//	503 {"status": "Errored", "error": "...", "retryable": true}    a later call may succeed
//	400, 401, 405, 413, 415 for malformed, unauthenticated, wrong-method,
//	oversized or non-JSON requests.
//
// The server keeps no state: a call for an open pull request renders again
// and finds the same pull request (railyard's Propose reuses it), so
// Kargo's http step polling until "Succeeded" is the whole protocol. See
// README.md for the http step's configuration.
//
// # Security
//
// Credentials for the repositories are the server's own (its
// renderbranch.CredentialsFunc); requests cannot carry any. The bearer
// token is compared in constant time; error answers never include it or
// any credential.
//
// # Concurrency
//
// A Handler is safe for concurrent use; concurrent calls for one stage
// branch are kept apart by railyard's push lease.
package stepserver

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/railyard-gitops/railyard/kargo/renderbranch"
)

// MaxRequestBytes bounds a request body.
const MaxRequestBytes = 64 << 10

// DefaultTimeout bounds one call.
const DefaultTimeout = 5 * time.Minute

// Option configures a Handler.
type Option interface{ apply(*Handler) error }

type optionFunc func(*Handler) error

func (f optionFunc) apply(h *Handler) error { return f(h) }

// WithBearerToken requires "Authorization: Bearer <token>" on every
// request. The default is no authentication, which [New] accepts only
// with [WithoutAuthentication].
func WithBearerToken(token string) Option {
	return optionFunc(func(h *Handler) error {
		if token == "" {
			return errors.New("stepserver: WithBearerToken needs a token")
		}
		h.token = []byte(token)
		return nil
	})
}

// WithoutAuthentication serves requests without a token, for a server
// reachable only by Kargo (e.g. behind a NetworkPolicy or on loopback).
// The default is to refuse to build a Handler without a token.
func WithoutAuthentication() Option {
	return optionFunc(func(h *Handler) error {
		h.noAuth = true
		return nil
	})
}

// WithTimeout bounds each call, rendering and pushing included. The
// default is DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(h *Handler) error {
		if d <= 0 {
			return errors.New("stepserver: WithTimeout needs a positive duration")
		}
		h.timeout = d
		return nil
	})
}

// WithLogger sets the logger: one Info line per call with its outcome.
// The default discards logs.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(h *Handler) error {
		if l == nil {
			return errors.New("stepserver: WithLogger(nil)")
		}
		h.logger = l
		return nil
	})
}

// Handler serves the step. It is safe for concurrent use.
type Handler struct {
	runner  *renderbranch.Runner
	token   []byte
	noAuth  bool
	timeout time.Duration
	logger  *slog.Logger
}

// New returns a Handler running r. It fails without a token unless
// WithoutAuthentication is given.
func New(r *renderbranch.Runner, opts ...Option) (*Handler, error) {
	if r == nil {
		return nil, errors.New("stepserver: New needs a Runner")
	}
	h := &Handler{runner: r, timeout: DefaultTimeout, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(h); err != nil {
			return nil, err
		}
	}
	if h.token == nil && !h.noAuth {
		return nil, errors.New("stepserver: a token is required (WithBearerToken), or WithoutAuthentication")
	}
	if h.token != nil && h.noAuth {
		return nil, errors.New("stepserver: WithBearerToken and WithoutAuthentication exclude each other")
	}
	return h, nil
}

// Response is the JSON body of every answer.
type Response struct {
	// Status is Kargo's step status: Succeeded, Running, Failed or Errored.
	Status string `json:"status"`
	// Output is the step's output (renderbranch.Output.Map) on Succeeded
	// and Running.
	Output map[string]any `json:"output,omitempty"`
	// Error describes a failure.
	Error string `json:"error,omitempty"`
	// Retryable says whether calling again may succeed after a failure.
	Retryable bool `json:"retryable,omitempty"`
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, Response{Status: "Failed", Error: "use POST"})
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="railyard"`)
		reply(w, http.StatusUnauthorized, Response{Status: "Failed", Error: "missing or wrong bearer token"})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		reply(w, http.StatusUnsupportedMediaType, Response{Status: "Failed", Error: "send application/json"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			reply(w, http.StatusRequestEntityTooLarge, Response{Status: "Failed", Error: fmt.Sprintf("the body exceeds %d bytes", MaxRequestBytes)})
			return
		}
		reply(w, http.StatusBadRequest, Response{Status: "Failed", Error: "reading the body failed"})
		return
	}
	cfg, err := renderbranch.ParseConfig(body)
	if err != nil {
		reply(w, http.StatusBadRequest, Response{Status: "Failed", Error: err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	start := time.Now()
	out, err := h.runner.Run(ctx, cfg)
	log := h.logger.With("deployment", cfg.Deployment, "commit", cfg.Commit, "duration", time.Since(start).Round(time.Millisecond))
	switch {
	case err != nil && renderbranch.IsRetryable(err):
		log.Info("render-branch errored", "error", err)
		reply(w, http.StatusServiceUnavailable, Response{Status: "Errored", Error: err.Error(), Retryable: true})
	case err != nil:
		log.Info("render-branch failed", "error", err)
		reply(w, http.StatusUnprocessableEntity, Response{Status: "Failed", Error: err.Error()})
	case out.Waiting():
		log.Info("render-branch waiting for review", "pr", out.PR.URL)
		reply(w, http.StatusOK, Response{Status: "Running", Output: out.Map()})
	default:
		log.Info("render-branch succeeded", "branch", out.TargetBranch, "changed", out.Changed)
		reply(w, http.StatusOK, Response{Status: "Succeeded", Output: out.Map()})
	}
}

func (h *Handler) authorized(r *http.Request) bool {
	if h.noAuth {
		return true
	}
	const prefix = "Bearer "
	got := r.Header.Get("Authorization")
	if len(got) <= len(prefix) || got[:len(prefix)] != prefix {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got[len(prefix):]), h.token) == 1
}

func reply(w http.ResponseWriter, code int, r Response) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(r)
}
