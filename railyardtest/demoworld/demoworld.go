// Package demoworld serves railyard's demo world on loopback, for the tests
// of programs built on railyard in other modules — a Kargo extension, say —
// which cannot import railyard's internal test kits.
//
// The world is the one examples/promote runs on: a monorepo shaped like a
// real one, a GitOps repository holding the promotion policy of four
// deployments, and a registry holding git-<sha> images and decoys. Start
// builds it (once per machine, in the user's cache directory; see
// [Start]) and serves it: both repositories through a real `git
// http-backend`, the images through go-containerregistry's registry. An
// in-process forge ([Forge]) holds the GitOps repository's pull requests
// and merges them with real merge commits.
//
// # Usage
//
//	w := demoworld.Start(t)
//	client := w.Client() // routes the public names below to loopback
//	c := w.Newest()      // the newest commit that has an image
//	tag, digest := w.Image(c.ID)
//
// Programs address the world by the public names it stands in for
// ([MonorepoURL], [GitOpsURL], [ImageRepo]); [World.Transport] sends those
// to the loopback servers and refuses every other destination, so a test
// using it never reaches the network, and everything derived from the
// names (Freight IDs, provenance) is the same on every run.
//
// # Faults and credentials
//
// [World.SetGitFault] makes the git server delay, fail or cut responses;
// [World.RequireGitAuth] makes it refuse requests without the given basic
// credentials with 401, as a private repository's server does.
//
// # Concurrency
//
// A World and its Forge are safe for concurrent use.
package demoworld

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/demoforge"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// The public names the world stands in for, and its fixed names.
const (
	// MonorepoURL is the monorepo's clone URL.
	MonorepoURL = demo.PublicMonorepoURL
	// GitOpsURL is the GitOps repository's clone URL.
	GitOpsURL = demo.PublicGitOpsURL
	// ImageRepo is the application image's repository.
	ImageRepo = demo.PublicImageRepo
	// ImageName is the image name the deploy package's manifests use.
	ImageName = demo.ImageName
	// App is the application's name in the GitOps repository.
	App = demo.App
	// Branch is the monorepo's watched branch and the GitOps repository's
	// policy branch.
	Branch = demo.Branch
	// DeployPath is the deploy package in the monorepo; its base
	// subdirectory is what a deployment renders.
	DeployPath = demo.DeployPath
	// Review is the deployment promoted through pull requests.
	Review = "production"
)

// Commit is a commit of the monorepo's watched branch.
type Commit struct {
	ID      string // the full lowercase commit id
	Subject string // the first line of its message
	// HasImage says whether ImageRepo holds the image git-<ID>.
	HasImage bool
	// DeployChanged says whether the commit changed the deploy package.
	DeployChanged bool
}

// World is the demo world, online. Its exported fields are read-only.
type World struct {
	// Commits are the watched branch's commits, newest first.
	Commits []Commit
	// Deployments are the GitOps repository's deployments in promotion
	// order: staging, test, levelbuilder, production.
	Deployments []string
	// PolicyCommit is the tip of the GitOps repository's policy branch
	// when the world started.
	PolicyCommit string
	// MonorepoDir and GitOpsDir are the served bare repositories, for
	// checking their content with the git CLI. Writing to them while a
	// test runs is the test's business.
	MonorepoDir, GitOpsDir string
	// LoopbackMonorepoURL and LoopbackGitOpsURL reach the repositories
	// directly (http://127.0.0.1:PORT/...), for clients such as the git CLI
	// that cannot use [World.Transport]. They bypass
	// [World.RequireGitAuth] but not [World.SetGitFault].
	LoopbackMonorepoURL, LoopbackGitOpsURL string

	served *demo.Served
	proxy  *httptest.Server
	forge  *Forge

	mu         sync.Mutex
	user, pass string
	refused    atomic.Int64
}

// Start builds the small demo world (once: it is kept in
// $RAILYARD_DEMO_CACHE, else the user's cache directory, and shared by
// concurrent tests and processes) and serves fresh copies of it on
// loopback until the test ends. It fails the test when the git CLI is
// missing or the world cannot be built or served.
func Start(tb testing.TB) *World {
	tb.Helper()
	return StartSize(tb, Small)
}

// Size names a size of the demo world.
type Size string

