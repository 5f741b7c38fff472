package freight

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

func TestPermanent(t *testing.T) {
	t.Parallel()
	for _, err := range []error{ErrUnauthorized, ErrRejected, ErrNotFound, context.Canceled, ErrLimitExceeded, ErrUnsafeContent,
		&LimitError{Limit: "tags", Max: 1}} {
		assert.True(t, permanent(err), "%v", err)
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

// resetPOSTs fails every git-upload-pack POST with a connection reset before
// any response, and counts the attempts.
type resetPOSTs struct {
	base  http.RoundTripper
	posts atomic.Int64
}

func (r *resetPOSTs) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost {
		r.posts.Add(1)
		return nil, syscall.ECONNRESET
	}
	return r.base.RoundTrip(req)
}

// Regression: connection failures the transport had already retried
// WithRetries(n) times were retried again by the operation-level retry,
// n+1 times each, so a dead server took (n+1)² attempts (16 HEADs for the
// default 3 retries) instead of the documented n+1.
func TestRetriesAreNotMultiplied(t *testing.T) {
	t.Parallel()
	t.Run("registry HEAD", func(t *testing.T) {
		t.Parallel()
		reg, tags, _ := tagged(t, 1)
		reg.SetFault(func(r registrytest.Request) *registrytest.Fault {
			if r.Kind == registrytest.KindManifestHead {
				return &registrytest.Fault{CutAfter: 1} // aborted before any answer
			}
			return nil
		})
		src, err := NewImageSource(reg.Repo("app"), fastRetries)
		require.NoError(t, err)
		_, err = src.Resolve(context.Background(), tags[0])
		require.ErrorIs(t, err, ErrUnavailable)
		// 1 attempt + 3 retries, plus at most one resend by net/http itself
		// (it retries an idempotent request whose reused connection died).
		heads := reg.Stats()[registrytest.KindManifestHead]
		assert.GreaterOrEqual(t, heads, int64(4))
		assert.LessOrEqual(t, heads, int64(5))
	})
	t.Run("git upload-pack", func(t *testing.T) {
		t.Parallel()
		srv, _, _ := gitRepo(t, 3)
		rt := &resetPOSTs{base: http.DefaultTransport}
		src, err := NewGitSource(srv.RepoURL("monorepo.git"), "main", fastRetries, WithHTTPClient(&http.Client{Transport: rt}))
		require.NoError(t, err)
		_, err = src.History(context.Background())
		require.ErrorIs(t, err, ErrUnavailable)
		assert.EqualValues(t, 4, rt.posts.Load(), "1 attempt + 3 retries")
	})
}
