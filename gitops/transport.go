package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"

	"github.com/railyard-gitops/railyard/internal/gitwire"
)

// errRejected marks a push the server refused for the ref: the lease (the
// expected old tip) no longer held.
var errRejected = errors.New("push rejected")

// remoteError wraps a failed exchange with the server; it records whether
// another attempt can help and how long the server asked to wait.
type remoteError struct {
	op         string
	err        error
	permanent  bool
	retryAfter time.Duration
}

func (e *remoteError) Error() string { return e.op + ": " + e.err.Error() }
func (e *remoteError) Unwrap() error { return e.err }

// Is makes remote errors a retry may heal match [ErrUnavailable].
func (e *remoteError) Is(target error) bool { return target == ErrUnavailable && !e.permanent }

// Retryable reports whether another attempt may help.
func (e *remoteError) Retryable() bool { return !e.permanent }

// classify maps what the git client reported to gitops's errors, with
// secrets redacted (gitwire masks every secret it knows; the Repo's own
// are masked again here).
func (r *op) classify(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var e *gitwire.Error
	if !errors.As(err, &e) {
		return &remoteError{op: what, err: errors.New(r.redact(err.Error()))}
	}
	detail := e.Op
	if e.Msg != "" {
		detail += ": " + r.redact(e.Msg)
	}
	permanent := func(sentinel error) error {
		if sentinel == nil {
			return &remoteError{op: what, err: errors.New(detail), permanent: true}
		}
		return &remoteError{op: what, err: fmt.Errorf("%w: %s", sentinel, detail), permanent: true}
	}
	switch e.Kind {
	case gitwire.KindInvalid:
		return permanent(ErrInvalid)
	case gitwire.KindAuth:
		return permanent(ErrUnauthorized)
	case gitwire.KindNotFound:
		return permanent(ErrRepositoryNotFound)
	case gitwire.KindUnsafe:
		return permanent(ErrUnsafeContent)
	case gitwire.KindLimit:
		var le *gitwire.LimitError
		if errors.As(err, &le) {
			return &LimitError{Limit: le.Limit, Max: le.Max}
		}
		return permanent(ErrLimitExceeded)
	case gitwire.KindRefused, gitwire.KindNotOurRef, gitwire.KindFilterRefused:
		var rej *gitwire.RejectedError
		if errors.As(err, &rej) {
			return fmt.Errorf("%w: %s", errRejected, r.redact(rej.Error()))
		}
		return permanent(nil)
	}
	// Unavailable, or a corrupt answer: another attempt may do better.
	return &remoteError{op: what, err: errors.New(detail), retryAfter: e.RetryAfter}
}

// pushSession opens a receive-pack conversation and reads its
// advertisement: the tips of refs and the push capabilities. Reading the
// tips from receive-pack lets the push reuse the advertisement.
func (r *op) pushSession(ctx context.Context, refs ...string) (*gitwire.PushSession, *gitwire.Advertisement, error) {
	start := time.Now()
	names := make([]string, len(refs))
	for i, b := range refs {
		names[i] = plumbing.NewBranchReferenceName(b).String()
	}
	ps, err := r.wire.OpenPush(ctx, gitwire.AdvertiseRequest{Refs: names}, nil)
	r.opts.logger.DebugContext(ctx, "gitops: list refs", "url", r.url, "duration", time.Since(start), "error", r.errText(err))
	if err != nil {
		return nil, nil, r.classify(ctx, "list refs", err)
	}
	caps := ps.Caps()
	r.pushCaps.Store(&caps)
	return ps, ps.Advertisement(), nil
}

// fetchTip fetches commit want with depth 1 into ws: the commit and its
// trees, without blobs when the server filters them (and with them when it
// does not, or refuses the filter). The objects land in a temporary store
// on disk; ws reads them from there.
func (r *op) fetchTip(ctx context.Context, want plumbing.Hash, ws *workspace) error {
	start := time.Now()
	adv, err := r.wire.Advertise(ctx, gitwire.UploadPack, gitwire.AdvertiseRequest{})
	if err != nil {
		return r.classify(ctx, "list refs for fetch", err)
	}
	st, err := gitwire.NewTempStore(r.opts.tempDir)
	if err != nil {
		return r.classify(ctx, "create object store", err)
	}
	base := newSharedStore(st)
	req := gitwire.FetchRequest{Wants: []plumbing.Hash{want}, Depth: 1}
	filtered := adv.Caps.Supports("filter")
	if filtered {
		req.Filter = "blob:none"
	}
	res, err := r.wire.Fetch(ctx, adv.Caps, req, st)
	if gitwire.KindOf(err) == gitwire.KindFilterRefused {
		filtered, req.Filter = false, ""
		res, err = r.wire.Fetch(ctx, adv.Caps, req, st)
	}
	if err != nil {
		base.release()
		return r.classify(ctx, "fetch "+want.String(), err)
	}
	ws.setBase(base)
	base.release() // ws holds it now
	if err := ws.learnRemote(res.Objects); err != nil {
		return err
	}
	r.opts.logger.DebugContext(ctx, "gitops: fetched tip", "url", r.url, "commit", want.String(),
		"blobless", filtered, "objects", len(res.Objects), "duration", time.Since(start))
	return nil
}

// push sends the objects written in ws and moves branch from old (zero: the
// branch must not exist) to new. receive-pack checks old under the ref lock,
// so a push whose lease no longer holds fails with errRejected and changes
// nothing; new always descends from old, so it is never a force push.
func (r *op) push(ctx context.Context, ps *gitwire.PushSession, ws *workspace, branch string, old, new plumbing.Hash) error {
	start := time.Now()
	var pack bytes.Buffer
	if _, err := packfile.NewEncoder(&pack, ws.st, false).Encode(ws.added, 0); err != nil {
		return fmt.Errorf("gitops: encode pack: %w", err)
	}
	size := pack.Len()
	err := ps.Push(ctx, []gitwire.RefUpdate{{Name: plumbing.NewBranchReferenceName(branch).String(), Old: old, New: new}}, pack.Bytes())
	r.opts.logger.DebugContext(ctx, "gitops: push", "url", r.url, "branch", branch,
		"objects", len(ws.added), "bytes", size, "duration", time.Since(start), "error", r.errText(err))
	if err != nil {
		return r.classify(ctx, "push "+branch, err)
	}
	return nil
}
