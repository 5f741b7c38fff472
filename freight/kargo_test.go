package freight

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(p, got, 0o644))
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got))
}

func TestCriteriaExpression(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		images []string
		git    string
		want   string
	}{
		{"one image", []string{"ghcr.io/org/app"}, "https://github.com/org/mono.git",
			`imageFrom('ghcr.io/org/app').Tag == 'git-' + commitFrom('https://github.com/org/mono.git').ID`},
		{"two images", []string{"ghcr.io/org/app", "ghcr.io/org/static"}, "https://g/m",
			`imageFrom('ghcr.io/org/app').Tag == 'git-' + commitFrom('https://g/m').ID && ` +
				`imageFrom('ghcr.io/org/static').Tag == 'git-' + commitFrom('https://g/m').ID`},
		{"quotes escaped", []string{`r'x\`}, "https://g/m'",
			`imageFrom('r\'x\\').Tag == 'git-' + commitFrom('https://g/m\'').ID`},
		{"no images", nil, "https://g/m", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, CriteriaExpression(tc.images, tc.git))
		})
	}
}

func TestWarehouseYAML(t *testing.T) {
	t.Parallel()
	w := KargoWarehouse{
		Name: "codeai", Project: "code-dot-org",
		GitURL: "https://github.com/code-dot-org/code-dot-org.git", Branch: "staging",
		ImageRepos:   []string{"ghcr.io/code-dot-org/code-dot-org"},
		IncludePaths: []string{"k8s/kustomize"},
	}
	got, err := WarehouseYAML(w)
	require.NoError(t, err)
	golden(t, "warehouse.yaml", got)

	var doc struct {
		Spec struct {
			Policy        string `yaml:"freightCreationPolicy"`
			Subscriptions []struct {
				Image *struct {
					Strategy string   `yaml:"imageSelectionStrategy"`
					Allow    []string `yaml:"allowTagsRegexes"`
				} `yaml:"image"`
			} `yaml:"subscriptions"`
			Criteria struct {
				Expression string `yaml:"expression"`
			} `yaml:"freightCreationCriteria"`
		} `yaml:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(got, &doc))
	assert.Equal(t, "Automatic", doc.Spec.Policy)
	require.Len(t, doc.Spec.Subscriptions, 2)
	assert.Equal(t, "NewestBuild", doc.Spec.Subscriptions[1].Image.Strategy, "the default SemVer strategy discovers nothing for git-<sha>")
	assert.Equal(t, []string{AllowTagsRegex}, doc.Spec.Subscriptions[1].Image.Allow)
	assert.Equal(t, CriteriaExpression(w.ImageRepos, w.GitURL), doc.Spec.Criteria.Expression)

	w.Manual = true
	got, err = WarehouseYAML(w)
	require.NoError(t, err)
	assert.Contains(t, string(got), "freightCreationPolicy: Manual")
	assert.NotContains(t, string(got), "freightCreationCriteria")

	tooWide, subSecond := w, w
	tooWide.DiscoveryLimit = 101
	subSecond.Interval = 1500 * time.Millisecond
	w.Interval, w.DiscoveryLimit = 90*time.Second, 100
	got, err = WarehouseYAML(w)
	require.NoError(t, err)
	assert.Contains(t, string(got), "interval: 1m30s")
	for _, bad := range []KargoWarehouse{{}, {Name: "w", Project: "p", GitURL: "g", Branch: "b"}, tooWide, subSecond} {
		_, err := WarehouseYAML(bad)
		assert.ErrorIs(t, err, ErrInvalid)
	}
}

func TestFreightManifest(t *testing.T) {
	t.Parallel()
	f := Freight{
		Commit: Commit{RepoURL: "https://github.com/code-dot-org/code-dot-org.git", ID: sha1ID,
			Branch: "staging", Subject: "Fix: quote \"this\": yes", Author: "Dev <dev@example.org>"},
		Images: []Image{{RepoURL: "ghcr.io/code-dot-org/code-dot-org", Tag: "git-" + sha1ID, Digest: "sha256:" + strings.Repeat("a", 64)}},
	}
	got, err := FreightManifest("code-dot-org", "codeai", f)
	require.NoError(t, err)
	golden(t, "freight.yaml", got)
	assert.Contains(t, string(got), "name: 60814b127a48372407b88fa1c2dce855e4282496")

	var back struct {
		Commits []struct {
			Message string `yaml:"message"`
		} `yaml:"commits"`
	}
	require.NoError(t, yaml.Unmarshal(got, &back))
	assert.Equal(t, f.Commit.Subject, back.Commits[0].Message, "subject survives quoting")

	noDigest := f
	noDigest.Images = []Image{{RepoURL: "r", Tag: "git-" + sha1ID}}
	shortID := f
	shortID.Commit.ID = "0123456"
	for name, tc := range map[string]struct {
		project, origin string
		f               Freight
	}{
		"no project":       {"", "codeai", f},
		"no origin":        {"p", "", f},
		"origin with kind": {"p", "Warehouse/codeai", f},
		"no digest":        {"p", "codeai", noDigest},
		"short id":         {"p", "codeai", shortID},
	} {
		_, err := FreightManifest(tc.project, tc.origin, tc.f)
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
}
