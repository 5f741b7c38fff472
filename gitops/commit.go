package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/railyard-gitops/railyard/internal/gitwire"
)

// Result reports what [Repo.Commit] did.
type Result struct {
	Branch string
	// Commit is the branch tip after the call: the new commit, or the
	// existing tip when nothing changed.
	Commit string
	// Changed is false when the branch already held the change; then
	// nothing was pushed.
	Changed bool
	// Attempts counts the read-apply-push rounds, 1 without races.
	Attempts int
	// Files lists the file-level differences inside Change.Dir between the
	// previous tip (or Base, or nothing) and Commit, in path order; the
	// provenance file is included.
	Files []FileChange
}

// Commit writes c to its branch: it fetches the tip's commit and trees (no
// blobs where the server supports filters), replaces c.Dir wholly with
// c.Files, and when that changes the tree, commits on top of the tip and
// pushes with a lease on the tip. A missing branch is created from c.Base,
// or as an orphan when c.Base is "".
//
// When the push loses a race (the tip moved) or fails transiently, Commit
// re-reads the tip and applies c again on top of it, up to [WithRetries]
// times with backoff; if the new tip already holds the change, the result is
// a no-op success. It never force-pushes and never drops another writer's
// commit. Calls for the same branch through one Repo are serialized.
//
// A Repo that pushed (or read) the branch's tip before first pushes on that
// tip directly, without reading the refs; if the lease fails, it reads the
// new tip and goes on as above.
//
// Errors: *[BranchError] and *[PathError] for bad input, [ErrInvalidChange],
// [ErrBaseNotFound], [ErrPathConflict] (a retry cannot help); a
// *[ConflictError] when every attempt lost a race; errors matching
// [ErrUnavailable] when the server kept failing (a later retry may help);
// [ErrUnauthorized] or [ErrRepositoryNotFound] (it cannot); ctx's error.
func (r *Repo) Commit(ctx context.Context, c Change) (Result, error) {
	if err := c.validate(r.opts.provenanceFile); err != nil {
		return Result{}, err
	}
	msg, err := r.renderMessage(&c)
	if err != nil {
		return Result{}, err
	}
	unlock, err := r.lock(ctx, c.Branch)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	o, err := r.newOp()
	if err != nil {
		return Result{}, err
	}
	first := true
	res, err := r.retry(ctx, c.Branch, func(pushed *plumbing.Hash) (Result, error) {
		defer func() { first = false }()
		return o.attempt(ctx, &c, msg, pushed, first)
	})
	if err == nil && res.Changed {
		r.opts.logger.InfoContext(ctx, "gitops: commit pushed", "url", r.url, "branch", c.Branch,
			"commit", res.Commit, "attempts", res.Attempts)
	}
	return res, err
}

