package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/internal/forgehttp"
)

// pageSize is the page size for listing open pull requests.
const pageSize = 50

// PullRequests implements [gitops.PullRequests] for one Gitea repository.
// It is safe for concurrent use.
type PullRequests struct {
	baseURL     string
	owner, repo string
	hc          *http.Client
	opts        *options
}

var _ gitops.PullRequests = (*PullRequests)(nil)

// New returns the pull requests of owner/repo on the Gitea at baseURL
// (e.g. "https://gitea.example.com/"). It does no I/O; it fails on a bad
// URL, an empty owner or repo and invalid options.
func New(baseURL, owner, repo string, opts ...Option) (*PullRequests, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, errors.New("gitea: base URL must be an http(s) URL without credentials")
	}
	if owner == "" || repo == "" {
		return nil, errors.New("gitea: owner and repository are required")
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{}
	if o.httpClient != nil {
		copied := *o.httpClient
		hc = &copied
	}
	hc.Transport = forgehttp.Retrying(hc.Transport, o.retry)
	return &PullRequests{baseURL: strings.TrimSuffix(u.String(), "/"), owner: owner, repo: repo, hc: hc, opts: o}, nil
}

// client returns an SDK client bound to ctx; it does no I/O (the server
// version check is skipped).
func (p *PullRequests) client(ctx context.Context) (*sdk.Client, error) {
	opts := []sdk.ClientOption{sdk.SetHTTPClient(p.hc), sdk.SetContext(ctx), sdk.SetGiteaVersion("")}
	if p.opts.token != "" {
		opts = append(opts, sdk.SetToken(p.opts.token))
	}
	return sdk.NewClient(p.baseURL, opts...)
}

// FindOpen returns the open pull request from head into base, or an error
// matching [gitops.ErrNotFound].
func (p *PullRequests) FindOpen(ctx context.Context, head, base string) (*gitops.PullRequest, error) {
	c, err := p.client(ctx)
	if err != nil {
		return nil, p.wrap("list pull requests", nil, err)
	}
	for page := 1; ; page++ {
		list, resp, err := c.ListRepoPullRequests(p.owner, p.repo, sdk.ListPullRequestsOptions{
			ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize}, State: sdk.StateOpen,
		})
		p.log(ctx, "list pull requests", err)
		if err != nil {
			return nil, p.wrap("list pull requests", resp, err)
		}
		for _, pr := range list {
			if pr.Head != nil && pr.Base != nil && pr.Head.Ref == head && pr.Base.Ref == base && pr.State == sdk.StateOpen &&
				pr.Head.RepoID == pr.Base.RepoID { // not from a fork
				return convert(pr), nil
			}
		}
		if len(list) == 0 { // a server may cap pages below pageSize
			return nil, fmt.Errorf("gitea: open pull request from %q into %q: %w", head, base, gitops.ErrNotFound)
		}
	}
}

// Create opens a pull request. It is not retried: a retry could open two.
func (p *PullRequests) Create(ctx context.Context, n gitops.NewPullRequest) (*gitops.PullRequest, error) {
	c, err := p.client(ctx)
	if err != nil {
		return nil, p.wrap("create pull request", nil, err)
	}
	pr, resp, err := c.CreatePullRequest(p.owner, p.repo, sdk.CreatePullRequestOption{Head: n.Head, Base: n.Base, Title: n.Title, Body: n.Body})
	p.log(ctx, "create pull request", err)
	if err != nil {
		return nil, p.wrap("create pull request", resp, err)
	}
	return convert(pr), nil
}

// UpdateBody replaces the body of pull request number.
func (p *PullRequests) UpdateBody(ctx context.Context, number int, body string) (*gitops.PullRequest, error) {
	c, err := p.client(ctx)
	if err != nil {
		return nil, p.wrap("edit pull request", nil, err)
	}
	pr, resp, err := c.EditPullRequest(p.owner, p.repo, int64(number), sdk.EditPullRequestOption{Body: &body})
	p.log(ctx, "edit pull request", err)
	if err != nil {
		return nil, p.wrap(fmt.Sprintf("edit pull request #%d", number), resp, err)
	}
	return convert(pr), nil
}

// Get returns pull request number, or an error matching
// [gitops.ErrNotFound].
func (p *PullRequests) Get(ctx context.Context, number int) (*gitops.PullRequest, error) {
	c, err := p.client(ctx)
	if err != nil {
		return nil, p.wrap("get pull request", nil, err)
	}
	pr, resp, err := c.GetPullRequest(p.owner, p.repo, int64(number))
	p.log(ctx, "get pull request", err)
	if err != nil {
		return nil, p.wrap(fmt.Sprintf("get pull request #%d", number), resp, err)
	}
	return convert(pr), nil
}

func (p *PullRequests) log(ctx context.Context, op string, err error) {
	msg := ""
	if err != nil {
		msg = p.redact(err.Error())
	}
	p.opts.logger.DebugContext(ctx, "gitea: "+op, "repo", p.owner+"/"+p.repo, "error", msg)
}

// redact removes the token from s: a server may echo it.
func (p *PullRequests) redact(s string) string { return forgehttp.Redact(s, p.opts.token) }

// wrap maps the SDK's errors to railyard's: 404 to gitops.ErrNotFound,
// other refusals to *Error.
func (p *PullRequests) wrap(op string, resp *sdk.Response, err error) error {
	if resp != nil && resp.Response != nil && resp.StatusCode >= 400 {
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("gitea: %s: %w", op, gitops.ErrNotFound)
		}
		return &Error{Op: op, StatusCode: resp.StatusCode, Message: p.redact(err.Error())}
	}
	return fmt.Errorf("gitea: %s: %w", op, forgehttp.Redacted(err, p.redact))
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
