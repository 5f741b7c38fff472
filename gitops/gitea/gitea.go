package gitea

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
)

// pageSize is the page size for listing open pull requests.
const pageSize = 50

// PullRequests implements [gitops.PullRequests] for one Gitea repository.
// It is safe for concurrent use.
type PullRequests struct {
	baseURL     string
	owner, repo string
	hc          *http.Client
	secrets     *redact.Set
	log         *slog.Logger
	maxPages    int
}

var _ gitops.PullRequests = (*PullRequests)(nil)

// New returns the pull requests of owner/repo on the Gitea at baseURL
// (e.g. "https://gitea.example.com/"). It does no I/O. It fails with an
// error matching [gitops.ErrInvalid] on a bad URL (one with credentials
// included), an empty owner or repo, or an invalid or conflicting option.
func New(baseURL, owner, repo string, opts ...Option) (*PullRequests, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, invalid("base URL must be an http(s) URL without credentials")
	}
	if owner == "" || repo == "" || strings.Contains(owner+repo, "/") {
		return nil, invalid("owner and repository are required, without slashes")
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	secrets := &redact.Set{}
	u.RawQuery, u.Fragment = "", ""
	hc, _, err := httpx.New(httpx.Config{
		Client: o.HTTPClient, Origin: u.String(), Credentials: o.Auth(secrets), Secrets: secrets,
		Retry: o.Retry, Idempotent: idempotent, Logger: o.Logger, Prefix: "gitea",
		MaxResponseSize: o.MaxResponse, ReadOnlyElsewhere: true,
	})
	if err != nil {
		return nil, invalid("base URL")
	}
	return &PullRequests{
		baseURL: strings.TrimSuffix(u.String(), "/"), owner: owner, repo: repo, hc: hc,
		secrets: secrets, log: redact.Logger(o.Logger, secrets), maxPages: o.MaxPages,
	}, nil
}

// idempotent: reads, and PATCH, which the provider only uses to set a
// body to a fixed value.
func idempotent(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodPatch
}

// client returns an SDK client bound to ctx; it does no I/O (the server
// version check is skipped). Credentials are not given to the SDK: httpx
// adds them to requests for the server's origin only.
func (p *PullRequests) client(ctx context.Context) (*sdk.Client, error) {
	return sdk.NewClient(p.baseURL, sdk.SetHTTPClient(p.hc), sdk.SetContext(ctx), sdk.SetGiteaVersion(""))
}

// FindOpen returns the open pull request from head (a branch of this
// repository, never of a fork) into base. It pages until an empty page or
// the last page the server's Link header names, following at most
// [WithMaxPages] pages. Errors: [gitops.ErrNotFound] when none is open;
// otherwise see [PullRequests.Get].
func (p *PullRequests) FindOpen(ctx context.Context, head, base string) (*gitops.PullRequest, error) {
	const op = "list pull requests"
	c, err := p.client(ctx)
	if err != nil {
		return nil, p.fail(ctx, op, nil, err)
	}
	for page := 1; ; page++ {
		if page > p.maxPages {
			return nil, fmt.Errorf("gitea: %s: %w", op, &gitops.LimitError{Limit: "pages", Max: int64(p.maxPages)})
		}
		list, resp, err := c.ListRepoPullRequests(p.owner, p.repo, sdk.ListPullRequestsOptions{
			ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize}, State: sdk.StateOpen,
		})
		if err != nil {
			return nil, p.fail(ctx, op, resp, err)
		}
		p.log.DebugContext(ctx, "gitea: "+op, "repo", p.owner+"/"+p.repo, "page", page, "pulls", len(list))
		for _, pr := range list {
			if pr.Head != nil && pr.Base != nil && pr.Head.Ref == head && pr.Base.Ref == base && pr.State == sdk.StateOpen &&
				pr.Head.RepoID == pr.Base.RepoID { // not from a fork
				return convert(pr), nil
			}
		}
		// A server may cap pages below pageSize, so a short page is not the
		// last; an empty one is, and so is one whose Link header names
		// pages but no next one.
		linked := resp != nil && (resp.FirstPage > 0 || resp.PrevPage > 0 || resp.LastPage > 0)
		if len(list) == 0 || (linked && resp.NextPage == 0) {
			return nil, fmt.Errorf("gitea: open pull request from %q into %q: %w", head, base, gitops.ErrNotFound)
		}
	}
}

