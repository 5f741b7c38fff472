package gitops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// HeadBranch returns the branch [Repo.Propose] pushes c to for a pull
// request into target: c.Branch when set, else
// "railyard/<target>/<Freight ID>", or, without a Freight ID,
// "railyard/<target>/tree-<id of the rendered Dir tree>". The same render
// for the same target always gets the same branch.
func (r *Repo) HeadBranch(c Change, target string) (string, error) {
	if c.Branch != "" {
		return c.Branch, ValidateBranch(c.Branch)
	}
	key := ""
	if c.Provenance != nil {
		key = c.Provenance.FreightID
	}
	if key == "" {
		c.Branch = target // satisfies validation; the branch is not used
		if err := c.validate(r.opts.provenanceFile); err != nil {
			return "", err
		}
		h, err := newWorkspace().filesTree(c.files(r.opts.provenanceFile))
		if err != nil {
			return "", err
		}
		key = "tree-" + h.String()
	}
	head := "railyard/" + target + "/" + key
	if err := ValidateBranch(head); err != nil {
		return "", fmt.Errorf("gitops: %w: no valid head branch for target %q and Freight ID %q", ErrInvalidChange, target, key)
	}
	return head, nil
}

// Propose offers c for review: it pushes c to a head branch (see
// [Repo.HeadBranch]) started from target's tip, and opens a pull request
// from it into target through prs, or reuses the open one for the same
// head and updates its body. The body shows the provenance and the change
// summary: c.Summary when set, else the files added, removed and modified
// in c.Dir. The title is the commit message's first line. c.Base is
// ignored: the head always starts from target. Calls for the same head
// through one Repo are serialized.
//
// When target already holds the rendered tree, Propose pushes nothing,
// opens nothing and returns [ErrUpToDate]; a pull request still open for
// the head (e.g. one made obsolete by a manual change) is left as it is.
//
// Errors: those of [Repo.Commit], [ErrUpToDate], and errors from prs.
func (r *Repo) Propose(ctx context.Context, c Change, target string, prs PullRequests) (*PullRequest, error) {
	if err := ValidateBranch(target); err != nil {
		return nil, err
	}
	if prs == nil {
		return nil, fmt.Errorf("gitops: %w: nil PullRequests", ErrInvalidChange)
	}
	head, err := r.HeadBranch(c, target)
	if err != nil {
		return nil, err
	}
	if head == target {
		return nil, fmt.Errorf("gitops: %w: head branch %q is the target itself", ErrInvalidChange, head)
	}
	c.Branch, c.Base = head, target
	if err := c.validate(r.opts.provenanceFile); err != nil {
		return nil, err
	}
	// One Propose per head at a time through r, so that two callers do not
	// both find no pull request and open two. (The key cannot clash with a
	// branch name: those hold no NUL.)
	unlock, err := r.lock(ctx, "\x00propose "+head)
	if err != nil {
		return nil, err
	}
	defer unlock()
	files, err := r.compare(ctx, &c, target)
	if err != nil {
		return nil, err
	}
	if _, err := r.Commit(ctx, c); err != nil {
		return nil, err
	}
	body := prBody(&c, target, files)
	pr, err := prs.FindOpen(ctx, head, target)
	switch {
	case err == nil:
		if pr.Body != body {
			if pr, err = prs.UpdateBody(ctx, pr.Number, body); err != nil {
				return nil, fmt.Errorf("gitops: update pull request body: %w", err)
			}
		}
		r.opts.logger.InfoContext(ctx, "gitops: pull request reused", "number", pr.Number, "url", pr.URL, "head", head, "base", target)
		return pr, nil
	case !errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("gitops: find pull request: %w", err)
	}
	msg, err := r.renderMessage(&c)
	if err != nil {
		return nil, err
	}
	title, _, _ := strings.Cut(msg, "\n")
	pr, err = prs.Create(ctx, NewPullRequest{Title: title, Body: body, Head: head, Base: target})
	if err != nil {
		// Another process may have opened it since FindOpen: reuse it.
		existing, ferr := prs.FindOpen(ctx, head, target)
		if ferr != nil {
			return nil, fmt.Errorf("gitops: open pull request: %w", err)
		}
		if existing.Body != body {
			if existing, err = prs.UpdateBody(ctx, existing.Number, body); err != nil {
				return nil, fmt.Errorf("gitops: update pull request body: %w", err)
			}
		}
		r.opts.logger.InfoContext(ctx, "gitops: pull request reused", "number", existing.Number, "url", existing.URL, "head", head, "base", target)
		return existing, nil
	}
	r.opts.logger.InfoContext(ctx, "gitops: pull request opened", "number", pr.Number, "url", pr.URL, "head", head, "base", target)
	return pr, nil
}

// compare applies c to target's tip in memory and returns the file-level
// changes, or ErrUpToDate when there are none.
func (r *Repo) compare(ctx context.Context, c *Change, target string) ([]FileChange, error) {
	var files []FileChange
	o, err := r.newOp()
	if err != nil {
		return nil, err
	}
	_, err = r.retry(ctx, target, func(*plumbing.Hash) (Result, error) {
		ps, adv, err := o.pushSession(ctx, target)
		if err != nil {
			return Result{}, err
		}
		defer ps.Close()
		b, ws, err := o.loadBase(ctx, adv.Refs, target, "")
		if err != nil {
			return Result{}, err
		}
		defer ws.release()
		if b.tip.IsZero() {
			return Result{}, fmt.Errorf("gitops: %w: target %q does not exist", ErrBaseNotFound, target)
		}
		root, changes, err := r.apply(c, ws, b.tree)
		if err != nil {
			return Result{}, err
		}
		if root == b.tree {
			return Result{}, ErrUpToDate
		}
		files = changes
		return Result{}, nil
	})
	return files, err
}
