package freight

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

// faultPlan draws faults from a seeded source: about a third of requests
// are delayed, answered with an error status or cut at a random offset.
type faultPlan struct {
	mu  sync.Mutex
	rng *rand.Rand
	n   int // faults injected
}

func (p *faultPlan) draw() (delay time.Duration, status int, retryAfter string, cut int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rng.IntN(3) != 0 {
		return 0, 0, "", 0
	}
	p.n++
	switch p.rng.IntN(4) {
	case 0:
		return time.Duration(p.rng.IntN(20)) * time.Millisecond, 0, "", 0
	case 1:
		codes := []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusInternalServerError, http.StatusBadRequest}
		return 0, codes[p.rng.IntN(len(codes))], "0", 0
	default:
		return 0, 0, "", 1 + p.rng.Int64N(2000)
	}
}

// typed reports whether err is one of the outcomes the package promises.
func typed(err error) bool {
	for _, target := range []error{ErrUnavailable, ErrRejected, ErrNotFound, ErrUnauthorized, context.DeadlineExceeded} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// TestFaultInjection runs 240 seeded operations (history fetches, tag
// listings, digest lookups, whole discoveries) against servers that delay,
// fail and cut a third of their answers. Each ends with the correct result
// or a typed error, within its deadline, and never leaks the credential.
func TestFaultInjection(t *testing.T) {
	t.Parallel()
	const secret = "fault-suite-secret"
	w := newWorld(t, 12)
	reg := registrytest.New(t, registrytest.WithBasicAuth("robot", secret))
	ctx := context.Background()
	digests := map[string]string{}
	for i, id := range w.commits[1:8] {
		d, err := reg.PushIndex(ctx, "app", "git-"+id, registrytest.IndexOptions{Revision: id, Seed: int64(i)})
		require.NoError(t, err)
		digests[id] = d
		_, err = reg.PushImage(ctx, "app", "git-"+id+"-amd64", int64(i))
		require.NoError(t, err)
	}
	wantTags := 14

	plan := &faultPlan{rng: rand.New(rand.NewPCG(20261127, 3))}
	w.git.SetFault(func(gittest.Request) *gittest.Fault {
		d, s, ra, c := plan.draw()
		return &gittest.Fault{Delay: d, Status: s, RetryAfter: ra, CutAfter: c}
	})
	reg.SetFault(func(registrytest.Request) *registrytest.Fault {
		d, s, ra, c := plan.draw()
		return &registrytest.Fault{Delay: d, Status: s, RetryAfter: ra, CutAfter: c}
	})

	var logs logBuffer
	opts := []Option{fastRetries, WithLogger(logs.Logger())}
	git, err := NewGitSource(w.git.RepoURL("monorepo.git"), "main", append(opts, WithLimit(12))...)
	require.NoError(t, err)
	img, err := NewImageSource(reg.Repo("app"), append(opts, WithBasicAuth("robot", secret), WithPageSize(4))...)
	require.NoError(t, err)
	wh, err := NewWarehouse("codeai", git, []ImageLister{img}, WithLogger(logs.Logger()))
	require.NoError(t, err)

	var mu sync.Mutex
	outcomes := map[string]int{}
	kinds := []string{"history", "tags", "resolve", "discover"}
	t.Run("operations", func(t *testing.T) {
		for k, kind := range kinds {
			t.Run(kind, func(t *testing.T) {
				t.Parallel()
				for i := range 60 {
					opCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
					start := time.Now()
					err := faultedOp(opCtx, t, k, i, git, img, wh, w.commits, digests, wantTags)
					cancel()
					assert.Less(t, time.Since(start), 6*time.Second, "%s %d overran its deadline", kind, i)
					mu.Lock()
					if err != nil {
						assert.True(t, typed(err), "%s %d: untyped error %v", kind, i, err)
						assert.NotContains(t, err.Error(), secret)
						outcomes["error"]++
					} else {
						outcomes["ok"]++
					}
					mu.Unlock()
				}
			})
		}
	})
	t.Logf("faults injected: %d; outcomes: %v", plan.n, outcomes)
	assert.GreaterOrEqual(t, plan.n, 200)
	assert.Positive(t, outcomes["ok"])
	assert.NotContains(t, logs.String(), secret)
	assert.False(t, strings.Contains(logs.String(), "robot:"), "no user info in logged URLs")
}

// faultedOp runs operation i of kind k and checks its result when it
// succeeds.
func faultedOp(ctx context.Context, t *testing.T, k, i int, git *GitSource, img *ImageSource, wh *Warehouse,
	commits []string, digests map[string]string, wantTags int) error {
	switch k {
	case 0:
		h, err := git.History(ctx)
		if err == nil {
			assert.Equal(t, commits, ids(h.Commits))
		}
		return err
	case 1:
		tags, err := img.Tags(ctx)
		if err == nil {
			assert.Len(t, tags, wantTags)
		}
		return err
	case 2:
		id := commits[1+i%7]
		got, err := img.Resolve(ctx, "git-"+id)
		if err == nil {
			assert.Equal(t, digests[id], got.Digest)
		}
		return err
	default:
		d, err := wh.Discover(ctx)
		if err == nil {
			assert.Equal(t, commits[1:8], freightIDs(d.Freight))
		}
		return err
	}
}
