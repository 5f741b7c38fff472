//go:build integration

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
	"github.com/railyard-gitops/railyard/internal/testkit/giteatest"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// Real mode against a real forge: the demo monorepo and registry on
// loopback, the GitOps repository on a real Gitea, and a person (this test)
// merging the review pull request through Gitea's API while the program
// waits. A second run changes nothing and opens no pull request.
func TestPromoteRealModeOnGitea(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	g := giteatest.New(t)

	w, err := demo.Build(t.TempDir(), demo.Small, demo.DefaultSeed)
	require.NoError(t, err)
	s, err := demo.Serve(ctx, w)
	require.NoError(t, err)
	defer s.Close()

	cloneURL, err := g.CreateRepo(ctx, "k8s-gitops", false)
	require.NoError(t, err)
	_, err = gittest.Git(s.GitOpsDir, "push", "--quiet", g.AuthURL(cloneURL), "main:main")
	require.NoError(t, err)

	t.Setenv("GIT_USER", g.User)
	t.Setenv("GIT_TOKEN", g.Token)
	t.Setenv("GITEA_TOKEN", g.Token)
	repoPath := "/api/v1/repos/" + g.User + "/k8s-gitops"
	args := []string{
		"-monorepo", s.MonorepoURL, "-gitops", cloneURL, "-image", s.ImageRepo,
		"-image-name", demo.ImageName, "-app", w.App,
		"-forge", "gitea", "-forge-url", g.URL, "-forge-repo", g.User + "/k8s-gitops",
		"-wait", "3m",
	}

	// The reviewer: merge the first open pull request as soon as Gitea
	// finds it mergeable. Gitea records the merge before its answer to the
	// merge call arrives, so the program may see the merge (and return)
	// before the reviewer hears back; the reviewer reports the number once
	// it knows the merge is done, and the test waits for that report.
	merged := make(chan int, 1)
	isMerged := func(n int) bool {
		var pr struct {
			Merged bool `json:"merged"`
		}
		return g.API(ctx, http.MethodGet, fmt.Sprintf("%s/pulls/%d", repoPath, n), nil, &pr) == nil && pr.Merged
	}
	go func() {
		for ctx.Err() == nil {
			var open []struct {
				Number int `json:"number"`
			}
			if g.API(ctx, http.MethodGet, repoPath+"/pulls?state=open", nil, &open) == nil && len(open) > 0 {
				n := open[0].Number
				err := g.API(ctx, http.MethodPost, fmt.Sprintf("%s/pulls/%d/merge", repoPath, n),
					map[string]string{"Do": "merge"}, nil)
				// An error answer (a timeout, "try again later") can still
				// follow a merge Gitea made; ask before trying again.
				if err == nil || isMerged(n) {
					merged <- n
					return
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()

	var out, progress bytes.Buffer
	require.NoError(t, run(ctx, &out, &progress, args), progress.String())
	first := out.String()
	assert.Equal(t, 3, strings.Count(first, "changed=true"), first)
	assert.Regexp(t, `(?m)^production +stage/production +freight [0-9a-f]{12} +pull request #\d+ `+g.URL, first)
	assert.Regexp(t, `(?m)^production +stage/production +merged as [0-9a-f]{12}$`, first)
	opened := regexp.MustCompile(`(?m)^production +stage/production +freight [0-9a-f]{12} +pull request #(\d+) `).FindStringSubmatch(first)
	require.NotNil(t, opened, first)
	select {
	case n := <-merged:
		assert.Equal(t, opened[1], strconv.Itoa(n), "the program waited for the pull request the reviewer merged")
		var pr struct {
			Merged bool                 `json:"merged"`
			Base   struct{ Ref string } `json:"base"`
		}
		require.NoError(t, g.API(ctx, http.MethodGet, fmt.Sprintf("%s/pulls/%d", repoPath, n), nil, &pr))
		assert.True(t, pr.Merged)
		assert.Equal(t, "stage/production", pr.Base.Ref)
	case <-time.After(30 * time.Second):
		t.Fatal("the program reported a merge the reviewer did not make")
	}
	for _, b := range []string{"stage/staging", "stage/test", "stage/levelbuilder", "stage/production"} {
		err := g.API(ctx, http.MethodGet, repoPath+"/branches/"+strings.ReplaceAll(b, "/", "%2F"), nil, nil)
		assert.NoError(t, err, b)
	}

	out.Reset()
	progress.Reset()
	require.NoError(t, run(ctx, &out, &progress, args), progress.String())
	second := out.String()
	assert.Equal(t, 3, strings.Count(second, "changed=false"), second)
	assert.Contains(t, second, "up to date, no pull request")
	assert.NotContains(t, second, "pull request #")
	assert.NotContains(t, out.String()+progress.String(), g.Token, "the token never reaches the output")
	var all []struct{ Number int }
	require.NoError(t, g.API(ctx, http.MethodGet, repoPath+"/pulls?state=all", nil, &all))
	assert.Len(t, all, 1, "one pull request in all")
}
