package registrytest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

// onKind returns a fault hook spoiling every request of kind with f.
func onKind(kind string, f registrytest.Fault) func(registrytest.Request) *registrytest.Fault {
	return func(r registrytest.Request) *registrytest.Fault {
		if r.Kind == kind {
			return &f
		}
		return nil
	}
}

func TestFaultStatusWithRetryAfter(t *testing.T) {
	t.Parallel()
	reg := seeded(t)
	reg.SetFault(onKind(registrytest.KindTags, registrytest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "7"}))

	resp := do(t, http.MethodGet, reg.URL+"/v2/org/app/tags/list")
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "7", resp.Header.Get("Retry-After"))
	assert.Equal(t, "TOOMANYREQUESTS", errorCode(t, resp))

	_, err := remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()), noRetry)
	var terr *transport.Error
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, http.StatusTooManyRequests, terr.StatusCode)

	// Other kinds are untouched.
	_, err = remote.Head(tagRef(t, reg, "org/app", "latest"), remote.WithContext(t.Context()), noRetry)
	require.NoError(t, err)

	reg.SetFault(nil)
	got, err := remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()), noRetry)
	require.NoError(t, err)
	assert.Len(t, got, len(tags))
}

func TestFaultOnNthRequestIsRetried(t *testing.T) {
	t.Parallel()
	reg := seeded(t)
	reg.SetFault(func(r registrytest.Request) *registrytest.Fault {
		if r.Kind == registrytest.KindTags && r.N == 2 {
			return &registrytest.Fault{Status: http.StatusServiceUnavailable}
		}
		return nil
	})
	got, err := remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()), remote.WithPageSize(3),
		remote.WithRetryBackoff(remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3}))
	require.NoError(t, err)
	assert.Equal(t, sortedTags(), got)
	assert.Equal(t, int64(4), reg.Stats()[registrytest.KindTags], "3 pages plus the retried second one")
}

func TestFaultInvalidStatusAnswers500(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	reg.SetFault(onKind(registrytest.KindOther, registrytest.Fault{Status: 42}))
	assert.Equal(t, http.StatusInternalServerError, do(t, http.MethodGet, reg.URL+"/v2/").StatusCode)
}

func TestFaultCutConnection(t *testing.T) {
	t.Parallel()
	reg := seeded(t)
	reg.SetFault(onKind(registrytest.KindManifestGet, registrytest.Fault{CutAfter: 10}))

	resp := do(t, http.MethodGet, reg.URL+"/v2/org/app/manifests/latest")
	require.Equal(t, http.StatusOK, resp.StatusCode, "status and headers arrive")
	assert.Greater(t, resp.ContentLength, int64(10))
	got, err := io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Len(t, got, 10)

	_, err = remote.Get(tagRef(t, reg, "org/app", "latest"), remote.WithContext(t.Context()), noRetry)
	assert.Error(t, err, "ggcr sees the cut")

	// A body shorter than CutAfter loses its last byte; a HEAD loses everything.
	reg.SetFault(onKind(registrytest.KindTags, registrytest.Fault{CutAfter: 1 << 20}))
	resp = do(t, http.MethodGet, reg.URL+"/v2/org/app/tags/list")
	got, err = io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, resp.ContentLength-1, int64(len(got)))
	_, err = remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()), noRetry)
	assert.Error(t, err)

	reg.SetFault(onKind(registrytest.KindManifestHead, registrytest.Fault{CutAfter: 1}))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, reg.URL+"/v2/org/app/manifests/latest", nil)
	require.NoError(t, err)
	_, err = http.DefaultClient.Do(req)
	assert.Error(t, err, "HEAD: connection closed before any answer")
	_, err = remote.Head(tagRef(t, reg, "org/app", "latest"), remote.WithContext(t.Context()), noRetry)
	assert.Error(t, err)
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	reg := seeded(t)
	const delay = 50 * time.Millisecond
	reg.SetFault(onKind(registrytest.KindTags, registrytest.Fault{Delay: delay}))
	start := time.Now()
	got, err := remote.List(repoRef(t, reg, "org/app"), remote.WithContext(t.Context()))
	require.NoError(t, err)
	assert.Len(t, got, len(tags))
	assert.GreaterOrEqual(t, time.Since(start), delay)

	// A long delay ends with the client's context; the request is not
	// answered and not retried. The context is cancelled once the server
	// holds the request, so the test does not depend on timing.
	var served atomic.Int64
	arrived := make(chan struct{})
	reg.SetFault(func(r registrytest.Request) *registrytest.Fault {
		if r.Kind == registrytest.KindTags {
			if served.Add(1) == 1 {
				close(arrived)
			}
			return &registrytest.Fault{Delay: time.Hour, Status: http.StatusOK}
		}
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		select {
		case <-arrived:
			cancel()
		case <-ctx.Done():
		}
	}()
	start = time.Now()
	_, err = remote.List(repoRef(t, reg, "org/app"), remote.WithContext(ctx), noRetry)
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), time.Minute)
	assert.Equal(t, int64(1), served.Load())
}

func TestCloseEndsDelayedRequests(t *testing.T) {
	t.Parallel()
	reg, err := registrytest.Start()
	require.NoError(t, err)
	reg.SetFault(onKind(registrytest.KindOther, registrytest.Fault{Delay: time.Hour}))
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(reg.URL + "/v2/")
		if err == nil {
			_ = resp.Body.Close()
			err = errors.New("got an answer: " + resp.Status)
		}
		errc <- err
	}()
	require.Eventually(t, func() bool { return reg.Stats()[registrytest.KindOther] == 1 }, 30*time.Second, time.Millisecond)
	start := time.Now()
	reg.Close()
	assert.Less(t, time.Since(start), time.Minute, "Close must not wait for the hour-long delay")
	select {
	case err := <-errc:
		assert.Error(t, err, "the client sees a closed connection, not an answer")
	case <-time.After(time.Minute):
		t.Fatal("client still waiting after Close")
	}
	reg.Close() // idempotent
}