// Create opens a pull request. It is not retried: a retry could open two.
// Errors: see [PullRequests.Get]; a pull request that already exists is a
// 409 [*Error] matching [gitops.ErrInvalid].
func (p *PullRequests) Create(ctx context.Context, n gitops.NewPullRequest) (*gitops.PullRequest, error) {
	const op = "create pull request"
	c, err := p.client(ctx)
	if err != nil {
		return nil, p.fail(ctx, op, nil, err)
	}
	pr, resp, err := c.CreatePullRequest(p.owner, p.repo, sdk.CreatePullRequestOption{Head: n.Head, Base: n.Base, Title: n.Title, Body: n.Body})
	if err != nil {
		return nil, p.fail(ctx, op, resp, err)
	}
	p.log.DebugContext(ctx, "gitea: "+op, "repo", p.owner+"/"+p.repo, "number", pr.Index)
	return convert(pr), nil
}

// UpdateBody replaces the body of pull request number. Errors: see
// [PullRequests.Get].
func (p *PullRequests) UpdateBody(ctx context.Context, number int, body string) (*gitops.PullRequest, error) {
	op := fmt.Sprintf("edit pull request #%d", number)
	c, err := p.client(ctx)
	if err != nil {
		return nil, p.fail(ctx, op, nil, err)
	}
	pr, resp, err := c.EditPullRequest(p.owner, p.repo, int64(number), sdk.EditPullRequestOption{Body: &body})
	if err != nil {
		return nil, p.fail(ctx, op, resp, err)
	}
	p.log.DebugContext(ctx, "gitea: edit pull request", "repo", p.owner+"/"+p.repo, "number", number)
	return convert(pr), nil
}

// Get returns pull request number. Errors match [gitops.ErrNotFound] (no
// such pull request), [gitops.ErrUnauthorized] (401, 403),
// [gitops.ErrInvalid] (another 4xx), [gitops.ErrLimitExceeded] (an answer
// over [WithMaxResponseSize]), [gitops.ErrUnsafeContent] (a redirect that
// loops, leaves https or writes to another origin) or
// [gitops.ErrUnavailable] (network errors, 429 and 5xx that outlasted the
// retries, cut or malformed answers: a later call may help), or are the
// context's error. Status refusals are [*Error] values.
func (p *PullRequests) Get(ctx context.Context, number int) (*gitops.PullRequest, error) {
	op := fmt.Sprintf("get pull request #%d", number)
	c, err := p.client(ctx)
	if err != nil {
		return nil, p.fail(ctx, op, nil, err)
	}
	pr, resp, err := c.GetPullRequest(p.owner, p.repo, int64(number))
	if err != nil {
		return nil, p.fail(ctx, op, resp, err)
	}
	p.log.DebugContext(ctx, "gitea: get pull request", "repo", p.owner+"/"+p.repo, "number", number)
	return convert(pr), nil
}

func (p *PullRequests) fail(ctx context.Context, op string, resp *sdk.Response, err error) error {
	status := 0
	if resp != nil && resp.Response != nil {
		status = resp.StatusCode
	}
	err = wrap(op, p.secrets, status, err)
	p.log.DebugContext(ctx, "gitea: "+op, "repo", p.owner+"/"+p.repo, "error", err)
	return err
}

func convert(pr *sdk.PullRequest) *gitops.PullRequest {
	out := &gitops.PullRequest{Number: int(pr.Index), URL: pr.HTMLURL, Title: pr.Title, Body: pr.Body, State: gitops.PROpen}
	if pr.Head != nil {
		out.Head = pr.Head.Ref
	}
	if pr.Base != nil {
		out.Base = pr.Base.Ref
	}
	switch {
	case pr.HasMerged:
		out.State = gitops.PRMerged
		if pr.MergedCommitID != nil {
			out.MergeCommit = *pr.MergedCommitID
		}
	case pr.State == sdk.StateClosed:
		out.State = gitops.PRClosed
	}
	return out
}
