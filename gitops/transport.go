package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// errRejected marks a push the server refused for the ref: the lease (the
// expected old tip) no longer held.
var errRejected = errors.New("push rejected")

// remoteError wraps a transport failure; it records whether another
// attempt can help and how long the server asked to wait.
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

// permanentErrors maps the go-git errors after which no retry can help to
// railyard's sentinels.
var permanentErrors = []struct{ from, to error }{
	{transport.ErrAuthenticationRequired, ErrUnauthorized},
	{transport.ErrAuthorizationFailed, ErrUnauthorized},
	{transport.ErrInvalidAuthMethod, ErrUnauthorized},
	{transport.ErrRepositoryNotFound, ErrRepositoryNotFound},
}

// classify wraps err from a git round trip, with secrets redacted.
func (r *Repo) classify(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	re := &remoteError{op: op, err: errors.New(r.redact(err.Error()))}
	for _, p := range permanentErrors {
		if errors.Is(err, p.from) {
			re.permanent = true
			re.err = fmt.Errorf("%w: %s", p.to, r.redact(err.Error()))
		}
	}
	var he *githttp.Err
	if ue, ok := err.(*plumbing.UnexpectedError); ok { // it has no Unwrap
		err = ue.Err
	}
	if errors.As(err, &he) && he.Response != nil {
		code := he.Response.StatusCode
		re.permanent = code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
		if s, err := strconv.Atoi(he.Response.Header.Get("Retry-After")); err == nil && s > 0 {
			re.retryAfter = time.Duration(s) * time.Second
		}
	}
	return re
}

// pushSession opens a receive-pack session and reads its advertisement:
// the remote's branches and its push capabilities. Reading the tips from
// receive-pack lets the push reuse the advertisement.
func (r *Repo) pushSession(ctx context.Context) (transport.ReceivePackSession, *packp.AdvRefs, error) {
	start := time.Now()
	sess, err := r.tr.NewReceivePackSession(r.ep, r.auth)
	if err != nil {
		return nil, nil, r.classify(ctx, "open receive-pack session", err)
	}
	adv, err := sess.AdvertisedReferencesContext(ctx)
	r.opts.logger.DebugContext(ctx, "gitops: list refs", "url", r.url, "duration", time.Since(start), "error", r.errText(err))
	if err != nil {
		_ = sess.Close()
		return nil, nil, r.classify(ctx, "list refs", err)
	}
	r.pushCaps.Store(adv.Capabilities)
	return sess, adv, nil
}

// fetchTip fetches commit want with depth 1 into ws: the commit and its
// trees, without blobs when the server supports the blob:none filter, with
// them otherwise.
func (r *Repo) fetchTip(ctx context.Context, want plumbing.Hash, ws *workspace) error {
	start := time.Now()
	sess, err := r.tr.NewUploadPackSession(r.ep, r.auth)
	if err != nil {
		return r.classify(ctx, "open upload-pack session", err)
	}
	defer sess.Close()
	adv, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return r.classify(ctx, "list refs for fetch", err)
	}
	caps := adv.Capabilities
	req := packp.NewUploadPackRequestFromCapabilities(caps)
	req.Wants = []plumbing.Hash{want}
	req.Depth = packp.DepthCommits(1)
	if err := req.Capabilities.Set(capability.Shallow); err != nil {
		return err
	}
	if caps.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return err
		}
	}
	filtered := caps.Supports(capability.Filter)
	if filtered {
		if err := req.Capabilities.Set(capability.Filter); err != nil {
			return err
		}
		req.Filter = packp.FilterBlobNone()
	}
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		return r.classify(ctx, "fetch "+want.String(), err)
	}
	defer resp.Close()
	var pack io.Reader = resp
	switch {
	case req.Capabilities.Supports(capability.Sideband64k):
		pack = sideband.NewDemuxer(sideband.Sideband64k, resp)
	case req.Capabilities.Supports(capability.Sideband):
		pack = sideband.NewDemuxer(sideband.Sideband, resp)
	}
	if err := packfile.UpdateObjectStorage(ws.st, pack); err != nil {
		return r.classify(ctx, "read pack for "+want.String(), err)
	}
	if err := ws.learnRemote(); err != nil {
		return &remoteError{op: "index fetched objects", err: err}
	}
	r.opts.logger.DebugContext(ctx, "gitops: fetched tip", "url", r.url, "commit", want.String(),
		"blobless", filtered, "objects", len(ws.known), "duration", time.Since(start))
	return nil
}

// push sends the objects written in ws and moves branch from old (zero: the
// branch must not exist) to new. receive-pack checks old under the ref lock,
// so a push whose lease no longer holds fails with errRejected and changes
// nothing; new always descends from old, so it is never a force push.
func (r *Repo) push(ctx context.Context, sess transport.ReceivePackSession, caps *capability.List, ws *workspace, branch string, old, new plumbing.Hash) error {
	start := time.Now()
	var pack bytes.Buffer
	if _, err := packfile.NewEncoder(&pack, ws.st, false).Encode(ws.added, 0); err != nil {
		return fmt.Errorf("gitops: encode pack: %w", err)
	}
	size := pack.Len()
	req := packp.NewReferenceUpdateRequestFromCapabilities(caps)
	req.Commands = []*packp.Command{{Name: plumbing.NewBranchReferenceName(branch), Old: old, New: new}}
	req.Packfile = io.NopCloser(&pack)
	report, err := sess.ReceivePack(ctx, req)
	r.opts.logger.DebugContext(ctx, "gitops: push", "url", r.url, "branch", branch,
		"objects", len(ws.added), "bytes", size, "duration", time.Since(start), "error", r.errText(err))
	if err != nil && report != nil && report.UnpackStatus == "ok" {
		return fmt.Errorf("%w: %s", errRejected, r.redact(err.Error()))
	}
	if err != nil {
		return r.classify(ctx, "push "+branch, err)
	}
	if report == nil {
		return &remoteError{op: "push " + branch, err: errors.New("no status report from the server")}
	}
	return nil
}
