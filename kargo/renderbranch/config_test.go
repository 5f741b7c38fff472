package renderbranch_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/kargo/renderbranch"
)

func goodConfig() renderbranch.Config {
	sha := strings.Repeat("a", 40)
	return renderbranch.Config{
		RepoURL: "https://github.com/o/m.git", Commit: sha, Paths: []string{"k8s/kustomize/base"},
		Image:         renderbranch.Image{Name: "app", RepoURL: "ghcr.io/o/app", Tag: "git-" + sha, Digest: "sha256:" + strings.Repeat("0", 64)},
		GitOpsRepoURL: "https://github.com/o/g.git", App: "codeai", Deployment: "test",
	}
}

// Every invalid configuration is refused before any I/O with
// ErrInvalidConfig, which is not retryable, and the refusal never echoes a
// value (a secret pasted into the wrong key stays out of Kargo's status).
func TestValidate(t *testing.T) {
	require.NoError(t, goodConfig().Validate())
	for name, edit := range map[string]func(*renderbranch.Config){
		"no repoURL":          func(c *renderbranch.Config) { c.RepoURL = "" },
		"file URL":            func(c *renderbranch.Config) { c.GitOpsRepoURL = "file:///etc/hunter2" },
		"credentials in URL":  func(c *renderbranch.Config) { c.RepoURL = "https://bot:hunter2@github.com/o/m.git" },
		"query in URL":        func(c *renderbranch.Config) { c.RepoURL = "https://github.com/o/m.git?token=hunter2" },
		"host only":           func(c *renderbranch.Config) { c.GitOpsRepoURL = "https://github.com/" },
		"short commit":        func(c *renderbranch.Config) { c.Commit = "aaaaaaa" },
		"upper commit":        func(c *renderbranch.Config) { c.Commit = strings.Repeat("A", 40) },
		"option branch":       func(c *renderbranch.Config) { c.Branch = "-x" },
		"no paths":            func(c *renderbranch.Config) { c.Paths = nil },
		"escaping path":       func(c *renderbranch.Config) { c.Paths = []string{"../etc"} },
		"absolute path":       func(c *renderbranch.Config) { c.Paths = []string{"/k8s"} },
		"tag of another sha":  func(c *renderbranch.Config) { c.Image.Tag = "git-" + strings.Repeat("b", 40) },
		"arch tag":            func(c *renderbranch.Config) { c.Image.Tag += "-amd64" },
		"no digest":           func(c *renderbranch.Config) { c.Image.Digest = "" },
		"short digest":        func(c *renderbranch.Config) { c.Image.Digest = "sha256:abc" },
		"no image name":       func(c *renderbranch.Config) { c.Image.Name = "" },
		"image with tag":      func(c *renderbranch.Config) { c.Image.RepoURL = "ghcr.io/o/app:latest" },
		"image with scheme":   func(c *renderbranch.Config) { c.Image.RepoURL = "https://ghcr.io/o/app" },
		"nested deployment":   func(c *renderbranch.Config) { c.Deployment = "a/b" },
		"dot app":             func(c *renderbranch.Config) { c.App = ".." },
		"hidden app":          func(c *renderbranch.Config) { c.App = ".git" },
		"multi-line freight":  func(c *renderbranch.Config) { c.FreightID = "a\nSigned-off-by: x" },
		"unknown provider":    func(c *renderbranch.Config) { c.Review, c.Provider = true, "gitlab" },
		"review off GitHub":   func(c *renderbranch.Config) { c.Review, c.GitOpsRepoURL = true, "https://gitea.example.com/o/g.git" },
		"provider, no review": func(c *renderbranch.Config) { c.Provider = "github" },
		"bad poll interval":   func(c *renderbranch.Config) { c.PollInterval = "soon" },
		"tiny poll interval":  func(c *renderbranch.Config) { c.PollInterval = "1ms" },
	} {
		t.Run(name, func(t *testing.T) {
			c := goodConfig()
			edit(&c)
			err := c.Validate()
			require.ErrorIs(t, err, renderbranch.ErrInvalidConfig)
			assert.False(t, renderbranch.IsRetryable(err))
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
	for name, edit := range map[string]func(*renderbranch.Config){
		"registry with port": func(c *renderbranch.Config) { c.Image.RepoURL = "localhost:5000/app" },
		"review on GitHub":   func(c *renderbranch.Config) { c.Review = true },
		"review on Gitea":    func(c *renderbranch.Config) { c.Review, c.Provider = true, "gitea" },
		"poll interval":      func(c *renderbranch.Config) { c.Review, c.PollInterval = true, "2m" },
	} {
		t.Run("valid/"+name, func(t *testing.T) {
			c := goodConfig()
			edit(&c)
			assert.NoError(t, c.Validate())
		})
	}
}

func TestParseConfig(t *testing.T) {
	b, err := json.Marshal(goodConfig())
	require.NoError(t, err)
	c, err := renderbranch.ParseConfig(b)
	require.NoError(t, err)
	assert.Equal(t, goodConfig(), c)
	for name, in := range map[string]string{
		"unknown key": `{"token":"hunter2"}`,
		"wrong type":  `{"paths":"hunter2"}`,
		"malformed":   `{"repoURL":`,
		"trailing":    string(b) + `{}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := renderbranch.ParseConfig([]byte(in))
			require.ErrorIs(t, err, renderbranch.ErrInvalidConfig)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}
