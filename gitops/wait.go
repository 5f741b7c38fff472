package gitops

import (
	"context"
	"errors"
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
			return fmt.Errorf("gitops: poll interval %v..%v: need 0 < min <= max", min, max)
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
			return errors.New("gitops: nil logger")
		}
		o.logger = l
		return nil
	})
}

// WaitForMerge polls pr through prs until it is merged, and returns the
// merge commit's id. It returns a *[ClosedError] (matching [ErrClosed]) when
// the pull request is closed without merge, ctx's error when ctx is done
// first, and the error of prs.Get when a poll fails (implementations retry
// transient failures themselves).
func WaitForMerge(ctx context.Context, prs PullRequests, pr *PullRequest, opts ...WaitOption) (mergeCommit string, err error) {
	o := &waitOptions{min: 5 * time.Second, max: time.Minute, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt == nil {
			return "", errors.New("gitops: nil wait option")
		}
		if err := opt.applyWait(o); err != nil {
			return "", err
		}
	}
	if prs == nil || pr == nil {
		return "", fmt.Errorf("gitops: %w: WaitForMerge needs a PullRequests and a PullRequest", ErrInvalidChange)
	}
	wait := o.min
	for {
		cur, err := prs.Get(ctx, pr.Number)
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", fmt.Errorf("gitops: poll pull request #%d: %w", pr.Number, err)
		}
		o.logger.DebugContext(ctx, "gitops: polled pull request", "number", cur.Number, "state", cur.State)
		switch {
		case cur.State == PRMerged && cur.MergeCommit != "":
			o.logger.InfoContext(ctx, "gitops: pull request merged", "number", cur.Number, "url", cur.URL, "commit", cur.MergeCommit)
			return cur.MergeCommit, nil
		case cur.State == PRClosed:
			return "", &ClosedError{Number: cur.Number, URL: cur.URL}
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
