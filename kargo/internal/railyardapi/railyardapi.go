// Package railyardapi is the one place where the Kargo integration chooses
// railyard's options and calls the railyard APIs that are still moving
// (credentials and limits on the git side). Adapting
// the integration to a change of railyard's option vocabulary is a change
// of this file only.
//
// Nothing here is Kargo-specific: callers pass plain values (an HTTP
// client, a logger, basic credentials from Kargo's database).
package railyardapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/gitops/github"
	"github.com/railyard-gitops/railyard/render"
	"github.com/railyard-gitops/railyard/sparse"
)

// Env is what every railyard call of one run shares.
type Env struct {
	Client *http.Client // carries every git, registry and forge request
	Logger *slog.Logger
}

// Creds are basic credentials for one repository, as Kargo's credentials
// database holds them; the zero value is "none". For a forge, Password is
// the token (Kargo's git-open-pr uses the git password the same way).
type Creds struct {
	Username string
	Password string
}

func (c Creds) none() bool { return c.Username == "" && c.Password == "" }

// SparseOptions are the options of sparse.Resolve and sparse.Fetch.
func SparseOptions(e Env, c Creds) []sparse.Option {
	opts := []sparse.Option{sparse.WithHTTPClient(e.Client), sparse.WithLogger(e.Logger)}
	if !c.none() {
		opts = append(opts, sparse.WithBasicAuth(c.Username, c.Password))
	}
	return opts
}

// GitopsOptions are the options of gitops.NewRepo: the author, and a
// review target created when missing (a fresh stage branch).
func GitopsOptions(e Env, c Creds, authorName, authorEmail string) []gitops.Option {
	opts := []gitops.Option{
		gitops.WithHTTPClient(e.Client), gitops.WithLogger(e.Logger),
		gitops.WithAuthor(authorName, authorEmail),
		gitops.WithCreateTarget(true),
	}
	if !c.none() {
		opts = append(opts, gitops.WithBasicAuth(c.Username, c.Password))
	}
	return opts
}

// GitHub returns the pull requests of owner/name on GitHub (baseURL "" is
// api.github.com), authenticated with c.Password as a token.
func GitHub(e Env, owner, name, baseURL string, c Creds) (*github.PullRequests, error) {
	opts := []github.Option{github.WithHTTPClient(e.Client), github.WithLogger(e.Logger)}
	if c.Password != "" {
		opts = append(opts, github.WithBearerToken(c.Password))
	}
	if baseURL != "" {
		opts = append(opts, github.WithBaseURL(baseURL))
	}
	return github.New(owner, name, opts...)
}

// Gitea returns the pull requests of owner/name on the Gitea at baseURL,
// authenticated with c.Password as a token.
func Gitea(e Env, baseURL, owner, name string, c Creds) (*gitea.PullRequests, error) {
	opts := []gitea.Option{gitea.WithHTTPClient(e.Client), gitea.WithLogger(e.Logger)}
	if c.Password != "" {
		opts = append(opts, gitea.WithBearerToken(c.Password))
	}
	return gitea.New(baseURL, owner, name, opts...)
}

// Build renders w, its kustomize phase serialized on l (nil: render's own
// package-wide lock).
func Build(ctx context.Context, l sync.Locker, mounts []render.Mount, w render.Wrapper) (*render.Result, error) {
	var opts []render.Option
	if l != nil {
		opts = append(opts, render.WithLocker(l))
	}
	return render.Build(ctx, mounts, w, opts...)
}

// FreightGitOptions are the options of the subscriber's freight.GitSource.
func FreightGitOptions(e Env, limit int, includePaths []string, c Creds) []freight.Option {
	opts := []freight.Option{freight.WithLimit(limit), freight.WithLogger(e.Logger)}
	if e.Client != nil {
		opts = append(opts, freight.WithHTTPClient(e.Client))
	}
	if len(includePaths) > 0 {
		opts = append(opts, freight.WithIncludePaths(includePaths...))
	}
	if c.Password != "" {
		opts = append(opts, freight.WithBasicAuth(c.Username, c.Password))
	}
	return opts
}

// FreightImageOptions are the options of the subscriber's
// freight.ImageSource.
func FreightImageOptions(e Env, c Creds) []freight.Option {
	opts := []freight.Option{freight.WithLogger(e.Logger)}
	if e.Client != nil {
		opts = append(opts, freight.WithHTTPClient(e.Client))
	}
	if c.Password != "" {
		opts = append(opts, freight.WithBasicAuth(c.Username, c.Password))
	}
	return opts
}
