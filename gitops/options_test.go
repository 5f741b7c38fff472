package gitops_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
)

func TestMessageTemplate(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	repo := newRepo(t, rem.url, gitops.WithMessageTemplate("deploy {{.Provenance.FreightID}} to {{.Branch}} ({{.Files}} files)"))
	res, err := repo.Commit(testContext(t), gitops.Change{Dir: gitops.Root, Branch: "stage/test", Files: render(1), Provenance: testProvenance})
	require.NoError(t, err)
	assert.Equal(t, "deploy "+testProvenance.FreightID+" to stage/test (2 files)\n\n"+testProvenance.Trailers(),
		rem.git(t, "log", "-1", "--format=%B", res.Commit)+"\n")
}

func TestOptionsRefuseBadValues(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]gitops.Option{
		"template":              gitops.WithMessageTemplate("{{"),
		"yaml provenance":       gitops.WithProvenanceFile("provenance.yaml"),
		"json provenance":       gitops.WithProvenanceFile("x/PROV.JSON"),
		"escaping provenance":   gitops.WithProvenanceFile("../PROVENANCE"),
		"attempts":              gitops.WithMaxAttempts(0),
		"backoff":               gitops.WithBackoff(0, 1),
		"nil logger":            gitops.WithLogger(nil),
		"nil signer":            gitops.WithSigner(nil),
		"nil clock":             gitops.WithClock(nil),
		"nil client":            gitops.WithHTTPClient(nil),
		"author with brackets":  gitops.WithAuthor("a <b>", "c@d"),
		"empty committer email": gitops.WithCommitter("a", ""),
		"empty token":           gitops.WithToken(""),
		"ssh key on https":      gitops.WithSSHKey("git", []byte("not a key"), ""),
	} {
		_, err := gitops.NewRepo("https://example.com/r.git", opt)
		assert.Error(t, err, name)
	}
	_, err := gitops.NewRepo("https://example.com/r.git", gitops.WithToken("a"), gitops.WithBasicAuth("u", "p"))
	assert.Error(t, err, "two auth options")
	_, err = gitops.NewRepo("file:///tmp/r.git")
	assert.Error(t, err, "file URLs are refused")
	_, err = gitops.NewRepo("ssh://git@example.com/r.git", gitops.WithSSHKey("git", []byte("not a key"), "hunter2"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestProvenanceFileOption(t *testing.T) {
	t.Parallel()
	rem := newRemote(t)
	ctx := testContext(t)
	for name, opt := range map[string]gitops.Option{"none": gitops.WithProvenanceFile(""), "custom": gitops.WithProvenanceFile(".railyard/provenance")} {
		res, err := newRepo(t, rem.url, opt).Commit(ctx, gitops.Change{Branch: "stage/" + name, Dir: "d", Files: render(1), Provenance: testProvenance})
		require.NoError(t, err)
		files := strings.Fields(rem.git(t, "ls-tree", "-r", "--name-only", res.Commit))
		if name == "none" {
			assert.Equal(t, []string{"d/deployment-web.yaml", "d/service-web.yaml"}, files)
		} else {
			assert.Contains(t, files, "d/.railyard/provenance")
		}
	}
}
