package forgehttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops/internal/forgehttp"
)

var fast = forgehttp.Policy{Attempts: 3, MinWait: time.Millisecond, MaxWait: 10 * time.Millisecond}

// flaky answers with the given statuses in turn, then 200 with the body it
// received.
func flaky(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(statuses[i])
			return
		}
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRetrying(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		method   string
		statuses []int
		status   int
		requests int64
	}{
		{"get heals", http.MethodGet, []int{503, 502}, 200, 3},
		{"patch heals and resends the body", http.MethodPatch, []int{429}, 200, 2},
		{"get gives up", http.MethodGet, []int{503, 503, 503, 503}, 503, 3},
		{"post is never retried", http.MethodPost, []int{503}, 503, 1},
		{"404 is final", http.MethodGet, []int{404}, 404, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, n := flaky(t, tc.statuses...)
			c := &http.Client{Transport: forgehttp.Retrying(nil, fast)}
			req, err := http.NewRequest(tc.method, srv.URL, strings.NewReader("body"))
			require.NoError(t, err)
			resp, err := c.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.requests, n.Load())
			if resp.StatusCode == 200 {
				b, _ := io.ReadAll(resp.Body)
				assert.Equal(t, "body", string(b))
			}
		})
	}
}

func TestRetryingStopsWithContext(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	slow := forgehttp.Policy{Attempts: 3, MinWait: time.Minute, MaxWait: time.Minute}
	c := &http.Client{Transport: forgehttp.Retrying(nil, slow)}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Do(req)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}
