package render

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var faultSeed = flag.Uint64("faultseed", 20261127, "seed of TestBuildUnderFaults; each failure prints the seed it ran with")

// errInjected is the error every injected failure wraps.
var errInjected = errors.New("injected fault")

// A fault plan for one operation: 1 in rate calls to a mount's FS is
// faulted (never when rate is 0). The draws come from the operation's own
// seeded source, so an operation sees the same faults whatever the other
// workers do.
type faultPlan struct {
	mu       sync.Mutex
	rng      *rand.Rand
	rate     int
	injected int       // faults of any kind, slow reads included
	failed   []string  // "kind name" of every call made to fail, in order
	only     *alwaysFS // if set, replaces the random draws
}

type faultKind int

const (
	faultNone     faultKind = iota
	faultError              // the call returns an error wrapping errInjected
	faultTruncate           // the read ends early with io.EOF, as a cut file would
	faultSlow               // the call takes a few milliseconds more
)

// draw decides the fault of one call ("lstat", "open", "stat" or "read")
// on file name.
func (p *faultPlan) draw(call, name string) (faultKind, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.only != nil {
		switch {
		case !strings.HasSuffix(name, p.only.target):
			return faultNone, 0
		case p.only.fail == call:
			return faultError, 0
		case p.only.fail == "truncate" && call == "read":
			return faultTruncate, 0
		}
		return faultNone, 0
	}
	if p.rate == 0 || p.rng.IntN(p.rate) != 0 {
		return faultNone, 0
	}
	p.injected++
	slow := time.Duration(1+p.rng.IntN(4)) * time.Millisecond
	switch r := p.rng.IntN(10); {
	case r < 4:
		return faultSlow, slow
	case r < 7 && call == "read":
		return faultTruncate, 0
	default:
		return faultError, 0
	}
}

func (p *faultPlan) fail(kind, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failed = append(p.failed, kind+" "+name)
}

func (p *faultPlan) firstFailure() (kind, name string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failed) == 0 {
		return "", "", false
	}
	kind, name, _ = strings.Cut(p.failed[0], " ")
	return kind, name, true
}

// faultFS is a mount that fails, truncates or slows down the calls its plan
// picks. It keeps Lstat and ReadLink of the FS it wraps, as Build needs.
type faultFS struct {
	fsys fs.FS
	plan *faultPlan
}

func (f *faultFS) call(call, name string) error {
	kind, d := f.plan.draw(call, name)
	switch kind {
	case faultSlow:
		time.Sleep(d)
	case faultError:
		f.plan.fail("error", name)
		return &fs.PathError{Op: call, Path: name, Err: errInjected}
	}
	return nil
}

func (f *faultFS) Open(name string) (fs.File, error) {
	if err := f.call("open", name); err != nil {
		return nil, err
	}
	file, err := f.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, name: name, plan: f.plan}, nil
}

func (f *faultFS) Lstat(name string) (fs.FileInfo, error) {
	if err := f.call("lstat", name); err != nil {
		return nil, err
	}
	return fs.Lstat(f.fsys, name)
}

func (f *faultFS) ReadLink(name string) (string, error) {
	if err := f.call("readlink", name); err != nil {
		return "", err
	}
	return fs.ReadLink(f.fsys, name)
}

type faultFile struct {
	fs.File
	name string
	plan *faultPlan
	cut  bool // a truncation happened: every later read is at "EOF"
}

func (f *faultFile) Stat() (fs.FileInfo, error) {
	if kind, _ := f.plan.draw("stat", f.name); kind == faultError {
		f.plan.fail("error", f.name)
		return nil, &fs.PathError{Op: "stat", Path: f.name, Err: errInjected}
	}
	return f.File.Stat()
}

func (f *faultFile) Read(b []byte) (int, error) {
	if f.cut {
		return 0, io.EOF
	}
	kind, d := f.plan.draw("read", f.name)
	switch kind {
	case faultSlow:
		time.Sleep(d)
	case faultError:
		f.plan.fail("error", f.name)
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: errInjected}
	case faultTruncate:
		n, err := f.File.Read(b)
		if n == 0 {
			return n, err // nothing left to cut
		}
		f.cut = true
		f.plan.fail("truncate", f.name)
		return n / 2, io.EOF
	}
	return f.File.Read(b)
}

// faulted wraps every mount in a faultFS sharing plan.
func faulted(mounts []Mount, plan *faultPlan) []Mount {
	out := make([]Mount, len(mounts))
	for i, m := range mounts {
		out[i] = Mount{At: m.At, FS: &faultFS{fsys: m.FS, plan: plan}}
	}
	return out
}

// How an operation's context ends.
const (
	ctxNone     = iota // only a generous safety deadline
	ctxCanceled        // cancelled before Build is called
	ctxDeadline        // a deadline of 0-40 ms: expires at a random point
	ctxCancel          // cancelled by another goroutine after 0-40 ms
	ctxSlotHeld        // another holder has the kustomize slot; the deadline expires while Build waits
	ctxModes
)

