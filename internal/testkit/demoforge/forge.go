// Package demoforge is the demo world's own forge: an in-process
// implementation of gitops.PullRequests over a bare GitOps repository on
// disk, whose Merge makes a real merge commit with the git CLI.
//
// It exists so that examples/promote can show the whole review flow —
// open, reuse, merge, wait — in seconds on a machine with only Go and git.
// It is not a model of any real forge's API; the real providers live in
// gitops/github and gitops/gitea and are tested against a real Gitea.
package demoforge

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// Forge holds the pull requests of one bare repository. It is safe for
// concurrent use.
type Forge struct {
	dir, webURL string

	mu  sync.Mutex
	prs []gitops.PullRequest
}

// New returns a forge for the bare repository at dir; webURL is the base of
// the pull requests' URLs.
func New(dir, webURL string) *Forge {
	return &Forge{dir: dir, webURL: strings.TrimSuffix(strings.TrimSuffix(webURL, "/"), ".git")}
}

var _ gitops.PullRequests = (*Forge)(nil)

// FindOpen returns the open pull request from head into base.
func (f *Forge) FindOpen(_ context.Context, head, base string) (*gitops.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.prs {
		pr := f.prs[i]
		if pr.Head == head && pr.Base == base && pr.State == gitops.PROpen {
			return &pr, nil
		}
	}
	return nil, fmt.Errorf("demoforge: no open pull request from %s into %s: %w", head, base, gitops.ErrNotFound)
}

// Create opens a pull request. The head branch must exist.
func (f *Forge) Create(_ context.Context, n gitops.NewPullRequest) (*gitops.PullRequest, error) {
	if _, err := gittest.Git(f.dir, "rev-parse", "--verify", "--quiet", "refs/heads/"+n.Head); err != nil {
		return nil, fmt.Errorf("demoforge: head branch %s does not exist", n.Head)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, pr := range f.prs {
		if pr.Head == n.Head && pr.Base == n.Base && pr.State == gitops.PROpen {
			return nil, fmt.Errorf("demoforge: a pull request from %s into %s is already open (#%d)", n.Head, n.Base, pr.Number)
		}
	}
	pr := gitops.PullRequest{
		Number: len(f.prs) + 1,
		Title:  n.Title,
		Body:   n.Body,
		Head:   n.Head,
		Base:   n.Base,
		State:  gitops.PROpen,
	}
	pr.URL = fmt.Sprintf("%s/pull/%d", f.webURL, pr.Number)
	f.prs = append(f.prs, pr)
	return &pr, nil
}

// UpdateBody replaces the body of pull request number.
func (f *Forge) UpdateBody(_ context.Context, number int, body string) (*gitops.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pr, err := f.get(number)
	if err != nil {
		return nil, err
	}
	pr.Body = body
	out := *pr
	return &out, nil
}

// Get returns pull request number.
func (f *Forge) Get(_ context.Context, number int) (*gitops.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pr, err := f.get(number)
	if err != nil {
		return nil, err
	}
	out := *pr
	return &out, nil
}

func (f *Forge) get(number int) (*gitops.PullRequest, error) {
	if number < 1 || number > len(f.prs) {
		return nil, fmt.Errorf("demoforge: pull request #%d: %w", number, gitops.ErrNotFound)
	}
	return &f.prs[number-1], nil
}

// Merge merges pull request number as a person would press the button: a
// real merge commit of head into base (always a merge commit, never a fast
// forward), the base ref moved only if it still points where the merge
// started. It returns the merge commit.
func (f *Forge) Merge(_ context.Context, number int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pr, err := f.get(number)
	if err != nil {
		return "", err
	}
	if pr.State != gitops.PROpen {
		return "", fmt.Errorf("demoforge: pull request #%d is %s", number, pr.State)
	}
	base, err := gittest.Git(f.dir, "rev-parse", "--verify", "refs/heads/"+pr.Base)
	if err != nil {
		return "", fmt.Errorf("demoforge: base %s: %w", pr.Base, err)
	}
	head, err := gittest.Git(f.dir, "rev-parse", "--verify", "refs/heads/"+pr.Head)
	if err != nil {
		return "", fmt.Errorf("demoforge: head %s: %w", pr.Head, err)
	}
	tree, err := gittest.Git(f.dir, "merge-tree", "--write-tree", base, head)
	if err != nil {
		return "", fmt.Errorf("demoforge: merge #%d conflicts: %w", number, err)
	}
	msg := fmt.Sprintf("Merge pull request #%d from %s\n\n%s", number, pr.Head, pr.Title)
	commit, err := gittest.Git(f.dir, "commit-tree", tree, "-p", base, "-p", head, "-m", msg)
	if err != nil {
		return "", err
	}
	if _, err := gittest.Git(f.dir, "update-ref", "refs/heads/"+pr.Base, commit, base); err != nil {
		return "", fmt.Errorf("demoforge: move %s: %w", pr.Base, err)
	}
	pr.State = gitops.PRMerged
	pr.MergeCommit = commit
	return commit, nil
}

// Close closes pull request number without merging it.
func (f *Forge) Close(_ context.Context, number int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	pr, err := f.get(number)
	if err != nil {
		return err
	}
	if pr.State != gitops.PROpen {
		return fmt.Errorf("demoforge: pull request #%d is %s", number, pr.State)
	}
	pr.State = gitops.PRClosed
	return nil
}
