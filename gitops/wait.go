package gitops

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// WaitOption configures [WaitForMerge].
type WaitOption interface {
	applyWait(*waitOptions) error
}

type waitOptionFunc func(*waitOptions) error

func (f waitOptionFunc) applyWait(o *waitOptions) error { return f(o) }

type waitOptions struct {
	min, max time.Duration
	logger   *slog.Logger
}

// WithPollInterval sets the delay between polls: it starts at min and
// doubles up to max, with jitter. The default is 5s to 1m.
func WithPollInterval(min, max time.Duration) WaitOption {
	return waitOptionFunc(func(o *waitOptions) error {
		if min <= 0 || max < min {
			return fmt.Errorf("gitops: %w: poll interval %v..%v: need 0 < min <= max", ErrInvalid, min, max)
		}
		o.min, o.max = min, max
		return nil
	})
}

// WithWaitLogger sets the logger for polls (Debug) and the outcome (one
// Info line). The default is to discard logs.
func WithWaitLogger(l *slog.Logger) WaitOption {
	return waitOptionFunc(func(o *waitOptions) error {
		if l == nil {
			return fmt.Errorf("gitops: %w: nil logger", ErrInvalid)
		}
		o.logger = l
		return nil
	})
}

// CheckMerge looks at pr once, without waiting: it returns ("", false, nil)
// while the pull request is open, (merge commit id, true, nil) once it is
// merged, and a *[ClosedError] (matching [ErrClosed]) when it was closed
// without merge. A failed lookup returns prs's error (the providers' errors
// match gitops's sentinels; [IsRetryable] tells whether to try again). It
// is what a controller reconciling a promotion calls on each pass, as
// Kargo's git-wait-for-pr step does.
func CheckMerge(ctx context.Context, prs PullRequests, pr *PullRequest) (mergeCommit string, merged bool, err error) {
	if prs == nil || pr == nil {
		return "", false, fmt.Errorf("gitops: %w: CheckMerge needs a PullRequests and a PullRequest", ErrInvalid)
	}
	cur, err := prs.Get(ctx, pr.Number)
	if err != nil {
		if ctx.Err() != nil {
			return "", false, ctx.Err()
		}
		return "", false, fmt.Errorf("gitops: get pull request #%d: %w", pr.Number, err)
	}
	switch {
	case cur.State == PRMerged && cur.MergeCommit != "":
		return cur.MergeCommit, true, nil
	case cur.State == PRClosed:
		return "", false, &ClosedError{Number: cur.Number, URL: cur.URL}
	}
	return "", false, nil
}

// WaitForMerge calls [CheckMerge] until pr is merged, and returns the merge
// commit's id; it is the blocking form for scripts and CI jobs. It returns
// a *[ClosedError] (matching [ErrClosed]) when the pull request is closed
// without merge, ctx's error when ctx is done first, and CheckMerge's error
// when a poll fails (implementations retry transient failures themselves).
func WaitForMerge(ctx context.Context, prs PullRequests, pr *PullRequest, opts ...WaitOption) (mergeCommit string, err error) {
	o := &waitOptions{min: 5 * time.Second, max: time.Minute, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.applyWait(o); err != nil {
			return "", err
		}
	}
	wait := o.min
	for {
		commit, merged, err := CheckMerge(ctx, prs, pr)
		if err != nil {
			return "", err
		}
		o.logger.DebugContext(ctx, "gitops: polled pull request", "number", pr.Number, "merged", merged)
		if merged {
			o.logger.InfoContext(ctx, "gitops: pull request merged", "number", pr.Number, "url", pr.URL, "commit", commit)
			return commit, nil
		}
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		}
		wait = min(2*wait, o.max)
	}
}