var ctxModeNames = [ctxModes]string{"none", "canceled", "deadline", "cancel", "slot-held"}

// TestBuildUnderFaults is render's seeded fault suite: 240 builds of the
// test world's four deployments (both template shapes) and 60 loads of
// their deployment.yaml, four at a time, whose mounts fail a random Lstat,
// Open, Stat or Read with an error, cut a read short or slow it down, and
// whose contexts are cancelled or expire at random points, including while
// another build holds the kustomize slot. Each operation ends with output
// byte-identical to the fault-free build, or with a typed error that names
// the faulted file, within its deadline; nothing panics and no goroutine
// outlives the run. Not parallel: it holds the package's kustomize slot
// and counts goroutines. Reproduce a failure with -faultseed=<printed seed>.
func TestBuildUnderFaults(t *testing.T) {
	const (
		builds  = 240
		loads   = 60
		workers = 4
	)
	seed := *faultSeed
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("fault suite seed: %d (rerun with go test ./render -run TestBuildUnderFaults -faultseed=%d)", seed, seed)
		}
	})

	// Fault-free references, checked against the golden files.
	type shape func(testing.TB, string, fs.FS) ([]Mount, Wrapper)
	shapes := []shape{fixedShape, emptyShape}
	type ref struct {
		yaml  []byte
		files map[string][]byte
	}
	refs := map[string]ref{}
	for _, d := range deployments {
		for si, sh := range shapes {
			mounts, w := sh(t, d, worldFS(t, "monorepo"))
			r, err := Build(context.Background(), mounts, w)
			require.NoError(t, err)
			golden(t, d+".yaml", r.YAML())
			refs[fmt.Sprint(d, si)] = ref{r.YAML(), r.Files()}
		}
	}
	deps := map[string]Deployment{}
	for _, d := range deployments {
		deps[d] = loadTestDeployment(t, d)
	}

	goroutines := runtime.NumGoroutine()
	start := time.Now()

	var (
		mu         sync.Mutex
		injected   int // faults injected into mounts
		faultedOps int // operations with a mount fault or a context that ends early
		outcomes   = map[string]int{}
	)
	count := func(outcome string, faults int, ctxFault bool) {
		mu.Lock()
		defer mu.Unlock()
		outcomes[outcome]++
		injected += faults
		if faults > 0 || ctxFault {
			faultedOps++
		}
	}

	// op runs operation i and reports its outcome.
	op := func(t *testing.T, i int) {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("op %d panicked: %v\n%s", i, p, debug.Stack())
			}
		}()
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		plan := &faultPlan{rng: rand.New(rand.NewPCG(seed, uint64(i)+1<<32))}
		if rng.IntN(4) != 0 { // a quarter of the operations run fault-free
			plan.rate = []int{3, 6, 12, 24}[rng.IntN(4)]
		}
		d := deployments[rng.IntN(len(deployments))]
		mode := ctxNone
		if r := rng.IntN(20); r < 3 {
			mode = ctxCanceled
		} else if r < 7 {
			mode = ctxDeadline
		} else if r < 10 {
			mode = ctxCancel
		} else if r < 12 || i%12 == 11 {
			mode = ctxSlotHeld
		}
		if i >= builds && mode == ctxSlotHeld { // a load takes no slot
			mode = ctxDeadline
		}
		wait := time.Duration(rng.IntN(40_000)) * time.Microsecond
		safety := 30 * time.Second
		ctx, cancel := context.WithTimeout(context.Background(), safety)
		defer cancel()
		deadline := safety
		switch mode {
		case ctxCanceled:
			cancel()
		case ctxDeadline:
			ctx, cancel = context.WithTimeout(ctx, wait)
			defer cancel()
			deadline = wait
		case ctxCancel:
			timer := time.AfterFunc(wait, cancel)
			defer timer.Stop()
			deadline = wait
		case ctxSlotHeld:
			kustomizeSlot <- struct{}{} // waits for a running build, as any build would
			defer func() { <-kustomizeSlot }()
			ctx, cancel = context.WithTimeout(ctx, wait)
			defer cancel()
			deadline = wait
		}
		name := fmt.Sprintf("op %d (%s, ctx %s, fault rate 1/%d)", i, d, ctxModeNames[mode], plan.rate)

		began := time.Now()
		var err error
		if i < builds {
			si := rng.IntN(len(shapes))
			mounts, w := shapes[si](t, d, worldFS(t, "monorepo"))
			var r *Result
			r, err = Build(ctx, faulted(mounts, plan), w)
			if err == nil {
				want := refs[fmt.Sprint(d, si)]
				assert.Equal(t, string(want.yaml), string(r.YAML()), "%s: output differs from the fault-free build", name)
				assert.Equal(t, want.files, r.Files(), "%s", name)
			} else {
				assert.Nil(t, r, "%s: a result with an error", name)
			}
		} else {
			var dep Deployment
			dep, err = LoadDeployment(&faultFS{fsys: worldFS(t, "gitops"), plan: plan}, "apps/codeai/deployments/"+d+"/deployment.yaml")
			if err == nil {
				assert.Equal(t, deps[d], dep, "%s", name)
			} else {
				assert.Zero(t, dep, "%s", name)
			}
		}
		elapsed := time.Since(began)
		// The slack covers one slow FS call and one kustomize run (which
		// does not stop for ctx) on a loaded machine under -race; a hang
		// would take the safety deadline.
		assert.Less(t, elapsed, deadline+5*time.Second, "%s outlived its context", name)

		kind, file, failed := plan.firstFailure()
		switch {
		case err == nil:
			assert.False(t, failed, "%s: succeeded although a %s fault hit %s", name, kind, file)
			assert.NotEqual(t, ctxSlotHeld, mode, "%s: succeeded while another build held the slot", name)
			count("ok", plan.injected, mode != ctxNone)
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			assert.Error(t, ctx.Err(), "%s: a context error from a live context: %v", name, err)
			assert.False(t, failed, "%s: a %s fault on %s reported as %v", name, kind, file, err)
			count("ctx "+ctxModeNames[mode], plan.injected, true)
		default:
			if !assert.True(t, failed, "%s: an error without an injected failure: %v", name, err) {
				return
			}
			assert.ErrorIs(t, err, ErrRead, "%s", name)
			if kind == "error" {
				assert.ErrorIs(t, err, errInjected, "%s", name)
			}
			var fe *FileError
			if assert.ErrorAs(t, err, &fe, "%s", name) {
				assert.NotEmpty(t, fe.Path)
			}
			assert.Contains(t, err.Error(), file, "%s: the error names the faulted file", name)
			count(kind, plan.injected, mode != ctxNone)
		}
	}

	t.Run("operations", func(t *testing.T) {
		next := make(chan int)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := range next {
					op(t, i)
				}
			})
		}
		for i := range builds + loads {
			next <- i
		}
		close(next)
		wg.Wait()
	})

	// Let the scheduler retire the workers' goroutines, then compare.
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(2 * time.Second); after > goroutines+2 && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, after, goroutines+2, "goroutines leaked: %d before, %d after", goroutines, after)

	t.Logf("seed %d: %d operations, %d faulted; %d faults injected into mounts; outcomes %v; %s",
		seed, builds+loads, faultedOps, injected, outcomes, time.Since(start).Round(time.Millisecond))
	assert.GreaterOrEqual(t, faultedOps, 200, "faulted operations")
	assert.GreaterOrEqual(t, injected, 200, "faults injected into mounts")
	for _, outcome := range []string{"ok", "error", "truncate", "ctx canceled", "ctx deadline", "ctx cancel", "ctx slot-held"} {
		assert.Positive(t, outcomes[outcome], "no operation ended as %q", outcome)
	}
}

