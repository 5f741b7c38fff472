package gitops_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// A seeded run of 200 commits while the server misbehaves at random (three
// requests in four get an error status, an answer cut at a random offset
// or a delay: at least one fault per call on average; and now and then a
// server that stalls past the call's ctx): every call ends in a correct
// commit or a typed error within its ctx, and the branch only ever holds
// whole renders, without rewrites. Every other call repeats the previous
// render, as a re-run of the same promotion does.
func TestCommitUnderRandomFaults(t *testing.T) {
	t.Parallel()
	const ops = 200
	rem := newRemote(t)
	rem.seed(t, "stage/test", map[string]string{"README.md": "seed"})
	var (
		mu      sync.Mutex
		rng     = rand.New(rand.NewPCG(6, 8))
		faulted int
		stall   atomic.Bool // the current call gets a server that hangs
	)
	rem.srv.SetFault(func(gittest.Request) *gittest.Fault {
		if stall.Load() {
			return &gittest.Fault{Delay: time.Minute}
		}
		mu.Lock()
		defer mu.Unlock()
		if rng.IntN(4) == 0 {
			return nil
		}
		faulted++
		switch rng.IntN(3) {
		case 0:
			return &gittest.Fault{Status: []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusTooManyRequests}[rng.IntN(4)]}
		case 1:
			return &gittest.Fault{CutAfter: 1 + rng.Int64N(4096)}
		default:
			return &gittest.Fault{Delay: time.Duration(rng.IntN(50)) * time.Millisecond}
		}
	})
	repo := newRepo(t, rem.url, gitops.WithRetries(2, time.Millisecond, 20*time.Millisecond))
	byBlob := map[plumbing.Hash]int{} // deployment-web.yaml blob -> render
	committed := map[string]int{}     // commit -> render
	lastOK, succeeded := -1, 0
	for op := range ops {
		n := op / 2
		data := render(n)
		byBlob[plumbing.ComputeHash(plumbing.BlobObject, data["deployment-web.yaml"])] = n
		timeout := 10 * time.Second
		stall.Store(op%40 == 39)
		if stall.Load() {
			timeout = 200 * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		res, err := repo.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Files: data})
		cancel()
		// The slack absorbs a loaded machine; a hang would take a minute.
		assert.Less(t, time.Since(start), timeout+5*time.Second, "op %d outlived its ctx", op)
		if err != nil {
			assert.True(t, errors.Is(err, gitops.ErrUnavailable) || errors.Is(err, gitops.ErrConflict) ||
				errors.Is(err, context.DeadlineExceeded), "op %d: untyped error %v", op, err)
			if stall.Load() {
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			}
			continue
		}
		committed[res.Commit] = n
		lastOK = n
		succeeded++
	}
	rem.srv.SetFault(nil)
	t.Logf("%d faults injected; %d of %d calls succeeded, %d distinct commits", faulted, succeeded, ops, len(committed))
	require.GreaterOrEqual(t, faulted, ops, "at least one fault per call on average")
	require.NotEmpty(t, committed)
	rem.assertNoRewrites(t, "stage/test")

	// Every commit on the branch holds exactly one whole render.
	chain := strings.Fields(rem.git(t, "rev-list", "--first-parent", "refs/heads/stage/test"))
	for _, c := range chain[:len(chain)-1] { // all but the seed
		listing := rem.git(t, "ls-tree", "-r", c, "--", deployDir)
		var blobs []string
		n := -1
		for _, line := range strings.Split(listing, "\n") {
			f := strings.Fields(line)
			require.Len(t, f, 4, line)
			blobs = append(blobs, f[3]+" "+f[2])
			if strings.HasSuffix(f[3], "/deployment-web.yaml") {
				n = byBlob[plumbing.NewHash(f[2])]
			}
		}
		require.GreaterOrEqual(t, n, 0, "commit %s holds no known render", c)
		var want []string
		for name, data := range render(n) {
			want = append(want, deployDir+"/"+name+" "+plumbing.ComputeHash(plumbing.BlobObject, data).String())
		}
		assert.ElementsMatch(t, want, blobs, "commit %s holds a partial or mixed render", c)
	}
	for c, n := range committed {
		assert.Contains(t, chain, c, "render %d reported commit %s, which is not on the branch", n, c)
	}
	// The tip holds the last successful render, or a later one whose push
	// landed although its call failed (the answer was cut or came after
	// the ctx ended).
	tipBlob := rem.git(t, "rev-parse", "refs/heads/stage/test:"+deployDir+"/deployment-web.yaml")
	tipRender, ok := byBlob[plumbing.NewHash(tipBlob)]
	require.True(t, ok)
	assert.GreaterOrEqual(t, tipRender, lastOK, "the tip went back behind a successful render")
}
