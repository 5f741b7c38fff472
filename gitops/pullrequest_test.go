package gitops_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/railyard-gitops/railyard/gitops"
)

// memPRs is an in-memory forge for the unit tests of Propose and
// WaitForMerge; the real-forge tests live in gitops/gitea (a real Gitea)
// and gitops/github (GitHub's REST endpoints on httptest).
type memPRs struct {
	mu      sync.Mutex
	prs     []*gitops.PullRequest
	creates int
	updates int
	gets    int
	// onGet, when set, may change the pull request before Get returns it.
	onGet func(n int, pr *gitops.PullRequest) error
}

func (m *memPRs) FindOpen(_ context.Context, head, base string) (*gitops.PullRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, pr := range m.prs {
		if pr.Head == head && pr.Base == base && pr.State == gitops.PROpen {
			cp := *pr
			return &cp, nil
		}
	}
	return nil, fmt.Errorf("%s into %s: %w", head, base, gitops.ErrNotFound)
}

func (m *memPRs) Create(_ context.Context, n gitops.NewPullRequest) (*gitops.PullRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creates++
	pr := &gitops.PullRequest{Number: len(m.prs) + 1, Title: n.Title, Body: n.Body, Head: n.Head, Base: n.Base, State: gitops.PROpen,
		URL: fmt.Sprintf("https://forge.invalid/pulls/%d", len(m.prs)+1)}
	m.prs = append(m.prs, pr)
	cp := *pr
	return &cp, nil
}

func (m *memPRs) UpdateBody(_ context.Context, number int, body string) (*gitops.PullRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.updates++
	pr := m.prs[number-1]
	pr.Body = body
	cp := *pr
	return &cp, nil
}

func (m *memPRs) Get(_ context.Context, number int) (*gitops.PullRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	if number < 1 || number > len(m.prs) {
		return nil, gitops.ErrNotFound
	}
	pr := m.prs[number-1]
	if m.onGet != nil {
		if err := m.onGet(m.gets, pr); err != nil {
			return nil, err
		}
	}
	cp := *pr
	return &cp, nil
}
