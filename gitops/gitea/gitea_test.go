package gitea_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/internal/testkit/optioncases"
)

// Construction is checked here; the behaviour against a real Gitea is in
// integration_test.go (go test -tags integration, RAILYARD_GITEA set).
func TestNew(t *testing.T) {
	t.Parallel()
	p, err := gitea.New("https://gitea.example.com/", "org", "gitops", gitea.WithBearerToken("t"),
		gitea.WithRetries(2, time.Millisecond, time.Second))
	require.NoError(t, err)
	assert.NotNil(t, p)

	for name, tc := range map[string]struct {
		url, owner, repo string
		opts             []gitea.Option
	}{
		"credentials in URL": {url: "https://u:secret@gitea.example.com/", owner: "o", repo: "r"},
		"not http":           {url: "ssh://gitea.example.com/", owner: "o", repo: "r"},
		"no host":            {url: "https:///x", owner: "o", repo: "r"},
		"no owner":           {url: "https://gitea.example.com/", repo: "r"},
		"no repo":            {url: "https://gitea.example.com/", owner: "o"},
		"empty token":        {url: "https://gitea.example.com/", owner: "o", repo: "r", opts: []gitea.Option{gitea.WithBearerToken("")}},
		"nil client":         {url: "https://gitea.example.com/", owner: "o", repo: "r", opts: []gitea.Option{gitea.WithHTTPClient(nil)}},
		"nil logger":         {url: "https://gitea.example.com/", owner: "o", repo: "r", opts: []gitea.Option{gitea.WithLogger(nil)}},
		"bad retry":          {url: "https://gitea.example.com/", owner: "o", repo: "r", opts: []gitea.Option{gitea.WithRetries(1, time.Second, time.Millisecond)}},
		"negative retries":   {url: "https://gitea.example.com/", owner: "o", repo: "r", opts: []gitea.Option{gitea.WithRetries(-1, 0, 0)}},
		"malformed URL":      {url: "https://x:secret@host:badport/", owner: "o", repo: "r"},
		"slash in owner":     {url: "https://gitea.example.com/", owner: "o/x", repo: "r"},
		"nil credentials":    {url: "https://gitea.example.com/", owner: "o", repo: "r", opts: []gitea.Option{gitea.WithCredentials(nil)}},
		"token and credentials": {url: "https://gitea.example.com/", owner: "o", repo: "r", opts: []gitea.Option{gitea.WithBearerToken("t"),
			gitea.WithCredentials(func(context.Context, string) (gitea.Credentials, error) { return gitea.Credentials{}, nil })}},
		"zero max pages":    {url: "https://gitea.example.com/", owner: "o", repo: "r", opts: []gitea.Option{gitea.WithMaxPages(0)}},
		"zero max response": {url: "https://gitea.example.com/", owner: "o", repo: "r", opts: []gitea.Option{gitea.WithMaxResponseSize(-1)}},
	} {
		_, err := gitea.New(tc.url, tc.owner, tc.repo, tc.opts...)
		require.ErrorIs(t, err, gitops.ErrInvalid, name)
		assert.NotContains(t, err.Error(), "secret", name)
		assert.False(t, gitops.IsRetryable(err), name)
	}
	_, err = gitea.New("https://gitea.example.com/", "org", "gitops", nil, gitea.WithMaxPages(2), nil)
	assert.NoError(t, err, "nil options are ignored")
}

// Regression: FindOpen matched pull requests by branch names only, so an
// open pull request from a fork whose branch bears the head's name was
// adopted: Propose rewrote its body with railyard's provenance and
// WaitForMerge waited for the fork's content to be merged.
func TestFindOpenIgnoresForks(t *testing.T) {
	t.Parallel()
	const head, base = "railyard/stage/production/f1", "stage/production"
	pulls := `[
	 {"number": 7, "state": "open", "head": {"ref": "` + head + `", "repo_id": 99}, "base": {"ref": "` + base + `", "repo_id": 1}},
	 {"number": 8, "state": "open", "head": {"ref": "` + head + `", "repo_id": 1}, "base": {"ref": "` + base + `", "repo_id": 1}}
	]`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/v1/repos/org/gitops/pulls" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("page") != "1" {
			_, _ = w.Write([]byte(`[]`))
			return
		}
		_, _ = w.Write([]byte(pulls))
	}))
	defer srv.Close()
	prs, err := gitea.New(srv.URL, "org", "gitops", gitea.WithRetries(1, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	pr, err := prs.FindOpen(context.Background(), head, base)
	require.NoError(t, err)
	assert.Equal(t, 8, pr.Number, "the pull request from the fork is not ours")
}

// Regression: FindOpen stopped paging at the first page shorter than the
// page size it asked for, but a Gitea whose [api] MAX_RESPONSE_ITEMS is
// lower than that answers with shorter full pages: the open pull request
// on a later page was missed and Propose tried to open a second one.
func TestFindOpenPagesPastAServerCap(t *testing.T) {
	t.Parallel()
	const head, base, serverCap = "railyard/stage/production/f1", "stage/production", 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		var items []string
		for i := (page - 1) * serverCap; i < page*serverCap && i < 25; i++ {
			ref := fmt.Sprintf("other-%d", i)
			if i == 22 {
				ref = head
			}
			items = append(items, fmt.Sprintf(`{"number": %d, "state": "open", "head": {"ref": %q}, "base": {"ref": %q}}`, i+1, ref, base))
		}
		_, _ = w.Write([]byte("[" + strings.Join(items, ",") + "]"))
	}))
	defer srv.Close()
	prs, err := gitea.New(srv.URL, "org", "gitops", gitea.WithRetries(1, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	pr, err := prs.FindOpen(context.Background(), head, base)
	require.NoError(t, err)
	assert.Equal(t, 23, pr.Number)
	_, err = prs.FindOpen(context.Background(), "railyard/none", base)
	assert.ErrorIs(t, err, gitops.ErrNotFound)
}

// WithRetries follows the rule every railyard package shares
// (retry.NewPolicy): n in 0..999 and 0 < minWait <= maxWait. Before, the
// forges accepted zero waits (a tight retry loop) and any n.
func TestWithRetriesValidation(t *testing.T) {
	t.Parallel()
	optioncases.Retries(t, gitops.ErrInvalid, func(n int, minWait, maxWait time.Duration) error {
		_, err := gitea.New("https://gitea.example.com/", "org", "gitops", gitea.WithRetries(n, minWait, maxWait))
		return err
	})
}

// Two credential options are refused, naming both (before, the message
// named neither); the same option twice is refused too.
func TestCredentialOptionsExcludeEachOther(t *testing.T) {
	t.Parallel()
	creds := func(context.Context, string) (gitea.Credentials, error) { return gitea.Credentials{}, nil }
	all := map[string]gitea.Option{
		"WithBearerToken": gitea.WithBearerToken("t"),
		"WithCredentials": gitea.WithCredentials(creds),
	}
	optioncases.CredentialsExclusive(t, gitops.ErrInvalid, all, func(a, b gitea.Option) error {
		_, err := gitea.New("https://gitea.example.com/", "org", "gitops", a, nil, b)
		return err
	})
}
