package sparse_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/sparse"
)

// Transient failures are retried and the result is the same as without
// them; the retries show in the round trips.
func TestRetriesTransientFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault gittest.Fault
	}{
		{"503 with Retry-After", gittest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0"}},
		{"429", gittest.Fault{Status: http.StatusTooManyRequests}},
		{"502", gittest.Fault{Status: http.StatusBadGateway}},
		{"cut response", gittest.Fault{CutAfter: 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHistory(t)
			want := newOracle(t, h.dir).checkout(t, h.commits[1], []string{"k8s/kustomize"})
			// Fail the first attempt at each endpoint.
			h.srv.SetFault(func(r gittest.Request) *gittest.Fault {
				if r.N == 1 {
					f := tc.fault
					return &f
				}
				return nil
			})
			co, err := sparse.Fetch(context.Background(), sparse.Request{URL: h.url, Commit: h.commits[1], Paths: []string{"k8s/kustomize"}})
			require.NoError(t, err)
			assert.Equal(t, want, snapshotFS(t, co.FS))
			assert.Equal(t, 6, co.Stats.RoundTrips, "four round trips plus one retry per endpoint")
		})
	}
}

// stormFetches sizes TestFaultStorm; CI raises it (for example to 150, about
// 250 faulted requests) with go test ./sparse -run FaultStorm -storm-fetches=150.
var stormFetches = flag.Int("storm-fetches", 32, "fetches in TestFaultStorm, spread over 4 workers")

// A seeded storm of faults ends each time in the right checkout or a typed
// error, never a wrong result, a panic or a hang past the deadline.
func TestFaultStorm(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	paths := []string{"k8s/kustomize"}
	want := newOracle(t, h.dir).checkout(t, h.commits[1], paths)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(8, 4))
	faults := []gittest.Fault{
		{Status: http.StatusServiceUnavailable, RetryAfter: "0"},
		{Status: http.StatusBadGateway},
		{Status: http.StatusInternalServerError},
		{CutAfter: 1},
		{CutAfter: 200},
		{CutAfter: 700},
		{Delay: 100 * time.Millisecond},
	}
	faulted := 0
	h.srv.SetFault(func(gittest.Request) *gittest.Fault {
		mu.Lock()
		defer mu.Unlock()
		if rng.IntN(3) == 0 {
			faulted++
			f := faults[rng.IntN(len(faults))]
			return &f
		}
		return nil
	})
	const workers = 4
	var wg sync.WaitGroup
	var ok, failed atomic.Int32
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < *stormFetches; i += workers {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				co, err := sparse.Fetch(ctx, sparse.Request{URL: h.url, Commit: h.commits[1], Paths: paths},
					sparse.WithRetries(2, time.Millisecond, 10*time.Millisecond))
				cancel()
				if err != nil {
					failed.Add(1)
					assert.True(t, isTyped(err), "untyped error: %v", err)
					continue
				}
				ok.Add(1)
				assert.Equal(t, want, snapshotFS(t, co.FS))
			}
		}()
	}
	wg.Wait()
	t.Logf("%d faulted requests: %d correct results, %d typed errors", faulted, ok.Load(), failed.Load())
	assert.Positive(t, ok.Load())
	assert.Positive(t, faulted)
}

func isTyped(err error) bool {
	for _, s := range []error{sparse.ErrTransfer, sparse.ErrCorrupt, sparse.ErrLimitExceeded, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// No credential, given in the URL or as an option, ever reaches an error
// or a log line, including on failures.
func TestCredentialsNeverLeak(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-t0ken"
	h := newHistory(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.srv.SetFault(func(r gittest.Request) *gittest.Fault {
		if r.N == 1 {
			return &gittest.Fault{Status: http.StatusServiceUnavailable}
		}
		return nil
	})
	withUser := "http://bot:" + secret + "@" + h.url[len("http://"):]
	var errs []error
	for _, tc := range []struct {
		url  string
		opts []sparse.Option
	}{
		{withUser, nil},
		{h.url, []sparse.Option{sparse.WithBasicAuth("bot", secret)}},
		{h.url, []sparse.Option{sparse.WithBearerToken(secret)}},
		{h.srv.RepoURL("missing.git"), []sparse.Option{sparse.WithBasicAuth("bot", secret)}},
		{"http://bot:" + secret + "@127.0.0.1:1/x.git", nil},
		{"ftp://bot:" + secret + "@host/x.git", nil},
	} {
		opts := append([]sparse.Option{sparse.WithLogger(logger), sparse.WithRetries(1, time.Millisecond, 10*time.Millisecond)}, tc.opts...)
		_, err := sparse.Fetch(context.Background(), sparse.Request{URL: tc.url, Commit: h.commits[0], Paths: []string{"k8s/nope"}}, opts...)
		errs = append(errs, err)
		_, err = sparse.Resolve(context.Background(), tc.url, "nope", opts...)
		errs = append(errs, err)
	}
	for _, err := range errs {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secret)
	}
	assert.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), secret)
}

// Credentials from the URL or from options are sent on every request, as
// HTTP authentication.
func TestCredentialsSent(t *testing.T) {
	t.Parallel()
	h := newHistory(t)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("bot:s3cret"))
	for _, tc := range []struct {
		url  string
		opt  sparse.Option
		want string
	}{
		{"http://bot:s3cret@" + strings.TrimPrefix(h.url, "http://"), nil, basic},
		{h.url, sparse.WithBasicAuth("bot", "s3cret"), basic},
		{h.url, sparse.WithBearerToken("s3cret"), "Bearer s3cret"},
	} {
		rec := &gittest.AuthRecorder{}
		opts := []sparse.Option{sparse.WithHTTPClient(&http.Client{Transport: rec})}
		if tc.opt != nil {
			opts = append(opts, tc.opt)
		}
		_, err := sparse.Fetch(context.Background(), sparse.Request{URL: tc.url, Commit: h.commits[0], Paths: []string{"k8s"}}, opts...)
		require.NoError(t, err)
		require.Len(t, rec.Seen(), 3, "advertisement, commit+root, cone")
		for _, got := range rec.Seen() {
			assert.Equal(t, tc.want, got)
		}
	}
}
