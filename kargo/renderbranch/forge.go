package renderbranch

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/gitops/github"
)

// defaultPullRequests is the forge WithPullRequests defaults to.
func (o *options) defaultPullRequests(_ context.Context, cfg Config, creds Credentials) (gitops.PullRequests, error) {
	u, err := url.Parse(cfg.GitOpsRepoURL)
	if err != nil {
		return nil, fmt.Errorf("%w: gitopsRepoURL", ErrInvalidConfig)
	}
	elems := strings.Split(strings.Trim(strings.TrimSuffix(u.Path, ".git"), "/"), "/")
	if len(elems) < 2 {
		return nil, fmt.Errorf("%w: gitopsRepoURL must end in <owner>/<repository>", ErrInvalidConfig)
	}
	owner, name := elems[len(elems)-2], elems[len(elems)-1]
	provider := cfg.Provider
	if provider == "" && u.Hostname() == "github.com" {
		provider = "github"
	}
	switch provider {
	case "github":
		opts := []github.Option{github.WithHTTPClient(o.client), github.WithLogger(o.logger)}
		if creds.Password != "" {
			opts = append(opts, github.WithToken(creds.Password))
		}
		if cfg.ProviderURL != "" {
			opts = append(opts, github.WithBaseURL(cfg.ProviderURL))
		}
		return github.New(owner, name, opts...)
	case "gitea":
		base := cfg.ProviderURL
		if base == "" {
			base = u.Scheme + "://" + u.Host + "/" + strings.Join(elems[:len(elems)-2], "/")
		}
		opts := []gitea.Option{gitea.WithHTTPClient(o.client), gitea.WithLogger(o.logger)}
		if creds.Password != "" {
			opts = append(opts, gitea.WithToken(creds.Password))
		}
		return gitea.New(base, owner, name, opts...)
	}
	return nil, fmt.Errorf("%w: review needs provider", ErrInvalidConfig)
}
