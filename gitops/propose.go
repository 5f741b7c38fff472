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

// Proposal reports what [Repo.Propose] did. Like [Result], Changed false
// means there was nothing to do.
type Proposal struct {
	// Head is the branch the render was pushed to (see [Repo.HeadBranch]);
	// Target the branch the pull request merges into.
	Head, Target string
	// Changed is false when Target already holds the render: then nothing
	// was pushed and no pull request was opened or updated.
	Changed bool
	// Commit is Head's tip after the call ("" when !Changed).
	Commit string
	// Files lists the file-level differences between Target and the render
	// inside Change.Dir, in path order, the provenance file included.
	Files []FileChange
	// PullRequest is the open pull request from Head into Target, nil when
	// !Changed. Opened tells whether this call opened it (false: an open one
	// was reused, its body updated when it differed).
	PullRequest *PullRequest
	Opened      bool
	// TargetCreated is true when Target did not exist and Propose created
	// it (see [WithCreateTarget]).
	TargetCreated bool
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
// opens nothing and returns a Proposal with Changed false; a pull request
// still open for the head (e.g. one made obsolete by a manual change) is
// left as it is. A missing target is an error matching [ErrBaseNotFound],
// unless the Repo was made [WithCreateTarget]: then Propose first creates
// it as an empty orphan commit, so that the pull request carries the whole
// render.
//
// Errors: those of [Repo.Commit], and errors from prs (the providers'
// errors match gitops's sentinels; see [IsRetryable]).
func (r *Repo) Propose(ctx context.Context, c Change, target string, prs PullRequests) (Proposal, error) {
	if err := ValidateBranch(target); err != nil {
		return Proposal{}, err
	}
	if prs == nil {
		return Proposal{}, fmt.Errorf("gitops: %w: nil PullRequests", ErrInvalidChange)
	}
	head, err := r.HeadBranch(c, target)
	if err != nil {
		return Proposal{}, err
	}
	if head == target {
		return Proposal{}, fmt.Errorf("gitops: %w: head branch %q is the target itself", ErrInvalidChange, head)
	}
	c.Branch, c.Base = head, target
	if err := c.validate(r.opts.provenanceFile); err != nil {
		return Proposal{}, err
	}
	// One Propose per head at a time through r, so that two callers do not
	// both find no pull request and open two. (The key cannot clash with a
	// branch name: those hold no NUL.)
	unlock, err := r.lock(ctx, "\x00propose "+head)
	if err != nil {
		return Proposal{}, err
	}
	defer unlock()
	p := Proposal{Head: head, Target: target}
	changed, files, err := r.compare(ctx, &c, target)
	if errors.Is(err, ErrBaseNotFound) && r.opts.createTarget {
		if err = r.createTarget(ctx, target); err == nil {
			p.TargetCreated = true
			changed, files, err = r.compare(ctx, &c, target)
		}
	}
	if err != nil || !changed {
		return p, err
	}
	res, err := r.Commit(ctx, c)
	if err != nil {
		return p, err
	}
	p.Changed, p.Commit, p.Files = true, res.Commit, files
	body := prBody(&c, target, files)
	pr, err := prs.FindOpen(ctx, head, target)
	switch {
	case err == nil:
		if p.PullRequest, err = r.reuse(ctx, prs, pr, body); err != nil {
			return p, err
		}
		return p, nil
	case !errors.Is(err, ErrNotFound):
		return p, fmt.Errorf("gitops: find pull request: %w", err)
	}
	msg, err := r.renderMessage(&c)
	if err != nil {
		return p, err
	}
	title, _, _ := strings.Cut(msg, "\n")
	pr, err = prs.Create(ctx, NewPullRequest{Title: title, Body: body, Head: head, Base: target})
	if err != nil {
		// Another process may have opened it since FindOpen: reuse it.
		existing, ferr := prs.FindOpen(ctx, head, target)
		if ferr != nil {
			return p, fmt.Errorf("gitops: open pull request: %w", err)
		}
		if p.PullRequest, err = r.reuse(ctx, prs, existing, body); err != nil {
			return p, err
		}
		return p, nil
	}
	r.opts.logger.InfoContext(ctx, "gitops: pull request opened", "number", pr.Number, "url", pr.URL, "head", head, "base", target)
	p.PullRequest, p.Opened = pr, true
	return p, nil
}

// reuse brings an open pull request's body up to date.
func (r *Repo) reuse(ctx context.Context, prs PullRequests, pr *PullRequest, body string) (*PullRequest, error) {
	if pr.Body != body {
		updated, err := prs.UpdateBody(ctx, pr.Number, body)
		if err != nil {
			return nil, fmt.Errorf("gitops: update pull request body: %w", err)
		}
		pr = updated
	}
	r.opts.logger.InfoContext(ctx, "gitops: pull request reused", "number", pr.Number, "url", pr.URL, "head", pr.Head, "base", pr.Base)
	return pr, nil
}

// createTarget creates a missing review target as an orphan commit of the
// empty tree. A concurrent creator wins harmlessly: the lease makes the
// second push a no-op.
func (r *Repo) createTarget(ctx context.Context, target string) error {
	_, err := r.Commit(ctx, Change{
		Branch: target, Dir: Root, Delete: true,
		Message: "Create " + target + " for review",
	})
	if err == nil {
		r.opts.logger.InfoContext(ctx, "gitops: review target created", "url", r.url, "branch", target)
	}
	return err
}

// compare applies c to target's tip in memory and reports whether that
// changes the tree, and the file-level changes.
func (r *Repo) compare(ctx context.Context, c *Change, target string) (bool, []FileChange, error) {
	var files []FileChange
	changed := false
	o, err := r.newOp()
	if err != nil {
		return false, nil, err
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
		changed, files = root != b.tree, changes
		return Result{}, nil
	})
	return changed, files, err
}
