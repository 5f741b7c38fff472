package github

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v75/github"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
)

// maxTokenResponse bounds the answer to an installation token request (a
// token, its expiry, permissions and at most a page of repositories).
const maxTokenResponse = 1 << 20

// PullRequests implements [gitops.PullRequests] for one GitHub repository.
// It is safe for concurrent use.
type PullRequests struct {
	client      *gh.Client
	owner, repo string
	secrets     *redact.Set
	log         *slog.Logger
	maxPages    int
}

var _ gitops.PullRequests = (*PullRequests)(nil)

// New returns the pull requests of the repository owner/repo. It does no
// I/O. It fails with an error matching [gitops.ErrInvalid] on an empty
// owner or repo, an invalid or conflicting option, or an App key that does
// not parse.
func New(owner, repo string, opts ...Option) (*PullRequests, error) {
	if owner == "" || repo == "" || strings.Contains(owner+repo, "/") {
		return nil, invalid("owner and repository are required, without slashes")
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	secrets := &redact.Set{}
	creds := o.Auth(secrets)
	if o.app != nil {
		if creds, err = appCredentials(o, secrets); err != nil {
			return nil, err
		}
	}
	hc, _, err := httpx.New(httpx.Config{
		Client: o.HTTPClient, Origin: o.baseURL.String(), Credentials: creds, Secrets: secrets,
		Retry: o.Retry, Idempotent: idempotent, Logger: o.Logger, Prefix: "github",
		MaxResponseSize: o.MaxResponse, ReadOnlyElsewhere: true,
	})
	if err != nil {
		return nil, invalid("base URL")
	}
	c := gh.NewClient(hc)
	c.BaseURL = o.baseURL
	return &PullRequests{
		client: c, owner: owner, repo: repo, secrets: secrets,
		log: redact.Logger(o.Logger, secrets), maxPages: o.MaxPages,
	}, nil
}

// appCredentials returns installation tokens from ghinstallation, the
// established GitHub App token source: it signs the App's JWT, exchanges
// it at the API's origin for an installation token, caches it and renews
// it a minute before it expires. Its token requests go through httpx, so
// they are size-capped, logged redacted, and its JWT joins the redaction
// set; ghinstallation sends them with RoundTrip, following no redirect.
// The token itself is added by httpx to requests to the API's origin only
// (ghinstallation's own RoundTripper would add it to any host a redirect
// leads to).
func appCredentials(o *options, secrets *redact.Set) (httpx.CredentialsFunc, error) {
	tc, _, err := httpx.New(httpx.Config{
		Client: o.HTTPClient, Origin: o.baseURL.String(), Secrets: secrets,
		Logger: o.Logger, Prefix: "github", MaxResponseSize: maxTokenResponse, ReadOnlyElsewhere: true,
	})
	if err != nil {
		return nil, invalid("base URL")
	}
	itr, err := ghinstallation.New(tc.Transport, o.app.appID, o.app.installationID, o.app.key)
	if err != nil {
		return nil, invalid("App private key does not parse as an RSA key")
	}
	itr.BaseURL = strings.TrimSuffix(o.baseURL.String(), "/")
	itr.Client = &http.Client{Transport: tc.Transport, CheckRedirect: tc.CheckRedirect}
	return func(ctx context.Context, _ string) (httpx.Credentials, error) {
		tok, err := itr.Token(ctx)
		if err != nil {
			return httpx.Credentials{}, err
		}
		return httpx.Credentials{Token: tok}, nil
	}, nil
}

// idempotent: reads, and PATCH, which the provider only uses to set a
// body to a fixed value.
func idempotent(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodPatch
}

// FindOpen returns the open pull request from head (a branch of this
// repository, never of a fork) into base. It follows at most
// [WithMaxPages] pages. Errors: [gitops.ErrNotFound] when none is open;
// otherwise see [PullRequests.Get].
func (p *PullRequests) FindOpen(ctx context.Context, head, base string) (*gitops.PullRequest, error) {
	const op = "list pull requests"
	opt := &gh.PullRequestListOptions{State: "open", Head: p.owner + ":" + head, Base: base, ListOptions: gh.ListOptions{PerPage: 100}}
	for page := 1; ; page++ {
		if page > p.maxPages {
			return nil, fmt.Errorf("github: %s: %w", op, &gitops.LimitError{Limit: "pages", Max: int64(p.maxPages)})
		}
		list, resp, err := p.client.PullRequests.List(ctx, p.owner, p.repo, opt)
		if err != nil {
			return nil, p.fail(ctx, op, err)
		}
		p.log.DebugContext(ctx, "github: "+op, "repo", p.owner+"/"+p.repo, "page", page, "pulls", len(list))
		for _, pr := range list {
			if pr.GetHead().GetRef() == head && pr.GetBase().GetRef() == base && pr.GetState() == "open" && p.own(pr) {
				return convert(pr), nil
			}
		}
		if resp.NextPage == 0 {
			return nil, fmt.Errorf("github: open pull request from %q into %q: %w", head, base, gitops.ErrNotFound)
		}
		opt.Page = resp.NextPage
	}
}

// own reports whether pr's head branch is in this repository, not in a
// fork whose branch has the same name.
func (p *PullRequests) own(pr *gh.PullRequest) bool {
	headRepo, baseRepo := pr.GetHead().GetRepo(), pr.GetBase().GetRepo()
	if headRepo.GetID() != 0 && baseRepo.GetID() != 0 {
		return headRepo.GetID() == baseRepo.GetID()
	}
	return strings.EqualFold(headRepo.GetFullName(), p.owner+"/"+p.repo)
}

// Create opens a pull request. It is not retried: a retry could open two.
// Errors: see [PullRequests.Get]; a pull request that already exists is a
// 422 [*Error] matching [gitops.ErrInvalid].
func (p *PullRequests) Create(ctx context.Context, n gitops.NewPullRequest) (*gitops.PullRequest, error) {
	pr, _, err := p.client.PullRequests.Create(ctx, p.owner, p.repo, &gh.NewPullRequest{
		Title: gh.Ptr(n.Title), Head: gh.Ptr(n.Head), Base: gh.Ptr(n.Base), Body: gh.Ptr(n.Body),
	})
	if err != nil {
		return nil, p.fail(ctx, "create pull request", err)
	}
	p.log.DebugContext(ctx, "github: create pull request", "repo", p.owner+"/"+p.repo, "number", pr.GetNumber())
	return convert(pr), nil
}

// UpdateBody replaces the body of pull request number. Errors: see
// [PullRequests.Get].
func (p *PullRequests) UpdateBody(ctx context.Context, number int, body string) (*gitops.PullRequest, error) {
	pr, _, err := p.client.PullRequests.Edit(ctx, p.owner, p.repo, number, &gh.PullRequest{Body: gh.Ptr(body)})
	if err != nil {
		return nil, p.fail(ctx, fmt.Sprintf("edit pull request #%d", number), err)
	}
	p.log.DebugContext(ctx, "github: edit pull request", "repo", p.owner+"/"+p.repo, "number", number)
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
	pr, _, err := p.client.PullRequests.Get(ctx, p.owner, p.repo, number)
	if err != nil {
		return nil, p.fail(ctx, fmt.Sprintf("get pull request #%d", number), err)
	}
	p.log.DebugContext(ctx, "github: get pull request", "repo", p.owner+"/"+p.repo, "number", number)
	return convert(pr), nil
}

func (p *PullRequests) fail(ctx context.Context, op string, err error) error {
	err = wrap(op, p.secrets, err)
	p.log.DebugContext(ctx, "github: "+op, "repo", p.owner+"/"+p.repo, "error", err)
	return err
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
