package render

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// WithLocker: Build runs kustomize only while it holds the caller's lock,
// gives up waiting for it when its context ends (and releases it as soon
// as it gets it), and leaves it unlocked.
func TestWithLocker(t *testing.T) {
	t.Parallel()
	mounts, w := []Mount{{At: "app", FS: smallApp()}}, smallWrapper()
	var mu sync.Mutex
	mu.Lock() // another kustomize user holds it

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Build(ctx, mounts, w, WithLocker(&mu))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "returns at its deadline")

	done := make(chan error, 1)
	go func() {
		_, err := Build(context.Background(), mounts, w, WithLocker(&mu))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Build ran kustomize while another holds the lock: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	mu.Unlock()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Build did not run once the lock was free")
	}
	// The abandoned waiter released the lock it got, and so did the build.
	locked := make(chan struct{})
	go func() { mu.Lock(); close(locked) }()
	select {
	case <-locked:
		mu.Unlock()
	case <-time.After(5 * time.Second):
		t.Fatal("the lock was left held")
	}

	_, err = Build(context.Background(), mounts, w, WithLocker(nil))
	assert.ErrorIs(t, err, ErrInvalidOption)
}

// A Build whose context ends while kustomize runs returns at once; the
// lock is released when kustomize ends. Builds waiting for the lock return
// at their own deadlines. Not parallel: it uses the package-wide lock and
// the kustomize hook.
func TestBuildContextDuringKustomize(t *testing.T) {
	mounts, w := []Mount{{At: "app", FS: smallApp()}}, smallWrapper()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	testHookKustomize = func() {
		entered <- struct{}{}
		<-release
	}
	t.Cleanup(func() { testHookKustomize = nil })

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := Build(ctx, mounts, w)
		first <- err
	}()
	<-entered // the first build holds the lock, in its kustomize phase

	// Waiting builds return at their own deadlines, whatever the others'.
	var wg sync.WaitGroup
	for _, d := range []time.Duration{50 * time.Millisecond, 150 * time.Millisecond} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			start := time.Now()
			_, err := Build(ctx, mounts, w)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), d+2*time.Second)
		}()
	}
	wg.Wait()

	start := time.Now()
	cancel()
	select {
	case err := <-first:
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 2*time.Second)
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled Build waited for kustomize")
	}
	testHookKustomize = nil
	close(release) // kustomize ends; the lock is released
	ctx, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	_, err := Build(ctx, mounts, w)
	assert.NoError(t, err, "the lock is free again")
}
