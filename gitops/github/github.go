package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	gh "github.com/google/go-github/v75/github"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/internal/forgehttp"
)

// PullRequests implements [gitops.PullRequests] for one GitHub repository.
// It is safe for concurrent use.
type PullRequests struct {
	client      *gh.Client
	owner, repo string
	opts        *options
}

var _ gitops.PullRequests = (*PullRequests)(nil)

// New returns the pull requests of the repository owner/repo. It does no
// I/O; it fails on an empty owner or repo and on invalid options.
func New(owner, repo string, opts ...Option) (*PullRequests, error) {
	if owner == "" || repo == "" {
		return nil, errors.New("github: owner and repository are required")
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
	retrying := forgehttp.Retrying(hc.Transport, o.retry)
	hc.Transport = &authTransport{
		base: retrying, host: o.baseURL.Host, token: o.token, app: o.app,
		tokenClient: &http.Client{Transport: retrying, Timeout: time.Minute}, baseURL: o.baseURL,
	}
	c := gh.NewClient(hc)
	c.BaseURL = o.baseURL
	return &PullRequests{client: c, owner: owner, repo: repo, opts: o}, nil
}

// FindOpen returns the open pull request from head into base, or an error
// matching [gitops.ErrNotFound].
func (p *PullRequests) FindOpen(ctx context.Context, head, base string) (*gitops.PullRequest, error) {
	opt := &gh.PullRequestListOptions{State: "open", Head: p.owner + ":" + head, Base: base, ListOptions: gh.ListOptions{PerPage: 100}}
	list, _, err := p.client.PullRequests.List(ctx, p.owner, p.repo, opt)
	p.log(ctx, "list pull requests", err)
	if err != nil {
		return nil, p.wrap("list pull requests", err)
	}
	for _, pr := range list {
		if pr.GetHead().GetRef() == head && pr.GetBase().GetRef() == base && pr.GetState() == "open" {
			return convert(pr), nil
		}
	}
	return nil, fmt.Errorf("github: open pull request from %q into %q: %w", head, base, gitops.ErrNotFound)
}

// Create opens a pull request. It is not retried: a retry could open two.
func (p *PullRequests) Create(ctx context.Context, n gitops.NewPullRequest) (*gitops.PullRequest, error) {
	pr, _, err := p.client.PullRequests.Create(ctx, p.owner, p.repo, &gh.NewPullRequest{
		Title: gh.Ptr(n.Title), Head: gh.Ptr(n.Head), Base: gh.Ptr(n.Base), Body: gh.Ptr(n.Body),
	})
	p.log(ctx, "create pull request", err)
	if err != nil {
		return nil, p.wrap("create pull request", err)
	}
	return convert(pr), nil
}

// UpdateBody replaces the body of pull request number.
func (p *PullRequests) UpdateBody(ctx context.Context, number int, body string) (*gitops.PullRequest, error) {
	pr, _, err := p.client.PullRequests.Edit(ctx, p.owner, p.repo, number, &gh.PullRequest{Body: gh.Ptr(body)})
	p.log(ctx, "edit pull request", err)
	if err != nil {
		return nil, p.wrap("edit pull request", err)
	}
	return convert(pr), nil
}

// Get returns pull request number, or an error matching
// [gitops.ErrNotFound].
func (p *PullRequests) Get(ctx context.Context, number int) (*gitops.PullRequest, error) {
	pr, _, err := p.client.PullRequests.Get(ctx, p.owner, p.repo, number)
	p.log(ctx, "get pull request", err)
	if err != nil {
		return nil, p.wrap(fmt.Sprintf("get pull request #%d", number), err)
	}
	return convert(pr), nil
}

func (p *PullRequests) log(ctx context.Context, op string, err error) {
	msg := ""
	if err != nil {
		msg = p.redact(err.Error())
	}
	p.opts.logger.DebugContext(ctx, "github: "+op, "repo", p.owner+"/"+p.repo, "error", msg)
}

// redact removes the credentials in use from s: a server may echo them.
func (p *PullRequests) redact(s string) string {
	secrets := []string{p.opts.token}
	if p.opts.app != nil {
		secrets = append(secrets, p.opts.app.secrets()...)
	}
	return forgehttp.Redact(s, secrets...)
}

// wrap maps go-github's errors to railyard's: 404 to gitops.ErrNotFound,
// other refusals to *Error.
func (p *PullRequests) wrap(op string, err error) error {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		if er.Response.StatusCode == http.StatusNotFound {
			return fmt.Errorf("github: %s: %w", op, gitops.ErrNotFound)
		}
		return &Error{Op: op, StatusCode: er.Response.StatusCode, Message: p.redact(er.Message)}
	}
	var ge *Error
	if errors.As(err, &ge) {
		return ge
	}
	return fmt.Errorf("github: %s: %w", op, forgehttp.Redacted(err, p.redact))
}

func convert(pr *gh.PullRequest) *gitops.PullRequest {
	out := &gitops.PullRequest{
		Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Title: pr.GetTitle(), Body: pr.GetBody(),
		Head: pr.GetHead().GetRef(), Base: pr.GetBase().GetRef(), State: gitops.PROpen,
	}
	if pr.GetState() == "closed" {
		out.State = gitops.PRClosed
		if pr.GetMerged() || pr.MergedAt != nil {
			out.State, out.MergeCommit = gitops.PRMerged, pr.GetMergeCommitSHA()
		}
	}
	return out
}
