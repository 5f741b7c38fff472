package renderbranch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/railyard-gitops/railyard/freight"
)

// Config is one run's configuration, as a Kargo promotion template passes
// it (JSON keys follow Kargo's built-in steps where one exists). Its zero
// value is invalid; [Config.Validate] says why. Credentials are never part
// of it: they come from the Runner's [CredentialsFunc].
type Config struct {
	// RepoURL is the monorepo (git-clone repoURL), an http(s) URL without
	// credentials.
	RepoURL string `json:"repoURL"`
	// Commit is the promoted commit, a full lowercase id, e.g.
	// ${{ commitFrom(vars.repoURL).ID }} (git-clone checkout[].commit).
	Commit string `json:"commit"`
	// Branch optionally names a branch holding Commit, for servers that
	// refuse wants of exact commits (git-clone checkout[].branch).
	Branch string `json:"branch,omitempty"`
	// Paths is the deploy package, clean relative directories of the
	// monorepo (git-clone checkout[].sparse), e.g. k8s/kustomize/base.
	Paths []string `json:"paths"`
	// Image is the promoted image (kustomize-set-image images[]).
	Image Image `json:"image"`
	// GitOpsRepoURL is the GitOps repository: policy on PolicyBranch,
	// rendered output on the deployment's stage branch.
	GitOpsRepoURL string `json:"gitopsRepoURL"`
	// PolicyBranch holds apps/<app>/; "" means "main".
	PolicyBranch string `json:"policyBranch,omitempty"`
	// App and Deployment select apps/<app>/deployments/<deployment>/.
	App        string `json:"app"`
	Deployment string `json:"deployment"`
	// Message is the commit message (git-commit message); "" names the
	// commit and the deployment.
	Message string `json:"message,omitempty"`
	// FreightID is recorded as provenance, e.g. ${{ ctx.targetFreight.name }}.
	FreightID string `json:"freightID,omitempty"`
	// Review sends the render through a pull request against the stage
	// branch (git-push generateTargetBranch + git-open-pr) instead of
	// committing to it; the run then reports the pull request and, once
	// it is merged, its merge commit (git-wait-for-pr).
	Review bool `json:"review,omitempty"`
	// Provider is the forge of a review deployment: "github" or "gitea"
	// (git-open-pr provider). "" means "github" for github.com URLs.
	Provider string `json:"provider,omitempty"`
	// ProviderURL is the forge's API base for GitHub Enterprise
	// ("https://ghe.example.com/api/v3/") or Gitea; "" derives it from
	// GitOpsRepoURL.
	ProviderURL string `json:"providerURL,omitempty"`
	// PollInterval is how soon Kargo should look at an open pull request
	// again, a Go duration ("30s"); "" means 30s.
	PollInterval string `json:"pollInterval,omitempty"`
}

// Image is one kustomize-set-image entry.
type Image struct {
	// Name is the image name the manifests use, the key of a kustomize
	// images entry (kustomize-set-image images[].image).
	Name string `json:"image"`
	// RepoURL is the registry repository (images[].newName), e.g.
	// ${{ imageFrom(vars.imageRepo).RepoURL }}.
	RepoURL string `json:"newName"`
	// Tag must be git-<Commit> (images[].tag).
	Tag string `json:"tag"`
	// Digest is sha256:<64 hex> (images[].digest).
	Digest string `json:"digest"`
}

// DefaultPollInterval is how soon an open pull request is looked at again
// when Config.PollInterval is "".
const DefaultPollInterval = 30 * time.Second

// ParseConfig decodes a JSON configuration strictly (unknown keys are
// refused) and validates it. Errors wrap [ErrInvalidConfig].
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%w: %s", ErrInvalidConfig, jsonProblem(err))
	}
	if dec.More() {
		return Config{}, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalidConfig)
	}
	return c, c.Validate()
}

// jsonProblem describes a decoding error without echoing input values.
func jsonProblem(err error) string {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		return fmt.Sprintf("%s must be %s", typ.Field, typ.Type)
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown key " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	default:
		return "malformed JSON"
	}
}

