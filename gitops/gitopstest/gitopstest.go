package gitopstest

import (
	"context"
	"fmt"
	"sync"

	"github.com/railyard-gitops/railyard/gitops"
)

// PullRequests is an in-memory gitops.PullRequests. It is safe for
// concurrent use; the zero value is ready to use and reports URLs under
// "https://forge.test/pull/".
type PullRequests struct {
	// WebURL is the base of the pull requests' URLs; "" means
	// "https://forge.test".
	WebURL string
	// Fail, when set, is called before every operation ("FindOpen",
	// "Create", "UpdateBody", "Get") with the pull request number (0 for
	// FindOpen and Create); a non-nil error is returned instead of doing
	// it. Use it to inject transient (gitops.ErrUnavailable) or permanent
	// failures.
	Fail func(op string, number int) error

	mu    sync.Mutex
	prs   []gitops.PullRequest
	calls map[string]int
}

var _ gitops.PullRequests = (*PullRequests)(nil)

func (p *PullRequests) enter(op string, number int) error {
	p.mu.Lock()
	if p.calls == nil {
		p.calls = map[string]int{}
	}
	p.calls[op]++
	fail := p.Fail
	p.mu.Unlock()
	if fail != nil {
		return fail(op, number)
	}
	return nil
}

// FindOpen returns the open pull request from head into base, or an error
// matching gitops.ErrNotFound.
func (p *PullRequests) FindOpen(_ context.Context, head, base string) (*gitops.PullRequest, error) {
	if err := p.enter("FindOpen", 0); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.prs {
		if pr.Head == head && pr.Base == base && pr.State == gitops.PROpen {
			return &pr, nil
		}
	}
	return nil, fmt.Errorf("gitopstest: no open pull request from %s into %s: %w", head, base, gitops.ErrNotFound)
}

// Create opens a pull request. Like GitHub and Gitea, it refuses a second
// open pull request for the same head and base.
func (p *PullRequests) Create(_ context.Context, n gitops.NewPullRequest) (*gitops.PullRequest, error) {
	if err := p.enter("Create", 0); err != nil {
		return nil, err
	}
	if n.Head == "" || n.Base == "" || n.Head == n.Base {
		return nil, fmt.Errorf("gitopstest: head %q and base %q: %w", n.Head, n.Base, gitops.ErrInvalid)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.prs {
		if pr.Head == n.Head && pr.Base == n.Base && pr.State == gitops.PROpen {
			return nil, fmt.Errorf("gitopstest: a pull request from %s into %s is already open (#%d)", n.Head, n.Base, pr.Number)
		}
	}
	web := p.WebURL
	if web == "" {
		web = "https://forge.test"
	}
	pr := gitops.PullRequest{
		Number: len(p.prs) + 1, Title: n.Title, Body: n.Body, Head: n.Head, Base: n.Base, State: gitops.PROpen,
	}
	pr.URL = fmt.Sprintf("%s/pull/%d", web, pr.Number)
	p.prs = append(p.prs, pr)
	return &pr, nil
}

// UpdateBody replaces the body of pull request number.
func (p *PullRequests) UpdateBody(_ context.Context, number int, body string) (*gitops.PullRequest, error) {
	if err := p.enter("UpdateBody", number); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pr, err := p.find(number)
	if err != nil {
		return nil, err
	}
	pr.Body = body
	c := *pr
	return &c, nil
}

// Get returns pull request number, or an error matching gitops.ErrNotFound.
func (p *PullRequests) Get(_ context.Context, number int) (*gitops.PullRequest, error) {
	if err := p.enter("Get", number); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pr, err := p.find(number)
	if err != nil {
		return nil, err
	}
	c := *pr
	return &c, nil
}

// Merge marks open pull request number merged as mergeCommit, as a
// reviewer merging it on the forge would.
func (p *PullRequests) Merge(number int, mergeCommit string) error {
	return p.close(number, gitops.PRMerged, mergeCommit)
}

// Close closes open pull request number without merging it.
func (p *PullRequests) Close(number int) error { return p.close(number, gitops.PRClosed, "") }

func (p *PullRequests) close(number int, state gitops.PRState, commit string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr, err := p.find(number)
	if err != nil {
		return err
	}
	if pr.State != gitops.PROpen {
		return fmt.Errorf("gitopstest: pull request #%d is %s", number, pr.State)
	}
	pr.State, pr.MergeCommit = state, commit
	return nil
}

// All returns a copy of every pull request, in number order.
func (p *PullRequests) All() []gitops.PullRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]gitops.PullRequest(nil), p.prs...)
}

// Calls returns how many times op ("FindOpen", "Create", "UpdateBody",
// "Get") was called, failed calls included.
func (p *PullRequests) Calls(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[op]
}

func (p *PullRequests) find(number int) (*gitops.PullRequest, error) {
	if number < 1 || number > len(p.prs) {
		return nil, fmt.Errorf("gitopstest: pull request #%d: %w", number, gitops.ErrNotFound)
	}
	return &p.prs[number-1], nil
}
