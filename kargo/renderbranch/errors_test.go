package renderbranch_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/github"
	"github.com/railyard-gitops/railyard/kargo/renderbranch"
	"github.com/railyard-gitops/railyard/render"
	"github.com/railyard-gitops/railyard/sparse"
)

type knows struct{ retryable bool }

func (k knows) Error() string   { return "knows" }
func (k knows) Retryable() bool { return k.retryable }

// IsRetryable: an error that knows answers (railyard's shared error model,
// every package's sentinels included).
func TestIsRetryable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("renderbranch: step: %w", err) }
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"nil":                   {nil, false},
		"invalid config":        {renderbranch.ErrInvalidConfig, false},
		"closed":                {renderbranch.ErrClosed, false},
		"knows yes":             {wrap(knows{true}), true},
		"knows no":              {wrap(knows{false}), false},
		"deadline":              {wrap(context.DeadlineExceeded), true},
		"canceled":              {wrap(context.Canceled), false},
		"gitops unauthorized":   {wrap(gitops.ErrUnauthorized), false},
		"gitops missing repo":   {wrap(gitops.ErrRepositoryNotFound), false},
		"gitops unavailable":    {wrap(gitops.ErrUnavailable), true},
		"gitops limit":          {wrap(gitops.ErrLimitExceeded), false},
		"gitops unsafe":         {wrap(gitops.ErrUnsafeContent), false},
		"gitops conflict":       {wrap(&gitops.ConflictError{Branch: "stage/test", Attempts: 8, Err: errors.New("lease")}), true},
		"gitops bad branch":     {wrap(&gitops.BranchError{Name: "-x", Reason: "option"}), false},
		"sparse unavailable":    {wrap(fmt.Errorf("fetch: %w: connection reset", sparse.ErrUnavailable)), true},
		"sparse unauthorized":   {wrap(fmt.Errorf("fetch: %w", sparse.ErrUnauthorized)), false},
		"sparse no repo":        {wrap(fmt.Errorf("fetch: %w", sparse.ErrNotFound)), false},
		"sparse limit":          {wrap(&sparse.LimitError{Limit: "transfer", Max: 1}), false},
		"sparse no commit":      {wrap(sparse.ErrCommitNotFound), false},
		"sparse corrupt":        {wrap(sparse.ErrCorrupt), true},
		"render kustomize":      {wrap(render.ErrKustomize), false},
		"render invalid":        {wrap(render.ErrInvalid), false},
		"render limit":          {wrap(render.ErrLimitExceeded), false},
		"freight unavailable":   {wrap(freight.ErrUnavailable), true},
		"freight unauthorized":  {wrap(freight.ErrUnauthorized), false},
		"github 503":            {wrap(&github.Error{Op: "get pull request", StatusCode: 503}), true},
		"github 401":            {wrap(&github.Error{Op: "get pull request", StatusCode: 401}), false},
		"github 404":            {wrap(&github.Error{Op: "get pull request", StatusCode: 404}), false},
		"unknown":               {errors.New("?"), false},
		"closed matches gitops": {renderbranch.ErrClosed, false},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, renderbranch.IsRetryable(tc.err))
		})
	}
}

func TestNewRejectsNilOptions(t *testing.T) {
	for name, opt := range map[string]renderbranch.Option{
		"client":  renderbranch.WithHTTPClient(nil),
		"creds":   renderbranch.WithCredentials(nil),
		"forge":   renderbranch.WithPullRequests(nil),
		"locker":  renderbranch.WithLocker(nil),
		"logger":  renderbranch.WithLogger(nil),
		"author":  renderbranch.WithAuthor("", "a@b.c"),
		"address": renderbranch.WithAuthor("A", "not an address"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := renderbranch.New(opt)
			assert.ErrorIs(t, err, renderbranch.ErrInvalidConfig)
		})
	}
	_, err := renderbranch.New(nil)
	assert.NoError(t, err, "a nil Option is ignored")
}