// The sizes. The same size always gives the same commits and tags.
const (
	// Small has 40 commits and about 300 files; it builds in well under
	// a second.
	Small Size = "small"
	// Medium has 1,000 commits and about 20,000 files holding about
	// 100 MB, for benchmarks; the first build takes minutes.
	Medium Size = "medium"
	// Large has 5,200 commits and more than 1 GiB in about 110,000 files.
	Large Size = "large"
)

// StartSize is [Start] for a world of size s.
func StartSize(tb testing.TB, size Size) *World {
	tb.Helper()
	var preset demo.Preset
	switch size {
	case Small:
		preset = demo.Small
	case Medium:
		preset = demo.Medium
	case Large:
		preset = demo.Large
	default:
		tb.Fatalf("demoworld: unknown size %q", size)
	}
	w, err := demo.BuildCached(preset, demo.DefaultSeed)
	if err != nil {
		tb.Fatalf("demoworld: build: %v", err)
	}
	s, err := demo.Serve(context.Background(), w)
	if err != nil {
		tb.Fatalf("demoworld: serve: %v", err)
	}
	tb.Cleanup(s.Close)
	dw := &World{
		Deployments:         append([]string(nil), w.Deployments...),
		PolicyCommit:        w.PolicyCommit,
		MonorepoDir:         s.MonorepoDir,
		GitOpsDir:           s.GitOpsDir,
		LoopbackMonorepoURL: s.MonorepoURL,
		LoopbackGitOpsURL:   s.GitOpsURL,
		served:              s,
		forge:               &Forge{f: demoforge.New(s.GitOpsDir, demo.PublicGitOpsURL)},
	}
	for _, c := range w.Commits {
		dw.Commits = append(dw.Commits, Commit{ID: c.ID, Subject: c.Subject, HasImage: c.HasImage, DeployChanged: c.DeployChanged})
	}
	// Requests to the public git URLs go through a reverse proxy that can
	// ask for credentials, as a private repository's server does.
	gitURL, err := url.Parse(s.Git.URL)
	if err != nil {
		tb.Fatalf("demoworld: %v", err)
	}
	dw.proxy = httptest.NewServer(dw.checkAuth(httputil.NewSingleHostReverseProxy(gitURL)))
	tb.Cleanup(dw.proxy.Close)
	return dw
}

// checkAuth answers 401 to requests without the credentials
// RequireGitAuth asked for.
func (w *World) checkAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		wantUser, wantPass := w.user, w.pass
		w.mu.Unlock()
		if wantUser != "" || wantPass != "" {
			user, pass, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(wantUser)) != 1 ||
				subtle.ConstantTimeCompare([]byte(pass), []byte(wantPass)) != 1 {
				w.refused.Add(1)
				rw.Header().Set("WWW-Authenticate", `Basic realm="demoworld"`)
				http.Error(rw, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(rw, r)
	})
}

// Transport returns an http.RoundTripper that sends requests for
// [MonorepoURL], [GitOpsURL] and [ImageRepo]'s registry to the loopback
// servers over plain HTTP, and refuses every other destination.
func (w *World) Transport() http.RoundTripper {
	proxy, _ := url.Parse(w.proxy.URL)
	reg, _ := url.Parse(w.served.Registry.URL)
	return &routing{
		proxy: proxy, registry: reg,
		repos: map[string]string{
			strings.TrimPrefix(MonorepoURL, "https://github.com"): "/" + demo.MonorepoName,
			strings.TrimPrefix(GitOpsURL, "https://github.com"):   "/" + demo.GitOpsName,
		},
		registryHost: strings.SplitN(ImageRepo, "/", 2)[0],
	}
}

// Client returns an http.Client using [World.Transport].
func (w *World) Client() *http.Client { return &http.Client{Transport: w.Transport()} }

type routing struct {
	proxy, registry *url.URL
	repos           map[string]string // public path prefix -> served path prefix
	registryHost    string
}

