package kargo

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/xeipuuv/gojsonschema"

	kargoapi "github.com/akuity/kargo/api/v1alpha1"
	"github.com/akuity/kargo/pkg/credentials"
	"github.com/akuity/kargo/pkg/logging"
	"github.com/akuity/kargo/pkg/promotion"

	"github.com/railyard-gitops/railyard/kargo/renderbranch"
)

// StepKind is the name Promotions use for the step ("uses:").
//
// Its configuration is a [renderbranch.Config] (JSON schema:
// schemas/railyard-render-branch-config.json in this module), validated
// before any I/O; an invalid one fails the step at once. Its output is
// [renderbranch.Output.Map]: branch, targetBranch, commit, changed,
// objects, policyCommit and, for a review deployment, pr {id, url, open,
// merged} — the names Kargo's git-push, git-open-pr and git-wait-for-pr
// use, so ${{ outputs.render.commit }} and ${{ outputs.render.pr.url }}
// work as they do for those steps.
//
// A review deployment's step is Running while its pull request is open
// (with RetryAfter = pollInterval) and Succeeded once it is merged; Kargo
// reconciles it again, and the step then only asks the forge about the
// pull request its previous run opened (found in the Promotion's shared
// state under the step's alias), without rendering again.
const StepKind = "railyard-render-branch"

// DefaultErrorThreshold is how many consecutive retryable failures Kargo
// tolerates before it fails the step, unless the Promotion's step sets
// retry.errorThreshold.
const DefaultErrorThreshold = 3

//go:embed schemas/railyard-render-branch-config.json
var schemaFS embed.FS

var schemaLoader = sync.OnceValue(func() gojsonschema.JSONLoader {
	return gojsonschema.NewReferenceLoaderFileSystem("file:///schemas/"+StepKind+"-config.json", http.FS(schemaFS))
})

// Option configures the step runner.
type Option interface{ apply(*stepOptions) error }

type stepOptions struct {
	runner []renderbranch.Option
}

type optionFunc func(*stepOptions) error

func (f optionFunc) apply(o *stepOptions) error { return f(o) }

// WithRunnerOptions passes options to every [renderbranch.Runner] the step
// makes: an HTTP client (proxies, CAs), a forge (WithPullRequests), a
// logger. Credentials and the author are the step's own business (Kargo's
// credentials database and git user), so renderbranch.WithCredentials and
// renderbranch.WithAuthor given here are overridden. The default is none.
func WithRunnerOptions(opts ...renderbranch.Option) Option {
	return optionFunc(func(o *stepOptions) error {
		o.runner = append(o.runner, opts...)
		return nil
	})
}

// NewStepRunner returns the railyard-render-branch step runner with the
// capabilities Kargo grants it (credentials database, git user). It is the
// factory Register registers; tests and custom registries may call it
// directly.
func NewStepRunner(caps promotion.StepRunnerCapabilities, opts ...Option) (promotion.StepRunner, error) {
	o := &stepOptions{}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(o); err != nil {
			return nil, err
		}
	}
	// Validate the runner options once, here, rather than at every run.
	if _, err := renderbranch.New(o.runner...); err != nil {
		return nil, err
	}
	return &stepRunner{caps: caps, opts: o}, nil
}

type stepRunner struct {
	caps promotion.StepRunnerCapabilities
	opts *stepOptions
}

// Run implements promotion.StepRunner.
func (s *stepRunner) Run(ctx context.Context, stepCtx *promotion.StepContext) (promotion.StepResult, error) {
	cfg, err := convert(stepCtx.Config)
	if err != nil {
		return promotion.StepResult{Status: kargoapi.PromotionStepStatusFailed}, &promotion.TerminalError{Err: err}
	}
	runner, err := s.runner(ctx, stepCtx.Project)
	if err != nil {
		return failure(err)
	}
	var out renderbranch.Output
	if prev, ok := previousOutput(stepCtx); cfg.Review && ok && prev.Waiting() {
		out, err = runner.CheckMerge(ctx, cfg, prev)
	} else {
		out, err = runner.Run(ctx, cfg)
	}
	if err != nil {
		return failure(err)
	}
	res := promotion.StepResult{Status: kargoapi.PromotionStepStatusSucceeded, Output: out.Map()}
	if out.Waiting() {
		wait := pollInterval(cfg)
		res.Status, res.RetryAfter = kargoapi.PromotionStepStatusRunning, &wait
	}
	return res, nil
}

