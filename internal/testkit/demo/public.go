package demo

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The public names the demo world stands in for. [Served.Transport] routes
// them to the loopback servers, so programs address the demo exactly as
// they would address the real services, and everything derived from the
// names — Freight IDs, image references, provenance — is the same on every
// run, whatever ports the servers got.
const (
	PublicMonorepoURL = "https://github.com/code-dot-org/code-dot-org.git"
	PublicGitOpsURL   = "https://github.com/code-dot-org/k8s-gitops.git"
	PublicImageRepo   = "ghcr.io/code-dot-org/code-dot-org"
)

// Transport returns an http.RoundTripper that sends requests for
// [PublicMonorepoURL], [PublicGitOpsURL] and the registry host of
// [PublicImageRepo] to s's servers over plain HTTP on loopback, and refuses
// every other destination: a program using it cannot reach the network.
func (s *Served) Transport() http.RoundTripper {
	reg, _ := url.Parse(s.Registry.URL)
	git, _ := url.Parse(s.Git.URL)
	return &routing{
		git: git, reg: reg,
		repos: map[string]string{
			strings.TrimPrefix(PublicMonorepoURL, "https://github.com"): "/" + MonorepoName,
			strings.TrimPrefix(PublicGitOpsURL, "https://github.com"):   "/" + GitOpsName,
		},
		registryHost: strings.SplitN(PublicImageRepo, "/", 2)[0],
	}
}

type routing struct {
	git, reg     *url.URL
	repos        map[string]string // public path prefix -> served path prefix
	registryHost string
}

func (r *routing) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	u := *req.URL
	switch {
	case u.Host == r.registryHost:
		u.Scheme, u.Host = r.reg.Scheme, r.reg.Host
	case u.Host == "github.com":
		routed := false
		for pub, local := range r.repos {
			if u.Path == pub || strings.HasPrefix(u.Path, pub+"/") {
				u.Path = local + strings.TrimPrefix(u.Path, pub)
				u.Scheme, u.Host = r.git.Scheme, r.git.Host
				routed = true
				break
			}
		}
		if !routed {
			return nil, fmt.Errorf("demo: %s is not part of the demo world", u.Redacted())
		}
	case u.Host == r.git.Host || u.Host == r.reg.Host:
	default:
		return nil, fmt.Errorf("demo: %s is not part of the demo world", u.Redacted())
	}
	out.URL = &u
	out.Host = u.Host
	resp, err := http.DefaultTransport.RoundTrip(out)
	if resp != nil {
		// To the caller the routing is invisible: the response answers the
		// request it sent (clients compare URLs to detect redirects).
		resp.Request = req
	}
	return resp, err
}
