package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/internal/testkit/demo"
)

// kargoDoc is the part of a Kargo resource the test checks.
type kargoDoc struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Origin struct {
		Kind string `yaml:"kind"`
		Name string `yaml:"name"`
	} `yaml:"origin"`
	Commits []struct {
		RepoURL string `yaml:"repoURL"`
		ID      string `yaml:"id"`
	} `yaml:"commits"`
	Images []freightImage `yaml:"images"`
	Spec   struct {
		FreightCreationPolicy   string `yaml:"freightCreationPolicy"`
		FreightCreationCriteria *struct {
			Expression string `yaml:"expression"`
		} `yaml:"freightCreationCriteria"`
		Subscriptions []struct {
			Git *struct {
				RepoURL                 string `yaml:"repoURL"`
				CommitSelectionStrategy string `yaml:"commitSelectionStrategy"`
			} `yaml:"git"`
			Image *struct {
				RepoURL                string   `yaml:"repoURL"`
				ImageSelectionStrategy string   `yaml:"imageSelectionStrategy"`
				AllowTagsRegexes       []string `yaml:"allowTagsRegexes"`
				IgnoreTagsRegexes      []string `yaml:"ignoreTagsRegexes"`
			} `yaml:"image"`
		} `yaml:"subscriptions"`
	} `yaml:"spec"`
}

type freightImage struct {
	RepoURL string `yaml:"repoURL"`
	Tag     string `yaml:"tag"`
	Digest  string `yaml:"digest"`
}

// decodeStream parses a YAML stream into its documents.
func decodeStream(t *testing.T, stream []byte) []kargoDoc {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	var docs []kargoDoc
	for {
		var d kargoDoc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		require.NoError(t, err, "standard output must be one YAML stream")
		docs = append(docs, d)
	}
}

// The program on the demo world: a Warehouse with the NewestBuild image
// subscription and the criteria expression, then the newest Freight, each
// named exactly as Kargo names it and paired with its own commit.
func TestWarehouseDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	require.NoError(t, run(ctx, &out, &progress, []string{"-n", "4"}), progress.String())

	docs := decodeStream(t, out.Bytes())
	require.Len(t, docs, 5, out.String())
	wh := docs[0]
	assert.Equal(t, "Warehouse", wh.Kind)
	assert.Equal(t, demo.App, wh.Metadata.Name)
	assert.Equal(t, "Automatic", wh.Spec.FreightCreationPolicy)
	require.NotNil(t, wh.Spec.FreightCreationCriteria)
	assert.Equal(t, freight.CriteriaExpression([]string{demo.PublicImageRepo}, demo.PublicMonorepoURL), wh.Spec.FreightCreationCriteria.Expression)
	require.Len(t, wh.Spec.Subscriptions, 2)
	require.NotNil(t, wh.Spec.Subscriptions[0].Git)
	assert.Equal(t, demo.PublicMonorepoURL, wh.Spec.Subscriptions[0].Git.RepoURL)
	assert.Equal(t, "NewestFromBranch", wh.Spec.Subscriptions[0].Git.CommitSelectionStrategy)
	img := wh.Spec.Subscriptions[1].Image
	require.NotNil(t, img)
	assert.Equal(t, "NewestBuild", img.ImageSelectionStrategy, "the default SemVer strategy finds no git-<sha> tag")
	assert.Equal(t, []string{freight.AllowTagsRegex}, img.AllowTagsRegexes)
	assert.Equal(t, []string{freight.IgnoreTagsRegex}, img.IgnoreTagsRegexes)

	w, err := demo.BuildCached(demo.Small, demo.DefaultSeed)
	require.NoError(t, err)
	var candidates []string // commits with an image, newest first
	for _, c := range w.Commits {
		if c.HasImage {
			candidates = append(candidates, c.ID)
		}
	}
	for i, d := range docs[1:] {
		assert.Equal(t, "Freight", d.Kind)
		assert.Equal(t, demo.App, d.Metadata.Namespace)
		assert.Equal(t, "Warehouse", d.Origin.Kind)
		assert.Equal(t, demo.App, d.Origin.Name)
		require.Len(t, d.Commits, 1)
		require.Len(t, d.Images, 1)
		assert.Equal(t, candidates[i], d.Commits[0].ID, "Freight %d is the %d-th newest commit with an image", i, i)
		assert.Equal(t, "git-"+d.Commits[0].ID, d.Images[0].Tag)
		f := freight.Freight{
			Commit: freight.Commit{RepoURL: d.Commits[0].RepoURL, ID: d.Commits[0].ID},
			Images: []freight.Image{{RepoURL: d.Images[0].RepoURL, Tag: d.Images[0].Tag, Digest: d.Images[0].Digest}},
		}
		assert.Equal(t, freight.KargoID(demo.App, f), d.Metadata.Name, "the Freight's name is Kargo's ID for its artifacts")
	}
	assert.Contains(t, progress.String(), "Freight,")
}

// With -manual Kargo creates no Freight, so the Warehouse has no criteria.
func TestWarehouseManual(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	require.NoError(t, run(ctx, &out, &progress, []string{"-manual", "-n", "1", "-include-paths", demo.DeployPath}), progress.String())
	docs := decodeStream(t, out.Bytes())
	require.Len(t, docs, 2)
	assert.Equal(t, "Manual", docs[0].Spec.FreightCreationPolicy)
	assert.Nil(t, docs[0].Spec.FreightCreationCriteria)
	assert.Equal(t, "Freight", docs[1].Kind)
}

func TestWarehouseBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"extra"},
		{"-image", "ghcr.io/o/a"},
		{"-git", "https://example.invalid/m.git"},
		{"-n", "-1"},
		{"-no-such-flag"},
	} {
		var out, errb bytes.Buffer
		assert.Error(t, run(context.Background(), &out, &errb, args), args)
		assert.Empty(t, out.String(), args)
	}
}
