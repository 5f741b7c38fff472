package freight

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"Fri, 27 Nov 2026 09:00:30 GMT", 30 * time.Second, true},
		{"Fri, 27 Nov 2026 08:00:00 GMT", 0, true},
	}
	for _, tc := range cases {
		got, ok := retryAfter(tc.in, now)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	o := &options{minBackoff: 100 * time.Millisecond, maxBackoff: time.Second}
	for attempt := range 40 {
		d := o.backoff(attempt)
		ceiling := min(o.minBackoff<<min(attempt, 30), o.maxBackoff)
		assert.GreaterOrEqual(t, d, ceiling/2, "attempt %d", attempt)
		assert.LessOrEqual(t, d, ceiling, "attempt %d", attempt)
	}
	assert.Zero(t, (&options{}).backoff(3))
}

func TestClassifiers(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]bool{408: true, 429: true, 502: true, 503: true, 504: true, 500: false, 400: false, 401: false, 404: false, 200: false} {
		assert.Equal(t, want, retryableStatus(code), code)
	}
	for err, want := range map[error]bool{
		io.ErrUnexpectedEOF: true, syscall.ECONNRESET: true, &url.Error{Op: "Get", Err: syscall.ECONNREFUSED}: true,
		context.Canceled: false, context.DeadlineExceeded: false, errors.New("x509: bad certificate"): false,
	} {
		assert.Equal(t, want, transientNetErr(err), "%v", err)
	}
	post := httptest.NewRequest(http.MethodPost, "http://h/repo.git/git-upload-pack", strings.NewReader("x"))
	post.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }
	assert.True(t, idempotent(post))
	push := httptest.NewRequest(http.MethodPost, "http://h/repo.git/git-receive-pack", nil)
	assert.False(t, idempotent(push))
	assert.True(t, idempotent(httptest.NewRequest(http.MethodHead, "http://h/v2/", nil)))
	assert.False(t, idempotent(httptest.NewRequest(http.MethodPut, "http://h/v2/x/manifests/t", nil)))
	for _, err := range []error{ErrUnauthorized, ErrRejected, ErrNotFound, context.Canceled} {
		assert.True(t, permanent(err))
	}
	assert.False(t, permanent(io.ErrUnexpectedEOF))
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("https://user:secret@ghcr.io/token?scope=x&account=robot#frag")
	require.NoError(t, err)
	assert.Equal(t, "https://ghcr.io/token?…", redactURL(u))
	assert.Empty(t, redactURL(nil))
}

// The transport retries reads on retryable statuses, honouring Retry-After,
// and never retries writes.
func TestRetryTransport(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "hello")
	}))
	defer srv.Close()
	o, err := newOptions([]Option{fastRetries})
	require.NoError(t, err)
	ctx, stats := withCallStats(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := o.client().Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "hello", string(body))
	assert.EqualValues(t, 3, stats.requests.Load())
	assert.EqualValues(t, 5, stats.bytesReceived.Load())

	calls.Store(0)
	req, err = http.NewRequestWithContext(ctx, http.MethodPut, srv.URL, strings.NewReader("x"))
	require.NoError(t, err)
	resp, err = o.client().Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.EqualValues(t, 1, calls.Load(), "writes are not retried")
}