// Validate checks c before any I/O, as Kargo validates a step's config:
// every problem is listed, and the error wraps [ErrInvalidConfig]. Values
// are not echoed, so a credential pasted into the wrong key never reaches
// a log.
func (c Config) Validate() error {
	var problems []string
	need := func(ok bool, format string, args ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for _, u := range []struct{ key, value string }{{"repoURL", c.RepoURL}, {"gitopsRepoURL", c.GitOpsRepoURL}} {
		need(validURL(u.value, false), "%s must be an http(s) URL without credentials, query or fragment", u.key)
	}
	_, err := freight.TagForCommit(c.Commit)
	need(err == nil, "commit must be a full lowercase commit id")
	need(c.Branch == "" || validRef(c.Branch), "branch must be a branch name")
	need(len(c.Paths) > 0, "paths must name the deploy package")
	for i, p := range c.Paths {
		need(fs.ValidPath(p) && p != ".", "paths[%d] must be a clean relative path", i)
	}
	need(c.Image.Name != "" && !strings.ContainsAny(c.Image.Name, " \t\n"), "image.image must name the image the manifests use")
	need(validImageRepo(c.Image.RepoURL), "image.newName must be an image repository such as ghcr.io/org/app")
	need(freight.Matches(freight.Image{Tag: c.Image.Tag}, freight.Commit{ID: c.Commit}), "image.tag must be git-<commit>")
	need(validDigest(c.Image.Digest), "image.digest must be sha256:<64 lowercase hex digits>")
	need(c.PolicyBranch == "" || validRef(c.PolicyBranch), "policyBranch must be a branch name")
	for _, e := range []struct{ key, value string }{{"app", c.App}, {"deployment", c.Deployment}} {
		need(e.value != "" && fs.ValidPath(e.value) && !strings.Contains(e.value, "/") && e.value != "." && !strings.HasPrefix(e.value, "."),
			"%s must be one path element", e.key)
	}
	need(!strings.ContainsAny(c.FreightID, "\r\n"), "freightID must be one line")
	switch c.Provider {
	case "", "github", "gitea":
	default:
		problems = append(problems, `provider must be "github" or "gitea"`)
	}
	need(c.ProviderURL == "" || validURL(c.ProviderURL, true), "providerURL must be an http(s) URL without credentials")
	need(!c.Review || c.Provider != "" || hostOf(c.GitOpsRepoURL) == "github.com", "review needs provider for a repository not on github.com")
	need(c.Review || (c.Provider == "" && c.ProviderURL == ""), "provider and providerURL need review")
	if c.PollInterval != "" {
		d, err := time.ParseDuration(c.PollInterval)
		need(err == nil && d >= time.Second && d <= 24*time.Hour, "pollInterval must be a duration between 1s and 24h")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	return nil
}

// pollInterval returns c's poll interval; c is valid.
func (c Config) pollInterval() time.Duration {
	if d, err := time.ParseDuration(c.PollInterval); err == nil && c.PollInterval != "" {
		return d
	}
	return DefaultPollInterval
}

func validURL(s string, pathOK bool) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	return pathOK || (u.Path != "" && u.Path != "/")
}

func hostOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// validImageRepo accepts an image repository without tag or digest:
// "ghcr.io/org/app", "localhost:5000/app"; a colon only before a port.
func validImageRepo(s string) bool {
	if s == "" || strings.Contains(s, "://") || strings.ContainsAny(s, "@ \t\r\n") {
		return false
	}
	host, rest, hasPath := strings.Cut(s, "/")
	if strings.Contains(rest, ":") || (hasPath && rest == "") {
		return false
	}
	if h, port, ok := strings.Cut(host, ":"); ok {
		if !hasPath || h == "" || port == "" {
			return false
		}
		for _, r := range port {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}

func validDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, r := range hex {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// validRef is a conservative check of a branch name; the git layer does
// the full one.
func validRef(b string) bool {
	if b == "" || strings.HasPrefix(b, "-") || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") ||
		strings.HasSuffix(b, ".lock") || strings.Contains(b, "..") || strings.Contains(b, "@{") || strings.Contains(b, "//") {
		return false
	}
	for _, r := range b {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("~^:?*[\\", r) {
			return false
		}
	}
	return true
}