// Regression: a mount's I/O error used to come back wrapping no sentinel
// (or as ErrNotFound for a failed Lstat), and a read cut short without an
// error was built as if the file ended there.
func TestReadFailuresAreErrRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fail     string // kind injected on every call of that kind
		injected bool   // the FS's error is wrapped
	}{
		{"lstat fails", "lstat", true},
		{"open fails", "open", true},
		{"read fails", "read", true},
		{"read cut short", "truncate", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			plan := &alwaysFS{fail: tc.fail, target: "deployment.yaml"}
			_, err := LoadDeployment(&faultFS{fsys: worldFS(t, "gitops"), plan: plan.plan()}, "apps/codeai/deployments/test/deployment.yaml")
			if tc.fail == "lstat" {
				require.NoError(t, err, "LoadDeployment does not Lstat")
			} else {
				assert.ErrorIs(t, err, ErrRead)
				assert.Equal(t, tc.injected, errors.Is(err, errInjected))
			}

			mounts, w := fixedShape(t, "test", worldFS(t, "monorepo"))
			plan = &alwaysFS{fail: tc.fail, target: "base/deployment.yaml"}
			r, err := Build(context.Background(), faulted(mounts, plan.plan()), w)
			assert.Nil(t, r)
			assert.ErrorIs(t, err, ErrRead)
			assert.NotErrorIs(t, err, ErrNotFound)
			assert.Equal(t, tc.injected, errors.Is(err, errInjected))
			assert.Contains(t, err.Error(), "src/k8s/kustomize/base/deployment.yaml")
		})
	}
}

// alwaysFS configures a faultPlan that fails every call of one kind on
// files whose name ends with target.
type alwaysFS struct{ fail, target string }

func (a *alwaysFS) plan() *faultPlan {
	return &faultPlan{rng: rand.New(rand.NewPCG(1, 1)), only: a}
}
