package renderbranch

// This file holds every use of railyard APIs that other engineers are
// changing while this integration is written, so that adapting to them is
// a change of this file only:
//
//   - render.WithLocker: Build will serialize its kustomize phase on the
//     caller's lock. Until then buildLocked holds the lock around the whole
//     Build (correct, only coarser).
//   - IsRetryable in every package: until every error of sparse, render,
//     gitops, freight and the forges answers Retryable(), classify sorts
//     today's sentinels.
//   - gitops.CheckMerge: until it exists, checkMerge asks PullRequests.Get.
//   - gitops.Repo.Propose: today "nothing to review" is ErrUpToDate and the
//     target branch must exist; propose and ensureTarget hide both.
//   - gitops.Change: a root marker for Dir "" and a delete intent for
//     empty Files are coming; this package never sends either (Dir is
//     always apps/<app>/deployments/<d>/deploy and an empty render is
//     refused before Commit), so only the Change literals may need a new
//     field.

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/gitops/github"
	"github.com/railyard-gitops/railyard/render"
	"github.com/railyard-gitops/railyard/sparse"
)

// buildLocked renders with l held, when l is set. With render.WithLocker
// this becomes render.Build(ctx, mounts, w, render.WithLocker(l)).
func buildLocked(ctx context.Context, l sync.Locker, mounts []render.Mount, w render.Wrapper) (*render.Result, error) {
	if l != nil {
		l.Lock()
		defer l.Unlock()
	}
	return render.Build(ctx, mounts, w)
}

// classify answers IsRetryable for errors without a Retryable method, from
// the sentinels the railyard packages export today.
func classify(err error) bool {
	var gh *github.Error
	var gt *gitea.Error
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, gitops.ErrAuth), errors.Is(err, gitops.ErrRepositoryNotFound):
		return false
	case errors.Is(err, gitops.ErrConflict), errors.Is(err, gitops.ErrTransport):
		return true
	case errors.Is(err, sparse.ErrTransfer):
		// sparse reports refused credentials and missing repositories as
		// ErrTransfer too; only its message tells them apart today.
		msg := err.Error()
		return !strings.Contains(msg, "authentication required or refused") && !strings.Contains(msg, "repository not found")
	case errors.Is(err, sparse.ErrCorrupt), errors.Is(err, render.ErrRead):
		return true
	case errors.Is(err, freight.ErrUnavailable):
		return true
	case errors.As(err, &gh):
		return retryableStatus(gh.StatusCode)
	case errors.As(err, &gt):
		return retryableStatus(gt.StatusCode)
	}
	return false
}

func retryableStatus(code int) bool {
	return code == 429 || code == 502 || code == 503 || code == 504 || code == 500
}

// checkMerge asks the forge once whether pull request number is merged:
// ("", false, nil) while it is open, (sha, true, nil) once merged, an
// error matching gitops.ErrClosed when it was closed unmerged. It becomes
// gitops.CheckMerge.
func checkMerge(ctx context.Context, prs gitops.PullRequests, number int) (pr *gitops.PullRequest, mergeCommit string, merged bool, err error) {
	pr, err = prs.Get(ctx, number)
	if err != nil {
		return nil, "", false, err
	}
	switch pr.State {
	case gitops.PRMerged:
		return pr, pr.MergeCommit, true, nil
	case gitops.PRClosed:
		return pr, "", false, &gitops.ClosedError{Number: pr.Number, URL: pr.URL}
	default:
		return pr, "", false, nil
	}
}

// propose offers c for review against target: the pull request, or
// upToDate when target already holds the render. It becomes one call of
// the new Propose, whose result says "nothing to review" without an error.
func propose(ctx context.Context, repo *gitops.Repo, c gitops.Change, target string, prs gitops.PullRequests) (pr *gitops.PullRequest, upToDate bool, err error) {
	pr, err = repo.Propose(ctx, c, target, prs)
	if errors.Is(err, gitops.ErrUpToDate) {
		return nil, true, nil
	}
	return pr, false, err
}

// ensureTarget creates the review target branch when it does not exist,
// with one commit holding only a note (Propose starts the head branch from
// the target's tip, so the target must exist). An existing branch is left
// untouched. It goes away once Propose can create the target itself.
func ensureTarget(ctx context.Context, repo *gitops.Repo, url, target string, opts []sparse.Option) error {
	_, err := sparse.Resolve(ctx, url, target, opts...)
	if !errors.Is(err, sparse.ErrRefNotFound) {
		return err
	}
	_, err = repo.Commit(ctx, gitops.Change{
		Branch:  target,
		Dir:     ".railyard",
		Files:   map[string][]byte{"README": []byte(target + " receives rendered manifests through pull requests.\n")},
		Message: "Create " + target,
	})
	return err
}
