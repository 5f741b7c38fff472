package renderbranch

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/kargo/internal/railyardapi"
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
		return railyardapi.GitHub(o.env(), owner, name, cfg.ProviderURL, railyardapi.Creds(creds))
	case "gitea":
		base := cfg.ProviderURL
		if base == "" {
			base = u.Scheme + "://" + u.Host + "/" + strings.Join(elems[:len(elems)-2], "/")
		}
		return railyardapi.Gitea(o.env(), base, owner, name, railyardapi.Creds(creds))
	}
	return nil, fmt.Errorf("%w: review needs provider", ErrInvalidConfig)
}