func (r *routing) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *req.URL
	switch {
	case u.Host == r.registryHost:
		u.Scheme, u.Host = r.registry.Scheme, r.registry.Host
	case u.Host == "github.com":
		routed := false
		for pub, local := range r.repos {
			if u.Path == pub || strings.HasPrefix(u.Path, pub+"/") {
				u.Path = local + strings.TrimPrefix(u.Path, pub)
				u.Scheme, u.Host = r.proxy.Scheme, r.proxy.Host
				routed = true
				break
			}
		}
		if !routed {
			return nil, fmt.Errorf("demoworld: %s is not part of the demo world", u.Redacted())
		}
	case u.Host == r.proxy.Host || u.Host == r.registry.Host:
	default:
		return nil, fmt.Errorf("demoworld: %s is not part of the demo world", u.Redacted())
	}
	out := req.Clone(req.Context())
	out.URL, out.Host = &u, u.Host
	resp, err := http.DefaultTransport.RoundTrip(out)
	if resp != nil {
		// The routing is invisible to the caller: the response answers
		// the request it sent (clients compare URLs to detect redirects).
		resp.Request = req
	}
	return resp, err
}

// Newest returns the newest commit that has an image: the commit a correct
// pairing promotes.
func (w *World) Newest() Commit {
	for _, c := range w.Commits {
		if c.HasImage {
			return c
		}
	}
	panic("demoworld: no commit has an image")
}

// Image returns the tag and the (index) digest of a commit's image, or two
// empty strings when the registry holds none.
func (w *World) Image(commit string) (tag, digest string) {
	tag = "git-" + commit
	digest, ok := w.served.Digests[tag]
	if !ok {
		return "", ""
	}
	return tag, digest
}

// Forge returns the GitOps repository's forge.
func (w *World) Forge() *Forge { return w.forge }

// RequireGitAuth makes the git server refuse requests through
// [World.Transport] that lack these basic credentials, with 401. Empty user
// and password turn the check off, which is the default.
func (w *World) RequireGitAuth(user, password string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.user, w.pass = user, password
}

// GitRequest describes one request to the git server.
type GitRequest struct {
	// Repo is "monorepo.git" or "gitops.git".
	Repo string
	// Endpoint is "info/refs", "git-upload-pack", "git-receive-pack" or
	// "other".
	Endpoint string
	// Service is the service asked for on info/refs ("git-upload-pack" or
	// "git-receive-pack"); for the other endpoints it equals Endpoint.
	Service string
	// N counts the requests to the same Repo and Endpoint, from 1.
	N int64
}

// Fault says how the git server misbehaves on one request. The zero Fault
// serves normally.
type Fault struct {
	// Delay sleeps before serving; a client that gives up ends the wait.
	Delay time.Duration
	// Status, if non-zero, answers with this HTTP status instead of
	// serving.
	Status int
	// RetryAfter is sent as the Retry-After header with Status.
	RetryAfter string
	// CutAfter, if positive, aborts the connection after this many bytes
	// of the response body.
	CutAfter int64
}

// SetGitFault installs a hook the git server calls for every request; a
// non-nil Fault makes it misbehave. nil removes the hook. The hook may be
// called concurrently.
func (w *World) SetGitFault(fn func(GitRequest) *Fault) {
	if fn == nil {
		w.served.Git.SetFault(nil)
		return
	}
	w.served.Git.SetFault(func(r gittest.Request) *gittest.Fault {
		f := fn(GitRequest{Repo: r.Repo, Endpoint: r.Endpoint, Service: r.Service, N: r.N})
		if f == nil {
			return nil
		}
		return &gittest.Fault{Delay: f.Delay, Status: f.Status, RetryAfter: f.RetryAfter, CutAfter: f.CutAfter}
	})
}

// Refused counts the requests [World.RequireGitAuth] refused with 401.
func (w *World) Refused() int64 { return w.refused.Load() }

// GitRequests counts the requests the git server has answered for both
// repositories since the world started, faulted ones included.
func (w *World) GitRequests() int64 {
	return w.served.Git.Total(demo.MonorepoName).Requests + w.served.Git.Total(demo.GitOpsName).Requests
}

// GitBytesServed counts the response bytes the git server has sent for
// both repositories since the world started.
func (w *World) GitBytesServed() int64 {
	return w.served.Git.Total(demo.MonorepoName).ResponseBytes + w.served.Git.Total(demo.GitOpsName).ResponseBytes
}

// Git runs the git CLI in dir with a hermetic environment (no system or
// global configuration) and returns its trimmed standard output; the error
// includes its standard error.
func Git(dir string, args ...string) (string, error) { return gittest.Git(dir, args...) }
