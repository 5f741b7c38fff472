package main

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/gitops/github"
)

// realPlan points the flow at real services. Secrets come from the
// environment only, never from flags (which end up in shell history).
func realPlan(monorepo, gitopsURL, image, forge, forgeURL, forgeRepo string) (plan, error) {
	if gitopsURL == "" || image == "" || forgeRepo == "" {
		return plan{}, errors.New("real mode needs -monorepo, -gitops, -image and -forge-repo")
	}
	owner, name, ok := strings.Cut(forgeRepo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return plan{}, fmt.Errorf("-forge-repo %q: want owner/name", forgeRepo)
	}
	p := plan{
		MonorepoURL:  monorepo,
		GitOpsURL:    gitopsURL,
		ImageRepo:    image,
		Stages:       []string{"staging", "test", "levelbuilder", "production"},
		Review:       "production",
		Transport:    http.DefaultTransport,
		GitUser:      cmp.Or(os.Getenv("GIT_USER"), "x-access-token"),
		GitToken:     os.Getenv("GIT_TOKEN"),
		gitFreight:   []freight.Option{freight.WithGitHubTokenFromEnv()},
		imageFreight: []freight.Option{freight.WithGitHubTokenFromEnv(), freight.WithDockerConfig()},
	}
	var err error
	switch forge {
	case "github":
		opts := []github.Option{github.WithBearerToken(os.Getenv("GITHUB_TOKEN"))}
		if forgeURL != "" {
			opts = append(opts, github.WithBaseURL(forgeURL))
		}
		p.Forge, err = github.New(owner, name, opts...)
	case "gitea":
		if forgeURL == "" {
			return plan{}, errors.New("-forge gitea needs -forge-url")
		}
		p.Forge, err = gitea.New(forgeURL, owner, name, gitea.WithBearerToken(os.Getenv("GITEA_TOKEN")))
	default:
		return plan{}, fmt.Errorf("-forge %q: want github or gitea", forge)
	}
	return p, err
}