// retry runs attempt until it succeeds, fails permanently or the attempts
// run out. pushed carries the commit of the last push whose outcome is
// unknown, so that a later attempt can recognise it on the tip.
func (r *Repo) retry(ctx context.Context, branch string, attempt func(pushed *plumbing.Hash) (Result, error)) (Result, error) {
	var pushed plumbing.Hash
	for n := 1; ; n++ {
		res, err := attempt(&pushed)
		res.Attempts = n
		if err == nil {
			return res, nil
		}
		var re *remoteError
		rejected := errors.Is(err, errRejected)
		if !rejected && !(errors.As(err, &re) && !re.permanent) {
			return Result{}, r.wrap(err)
		}
		if n > r.opts.retry.Retries {
			if rejected {
				return Result{}, &ConflictError{Branch: branch, Attempts: n, Err: err}
			}
			return Result{}, r.wrap(err)
		}
		wait := r.opts.retry.Backoff(n - 1)
		if re != nil && re.retryAfter > wait {
			wait = min(re.retryAfter, r.opts.retry.MaxWait)
		}
		r.opts.logger.DebugContext(ctx, "gitops: retrying", "branch", branch, "attempt", n, "wait", wait, "error", r.errText(err))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
}

// wrap prefixes errors that are not already railyard's own.
func (r *Repo) wrap(err error) error {
	if strings.HasPrefix(err.Error(), "gitops: ") || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("gitops: %s: %w", r.url, err)
}

// base is where an attempt starts: the branch tip, or what a missing branch
// will be created from (zero for an orphan).
type base struct {
	tip    plumbing.Hash // the branch tip; zero when the branch is missing
	parent plumbing.Hash // the new commit's parent
	tree   plumbing.Hash // parent's tree; zero for none
}

// readBase reads the remote's branches through a receive-pack session
// (returned for the push) and loads the commit and trees the change applies
// to into ws, from the snapshot cache or by a fetch. The caller releases ws.
func (r *op) readBase(ctx context.Context, branch, baseBranch string) (base, *workspace, *gitwire.PushSession, error) {
	refs := []string{branch}
	if baseBranch != "" {
		refs = append(refs, baseBranch)
	}
	ps, adv, err := r.pushSession(ctx, refs...)
	if err != nil {
		return base{}, nil, nil, err
	}
	b, ws, err := r.loadBase(ctx, adv.Refs, branch, baseBranch)
	if err != nil {
		ps.Close()
		return base{}, nil, nil, err
	}
	return b, ws, ps, nil
}

// loadBase resolves branch (or baseBranch) in refs and loads its commit
// and trees. The caller releases ws.
func (r *op) loadBase(ctx context.Context, refs map[string]plumbing.Hash, branch, baseBranch string) (base, *workspace, error) {
	b := base{tip: refs[plumbing.NewBranchReferenceName(branch).String()]}
	b.parent = b.tip
	if b.parent.IsZero() && baseBranch != "" {
		if b.parent = refs[plumbing.NewBranchReferenceName(baseBranch).String()]; b.parent.IsZero() {
			return base{}, nil, fmt.Errorf("gitops: %w: neither %q nor %q exists", ErrBaseNotFound, branch, baseBranch)
		}
	}
	if b.parent.IsZero() {
		return b, newWorkspace(), nil
	}
	ws := r.snapshots.workspace(b.parent)
	if ws == nil {
		ws = newWorkspace()
		if err := r.fetchTip(ctx, b.parent, ws); err != nil {
			ws.release()
			return base{}, nil, err
		}
	}
	tree, err := ws.commitTree(b.parent)
	if err != nil {
		ws.release()
		return base{}, nil, err
	}
	b.tree = tree
	r.snapshots.add(ws, b.parent)
	if !b.tip.IsZero() {
		r.snapshots.setHead(branch, b.tip)
	}
	return b, ws, nil
}

// apply writes c's files into ws and returns the new root tree and the
// file-level changes inside c.Dir.
func (r *Repo) apply(c *Change, ws *workspace, root plumbing.Hash) (plumbing.Hash, []FileChange, error) {
	sub, err := ws.filesTree(c.files(r.opts.provenanceFile))
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	path := c.dirPath()
	old, err := ws.subtree(root, path)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	files, err := ws.diff(old, sub, "", nil)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	if len(path) == 0 {
		if sub.IsZero() {
			sub, err = ws.tree(nil)
		}
		return sub, files, err
	}
	newRoot, err := ws.replace(root, path, sub)
	return newRoot, files, err
}

// attempt reads the tip, applies c on it and pushes. The first attempt
// first tries the tip this Repo last saw on the branch, without reading
// the remote's refs: the lease makes that safe, and a writer that is alone
// on its branch saves a round trip.
func (r *op) attempt(ctx context.Context, c *Change, msg string, pushed *plumbing.Hash, first bool) (Result, error) {
	if first {
		if res, done, err := r.optimistic(ctx, c, msg, pushed); done {
			return res, err
		}
	}
	b, ws, ps, err := r.readBase(ctx, c.Branch, c.Base)
	if err != nil {
		return Result{}, err
	}
	defer ws.release()
	defer ps.Close()
	if !pushed.IsZero() && b.tip == *pushed {
		// An earlier attempt's push landed although its answer was lost.
		return Result{Branch: c.Branch, Commit: b.tip.String(), Changed: true}, nil
	}
	return r.commitOn(ctx, c, msg, pushed, b, ws, ps)
}

// optimistic commits c on the branch tip this Repo last saw. It reports
// done=false when there is no such tip, when c changes nothing there (which
// only the remote's real tip can confirm), or when the lease failed.
func (r *op) optimistic(ctx context.Context, c *Change, msg string, pushed *plumbing.Hash) (Result, bool, error) {
	tip, ws := r.snapshots.head(c.Branch)
	if ws == nil {
		return Result{}, false, nil
	}
	defer ws.release()
	caps := r.pushCaps.Load()
	if caps == nil {
		return Result{}, false, nil
	}
	tree, err := ws.commitTree(tip)
	if err != nil {
		return Result{}, false, nil
	}
	ps, err := r.wire.OpenPush(ctx, gitwire.AdvertiseRequest{}, *caps)
	if err != nil {
		return Result{}, true, r.classify(ctx, "open receive-pack session", err)
	}
	defer ps.Close()
	res, err := r.commitOn(ctx, c, msg, pushed, base{tip: tip, parent: tip, tree: tree}, ws, ps)
	switch {
	case errors.Is(err, errRejected):
		*pushed = plumbing.ZeroHash // refused: it did not land
		return Result{}, false, nil
	case err == nil && !res.Changed:
		return Result{}, false, nil
	}
	return res, true, err
}

// commitOn applies c on b and, when that changes the tree, commits and
// pushes with a lease on b.tip.
func (r *op) commitOn(ctx context.Context, c *Change, msg string, pushed *plumbing.Hash, b base, ws *workspace, ps *gitwire.PushSession) (Result, error) {
	res := Result{Branch: c.Branch, Commit: b.tip.String()}
	root, files, err := r.apply(c, ws, b.tree)
	if err != nil {
		return Result{}, err
	}
	if !b.tip.IsZero() && root == b.tree {
		return res, nil
	}
	res.Files = files
	commit, err := r.writeCommit(ctx, ws, root, b.parent, msg)
	if err != nil {
		return Result{}, err
	}
	*pushed = commit
	if err := r.push(ctx, ps, ws, c.Branch, b.tip, commit); err != nil {
		return Result{}, err
	}
	r.snapshots.add(ws, commit)
	r.snapshots.setHead(c.Branch, commit)
	res.Commit, res.Changed = commit.String(), true
	return res, nil
}

// writeCommit writes a commit of tree on parent (zero: none), signed when a
// signer is configured.
func (r *Repo) writeCommit(ctx context.Context, ws *workspace, tree, parent plumbing.Hash, msg string) (plumbing.Hash, error) {
	now := r.opts.now()
	c := &object.Commit{
		Author:    object.Signature{Name: r.opts.author.Name, Email: r.opts.author.Email, When: now},
		Committer: object.Signature{Name: r.opts.committer.Name, Email: r.opts.committer.Email, When: now},
		Message:   msg,
		TreeHash:  tree,
	}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	if r.opts.signer != nil {
		unsigned := ws.st.NewEncodedObject()
		if err := c.EncodeWithoutSignature(unsigned); err != nil {
			return plumbing.ZeroHash, err
		}
		rd, err := unsigned.Reader()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		sig, err := r.opts.signer.Sign(ctx, rd)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("gitops: sign commit: %w", err)
		}
		c.PGPSignature = string(bytes.TrimRight(sig, "\n")) + "\n"
	}
	o := ws.st.NewEncodedObject()
	if err := c.Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return ws.put(o)
}