// convert validates the configuration against the step's JSON schema, as
// Kargo's built-in steps do, then decodes and validates it.
func convert(cfg promotion.Config) (renderbranch.Config, error) {
	result, err := gojsonschema.Validate(schemaLoader(), gojsonschema.NewGoLoader(cfg))
	if err != nil {
		return renderbranch.Config{}, fmt.Errorf("%w: %s: could not validate config: %v", renderbranch.ErrInvalidConfig, StepKind, err)
	}
	if !result.Valid() {
		var problems []string
		for _, e := range result.Errors() {
			// Field and rule only: a value could be a pasted secret.
			problems = append(problems, e.Field()+": "+e.Type())
		}
		return renderbranch.Config{}, fmt.Errorf("%w: %s: %s", renderbranch.ErrInvalidConfig, StepKind, strings.Join(problems, "; "))
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return renderbranch.Config{}, fmt.Errorf("%w: %s: %v", renderbranch.ErrInvalidConfig, StepKind, err)
	}
	return renderbranch.ParseConfig(b)
}

// runner makes the Runner for one run: credentials from Kargo's database
// for the Promotion's project, the author from Kargo's git user.
func (s *stepRunner) runner(ctx context.Context, project string) (*renderbranch.Runner, error) {
	opts := append([]renderbranch.Option{
		renderbranch.WithLogger(slog.New(logr.ToSlogHandler(logging.LoggerFromContext(ctx).Logr()))),
		renderbranch.WithLocker(KustomizeLocker()),
	}, s.opts.runner...)
	if db := s.caps.CredsDB; db != nil {
		opts = append(opts, renderbranch.WithCredentials(func(ctx context.Context, repoURL string) (renderbranch.Credentials, error) {
			c, err := db.Get(ctx, project, credentials.TypeGit, repoURL)
			if err != nil || c == nil {
				return renderbranch.Credentials{}, err
			}
			return renderbranch.Credentials{Username: c.Username, Password: c.Password}, nil
		}))
	}
	if r := s.caps.GitUserResolver; r != nil {
		u, err := r.Resolve(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: resolve the git user: %w", StepKind, err)
		}
		if u.Name != "" && u.Email != "" {
			opts = append(opts, renderbranch.WithAuthor(u.Name, u.Email))
		}
	}
	return renderbranch.New(opts...)
}

// previousOutput returns the output this step's previous run in the same
// Promotion left: Kargo keeps a step's output in the Promotion's shared
// state under the step's alias across reconciles (after a round trip
// through the Promotion's status, numbers are float64).
func previousOutput(stepCtx *promotion.StepContext) (renderbranch.Output, bool) {
	prev, _ := stepCtx.SharedState.Get(stepCtx.Alias)
	m, _ := prev.(map[string]any)
	return renderbranch.OutputFromMap(m)
}

func pollInterval(cfg renderbranch.Config) time.Duration {
	if d, err := time.ParseDuration(cfg.PollInterval); err == nil && cfg.PollInterval != "" {
		return d
	}
	return renderbranch.DefaultPollInterval
}

// failure maps a run's error to Kargo: retryable errors are returned as
// they are (Kargo retries up to the error threshold), the others as a
// TerminalError. A pull request closed without merge is a Failed step, as
// for git-wait-for-pr; anything else is Errored.
func failure(err error) (promotion.StepResult, error) {
	if renderbranch.IsRetryable(err) {
		return promotion.StepResult{Status: kargoapi.PromotionStepStatusErrored}, err
	}
	status := kargoapi.PromotionStepStatusErrored
	if errors.Is(err, renderbranch.ErrClosed) || errors.Is(err, renderbranch.ErrInvalidConfig) {
		status = kargoapi.PromotionStepStatusFailed
	}
	return promotion.StepResult{Status: status}, &promotion.TerminalError{Err: err}
}
