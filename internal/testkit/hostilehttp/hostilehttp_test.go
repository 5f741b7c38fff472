package hostilehttp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/hostilehttp"
)

func get(t *testing.T, url string, auth func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no redirects followed
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestEchoRecordsAndLeaks(t *testing.T) {
	t.Parallel()
	s := hostilehttp.New(t, hostilehttp.Echo(http.StatusUnauthorized))
	resp, body := get(t, s.URL+"/x?q=1", func(r *http.Request) { r.SetBasicAuth("robot", "pa55-word") })
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, string(body), "Basic cm9ib3Q6cGE1NS13b3Jk", "the credential is echoed in the body")
	assert.Contains(t, resp.Header.Get("X-Echo-Authorization"), "Basic ")
	require.Len(t, s.Leaks("pa55-word"), 1, "basic credentials are decoded")
	assert.Empty(t, s.Leaks("other"))
	assert.Equal(t, 1, s.Count())
	assert.Equal(t, "q=1", s.Requests()[0].RawQuery)
	assert.Contains(t, s.AltURL(), "http://localhost:")
}

func TestRedirectKeepsPathAndQuery(t *testing.T) {
	t.Parallel()
	s := hostilehttp.New(t, hostilehttp.Redirect("http://elsewhere.invalid:1", http.StatusTemporaryRedirect))
	resp, _ := get(t, s.URL+"/a/b?c=d", nil)
	assert.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	assert.Equal(t, "http://elsewhere.invalid:1/a/b?c=d", resp.Header.Get("Location"))
}

func TestHugeBodiesHaveTheirSize(t *testing.T) {
	t.Parallel()
	for _, announce := range []bool{true, false} {
		s := hostilehttp.New(t, hostilehttp.HugeJSON(1<<20, announce))
		_, body := get(t, s.URL, nil)
		assert.Len(t, body, 1<<20)
		var v []map[string]any
		require.NoError(t, json.Unmarshal(body, &v))

		s = hostilehttp.New(t, hostilehttp.HugeTags(1<<20, announce))
		_, body = get(t, s.URL+"/v2/app/tags/list", nil)
		assert.InDelta(t, 1<<20, len(body), 16)
		var tags struct{ Tags []string }
		require.NoError(t, json.Unmarshal(body, &tags))
		assert.Greater(t, len(tags.Tags), 80_000)
	}
}

func TestPagingForever(t *testing.T) {
	t.Parallel()
	s := hostilehttp.New(t, hostilehttp.TagsForever(3))
	url := s.URL + "/v2/app/tags/list?n=3"
	for page := range 5 {
		resp, body := get(t, url, nil)
		var tags struct{ Tags []string }
		require.NoError(t, json.Unmarshal(body, &tags))
		assert.Len(t, tags.Tags, 3, "page %d", page)
		link := resp.Header.Get("Link")
		require.NotEmpty(t, link)
		url = s.URL + strings.TrimPrefix(link[:strings.Index(link, ">")], "<")
	}

	p := hostilehttp.New(t, hostilehttp.PullsForever())
	resp, body := get(t, p.URL+"/api/v1/repos/o/r/pulls?page=7", nil)
	assert.Contains(t, resp.Header.Get("Link"), "page=8")
	assert.Contains(t, string(body), `"other-7"`)
}

func TestRegistryRealm(t *testing.T) {
	t.Parallel()
	s := hostilehttp.New(t, nil)
	s.SetHandler(hostilehttp.RegistryRealm(s.AltURL() + "/token"))
	resp, _ := get(t, s.URL+"/v2/", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `realm="http://localhost:`)
	_, body := get(t, s.URL+"/token", nil)
	assert.Contains(t, string(body), hostilehttp.RegistryToken)
	_, body = get(t, s.URL+"/v2/app/tags/list", func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+hostilehttp.RegistryToken)
	})
	assert.Contains(t, string(body), `"a"`)
}

// Stall sends the headers or nothing, and then nothing until the client
// goes away.
func TestStall(t *testing.T) {
	t.Parallel()
	for _, headers := range []bool{true, false} {
		s := hostilehttp.New(t, hostilehttp.Stall(headers))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/v2/app/tags/list", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		if headers {
			require.NoError(t, err, "the headers arrive")
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		assert.ErrorIs(t, err, context.DeadlineExceeded, "headers %v", headers)
		cancel()
	}
}

// Close ends a stalled handler even when net/http would never cancel its
// request's context: the client pipelined a second request behind it (as
// a client does after the headers of a HEAD answer), then went away.
// Before, Close waited forever.
func TestCloseEndsStalledHandlers(t *testing.T) {
	t.Parallel()
	s := hostilehttp.Start(hostilehttp.Stall(true))
	conn, err := net.Dial("tcp", s.Host)
	require.NoError(t, err)
	_, err = io.WriteString(conn, "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodHead})
	require.NoError(t, err, "the first handler runs")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = io.WriteString(conn, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond) // for the server's background read to take its first byte
	require.NoError(t, conn.Close())
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waits for the stalled handler")
	}
}
