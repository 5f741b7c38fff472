package gitops_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
)

const (
	writers          = 8
	rendersPerWriter = 12
	writerEnv        = "RAILYARD_GITOPS_TEST_WRITER" // "url id" in a writer process
	raceTimeout      = 180 * time.Second             // a loaded 2-core CI machine under -race
)

// outcome is one render's Commit result.
type outcome struct {
	render int
	res    gitops.Result
}

// checkOutcomes asserts the acceptance properties of concurrent writers:
// linear history without rewrites, every render committed or a no-op, one
// commit per committed render, and the tip holding the last committed one.
func checkOutcomes(t *testing.T, rem *remote, outcomes []outcome) {
	t.Helper()
	chainLen := rem.assertNoRewrites(t, "stage/test")
	tip := rem.git(t, "rev-parse", "refs/heads/stage/test")
	chain := map[string]bool{}
	for _, c := range strings.Fields(rem.git(t, "rev-list", "--first-parent", "refs/heads/stage/test")) {
		chain[c] = true
	}
	committed, last := 0, -1
	for _, o := range outcomes {
		require.True(t, chain[o.res.Commit], "render %d reported %s, which is not on the branch", o.render, o.res.Commit)
		if o.res.Changed {
			committed++
		}
		if o.res.Changed && o.res.Commit == tip {
			last = o.render
		}
	}
	assert.Equal(t, committed+1, chainLen, "one commit per committed render, on the seed commit")
	require.GreaterOrEqual(t, last, 0, "the tip is no render's commit")
	want := map[string]string{"README.md": "seed"}
	for name, data := range render(last) {
		want[deployDir+"/"+name] = strings.TrimSpace(string(data))
	}
	assert.Equal(t, want, rem.tree(t, "stage/test"))
}

// 8 goroutines × 12 different renders to one branch through one shared Repo
// (serialized in-process); and 8 goroutines × 5 renders through a Repo each,
// kept apart only by the push lease, which makes them race.
func TestCommitConcurrentWriters(t *testing.T) {
	t.Parallel()
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared repo %v", shared), func(t *testing.T) {
			t.Parallel()
			rem := newRemote(t)
			rem.seed(t, "stage/test", map[string]string{"README.md": "seed"})
			ctx := testContext(t, raceTimeout)
			perWriter := rendersPerWriter
			if !shared {
				perWriter = 5
			}
			one := newRepo(t, rem.url)
			var (
				mu       sync.Mutex
				outcomes []outcome
				wg       sync.WaitGroup
				retried  int
			)
			for w := range writers {
				repo := one
				if !shared {
					repo = newRepo(t, rem.url, gitops.WithRetries(999, 10*time.Millisecond, 200*time.Millisecond))
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perWriter {
						n := w*rendersPerWriter + i
						res, err := repo.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(n)})
						if !assert.NoError(t, err, "render %d", n) {
							return
						}
						mu.Lock()
						outcomes = append(outcomes, outcome{render: n, res: res})
						if res.Attempts > 1 {
							retried++
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			require.Len(t, outcomes, writers*perWriter)
			checkOutcomes(t, rem, outcomes)
			if shared {
				assert.Zero(t, retried, "writers sharing a Repo are serialized and never race")
			}
			t.Logf("%d of %d renders needed more than one attempt", retried, len(outcomes))
		})
	}
}

// Two separate processes write the same branch; only the lease keeps them
// apart. The test binary re-executes itself as the writer.
func TestCommitTwoProcesses(t *testing.T) {
	if spec := os.Getenv(writerEnv); spec != "" {
		runWriterProcess(t, spec)
		return
	}
	t.Parallel()
	rem := newRemote(t)
	rem.seed(t, "stage/test", map[string]string{"README.md": "seed"})
	ctx := testContext(t, raceTimeout)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes []outcome
	)
	for p := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCommitTwoProcesses$", "-test.count=1")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", writerEnv, rem.url, p))
			out, err := cmd.CombinedOutput()
			if !assert.NoError(t, err, "writer %d:\n%s", p, out) {
				return
			}
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				var o outcome
				var changed bool
				if _, err := fmt.Sscanf(sc.Text(), "render %d %s %t %d", &o.render, &o.res.Commit, &changed, &o.res.Attempts); err != nil {
					continue
				}
				o.res.Changed = changed
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Len(t, outcomes, 2*rendersPerWriter, "every render reported")
	checkOutcomes(t, rem, outcomes)
}

// runWriterProcess is the body of one writer process: 12 renders, one line
// per result on stdout.
func runWriterProcess(t *testing.T, spec string) {
	url, id, ok := strings.Cut(spec, " ")
	require.True(t, ok)
	p, err := strconv.Atoi(id)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), raceTimeout)
	defer cancel()
	repo := newRepo(t, url, gitops.WithRetries(999, time.Millisecond, 20*time.Millisecond))
	for i := range rendersPerWriter {
		n := p*rendersPerWriter + i
		res, err := repo.Commit(ctx, gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(n)})
		require.NoError(t, err)
		fmt.Printf("render %d %s %t %d\n", n, res.Commit, res.Changed, res.Attempts)
	}
}
