package freight

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/hostilehttp"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
	"github.com/railyard-gitops/railyard/internal/testkit/rsstest"
)

// Registries that lie, from internal/testkit/hostilehttp. The credentials
// a test hands the ImageSource; none may reach another origin, an error or
// a log line.
const (
	regUser   = "robot"
	regSecret = "registry-s3cret-0001"
)

func regSecrets() []string {
	return []string{regSecret, base64.StdEncoding.EncodeToString([]byte(regUser + ":" + regSecret))}
}

func hostContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// repoOn names repository "app" on a hostile server.
func repoOn(s *hostilehttp.Server) string { return s.Host + "/app" }

// requestsElsewhere returns the requests a server got under another host
// name than 127.0.0.1 (its AltURL), and all those of others.
func requestsElsewhere(home *hostilehttp.Server, others ...*hostilehttp.Server) []hostilehttp.Request {
	var out []hostilehttp.Request
	for _, r := range home.Requests() {
		if !strings.HasPrefix(r.Host, "127.0.0.1:") {
			out = append(out, r)
		}
	}
	for _, o := range others {
		out = append(out, o.Requests()...)
	}
	return out
}

// A registry's WWW-Authenticate realm on another origin (the same server
// as "localhost", or another port under that name) received basic
// credentials: go-containerregistry sends them to any realm that is not a
// private IP literal. Now the token request arrives there without them,
// unless the origin is trusted (WithTrustedAuthOrigins), the positive
// control.
func TestRegistryRealmOnAnotherOrigin(t *testing.T) {
	t.Parallel()
	creds := map[string]Option{
		"basic auth": WithBasicAuth(regUser, regSecret),
		"credentials": WithCredentials(func(_ context.Context, host string) (Credentials, error) {
			return Credentials{Username: regUser, Password: regSecret}, nil
		}),
	}
	for name, cred := range creds {
		for _, where := range []string{"same port, other host name", "other port, other host name"} {
			t.Run(name+"/"+where, func(t *testing.T) {
				t.Parallel()
				home := hostilehttp.New(t, nil)
				tokens := hostilehttp.New(t, hostilehttp.RegistryRealm(""))
				realm := home.AltURL() + "/token"
				if strings.HasPrefix(where, "other port") {
					realm = tokens.AltURL() + "/token"
				}
				home.SetHandler(hostilehttp.RegistryRealm(realm))
				logs := &logtest.Buffer{}
				src, err := NewImageSource(repoOn(home), cred, fastRetries, WithLogger(logs.Logger()))
				require.NoError(t, err)
				tags, err := src.Tags(hostContext(t))
				require.NoError(t, err, "the realm hands out tokens to anyone")
				assert.Equal(t, []string{"a"}, tags)
				elsewhere := requestsElsewhere(home, tokens)
				require.NotEmpty(t, elsewhere, "the token service was asked")
				for _, r := range elsewhere {
					assert.Empty(t, r.Header.Get("Authorization"), "%s %s%s got credentials", r.Method, r.Host, r.Path)
				}
				assert.Empty(t, home.Leaks(regSecrets()...), "no credential went anywhere")
				assert.Empty(t, tokens.Leaks(regSecrets()...))
				assert.NotContains(t, logs.String(), regSecret)

				// Trusted explicitly, the same token service gets them.
				trusted, err := NewImageSource(repoOn(home), cred, fastRetries, WithTrustedAuthOrigins(strings.TrimSuffix(realm, "/token")))
				require.NoError(t, err)
				_, err = trusted.Tags(hostContext(t))
				require.NoError(t, err)
				assert.NotEmpty(t, append(home.Leaks(regSecrets()...), tokens.Leaks(regSecrets()...)...), "a trusted realm gets the credentials")
			})
		}
	}
}

// basicRegistry challenges for basic auth at /v2/ and serves the rest with
// h.
func basicRegistry(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			if r.Header.Get("Authorization") == "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="hostile"`)
				w.WriteHeader(http.StatusUnauthorized)
			}
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Redirects of the tag listing and of the digest lookup to another port,
// or to the same port under another host name, reach there without the
// credentials.
func TestRegistryRedirectsCarryNoCredentials(t *testing.T) {
	t.Parallel()
	for _, where := range []string{"other port", "other host name"} {
		t.Run(where, func(t *testing.T) {
			t.Parallel()
			other := hostilehttp.New(t, hostilehttp.Echo(http.StatusOK))
			home := hostilehttp.New(t, nil)
			target := other.URL
			if where == "other host name" {
				target = home.AltURL()
			}
			home.SetHandler(basicRegistry(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasPrefix(r.Host, "127.0.0.1:") {
					hostilehttp.Echo(http.StatusOK).ServeHTTP(w, r)
					return
				}
				hostilehttp.Redirect(target, http.StatusTemporaryRedirect).ServeHTTP(w, r)
			})))
			logs := &logtest.Buffer{}
			src, err := NewImageSource(repoOn(home), WithBasicAuth(regUser, regSecret), fastRetries, WithLogger(logs.Logger()))
			require.NoError(t, err)
			_, err = src.Tags(hostContext(t))
			if err != nil {
				assert.NotContains(t, err.Error(), regSecret)
			}
			_, err = src.Resolve(hostContext(t), "git-"+sha1ID)
			if err != nil {
				assert.NotContains(t, err.Error(), regSecret)
			}
			elsewhere := requestsElsewhere(home, other)
			require.NotEmpty(t, elsewhere, "the redirects were followed")
			for _, r := range elsewhere {
				assert.Empty(t, r.Header.Get("Authorization"), "%s %s%s got credentials", r.Method, r.Host, r.Path)
			}
			assert.NotEmpty(t, home.Leaks(regSecrets()...), "the credentials went to the registry itself")
			assert.NotContains(t, logs.String(), regSecret)
		})
	}
}

// A registry that echoes the credentials it got (in its error body and
// headers) does not get them into errors or logs: before, they reached
// freight's errors.
func TestRegistryEchoIsRedacted(t *testing.T) {
	t.Parallel()
	for name, cred := range map[string]Option{
		"basic auth":   WithBasicAuth(regUser, regSecret),
		"bearer token": WithBearerToken(regSecret),
		"credentials": WithCredentials(func(context.Context, string) (Credentials, error) {
			return Credentials{Username: regUser, Password: regSecret}, nil
		}),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := hostilehttp.New(t, basicRegistry(hostilehttp.Echo(http.StatusForbidden)))
			logs := &logtest.Buffer{}
			src, err := NewImageSource(repoOn(srv), cred, fastRetries, WithLogger(logs.Logger()))
			require.NoError(t, err)
			_, err = src.Tags(hostContext(t))
			require.ErrorIs(t, err, ErrUnauthorized)
			assert.False(t, IsRetryable(err))
			_, rerr := src.Resolve(hostContext(t), "git-"+sha1ID)
			require.ErrorIs(t, rerr, ErrUnauthorized)
			require.NotEmpty(t, srv.Leaks(regSecrets()...), "the server got (and echoed) the credentials")
			assert.Contains(t, err.Error(), "xxxxx", "the echo is there, masked")
			for _, e := range []error{err, rerr} { // a HEAD answer has no body to echo in
				for _, s := range regSecrets() {
					assert.NotContains(t, e.Error(), s)
				}
			}
			for _, s := range regSecrets() {
				assert.NotContains(t, logs.String(), s)
			}
		})
	}
}

// A tag listing that never ends (a Link to a next page of new tags,
// forever) costs at most WithMaxPages requests or WithMaxTags tags and a
// LimitError; before, 9.6 M tags took about 1 GiB.
func TestRegistryEndlessTags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		opts      []Option
		limit     string
		max, reqs int
	}{
		{"default tag bound", nil, "tags", DefaultMaxTags, DefaultMaxTags/1000 + 1},
		{"page bound", []Option{WithMaxPages(5)}, "tags/list pages", 5, 5},
		{"tag bound", []Option{WithMaxTags(2500)}, "tags", 2500, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := hostilehttp.New(t, hostilehttp.TagsForever(1000))
			src, err := NewImageSource(repoOn(srv), append(tc.opts, fastRetries)...)
			require.NoError(t, err)
			_, err = src.Tags(hostContext(t))
			var le *LimitError
			require.ErrorAs(t, err, &le)
			assert.ErrorIs(t, err, ErrLimitExceeded)
			assert.False(t, IsRetryable(err))
			assert.Equal(t, tc.limit, le.Limit)
			assert.EqualValues(t, tc.max, le.Max)
			listings := 0
			for _, r := range srv.Requests() {
				if strings.HasSuffix(r.Path, "/tags/list") {
					listings++
				}
			}
			assert.Equal(t, tc.reqs, listings, "not retried")
		})
	}
}

// Huge tag pages, announced or not, fail at the response cap with a
// LimitError before they are decoded, and are not retried.
func TestRegistryHugeTagPage(t *testing.T) {
	t.Parallel()
	for _, announce := range []bool{true, false} {
		srv := hostilehttp.New(t, hostilehttp.HugeTags(256<<20, announce))
		src, err := NewImageSource(repoOn(srv), fastRetries, WithMaxResponseSize(1<<20))
		require.NoError(t, err)
		_, err = src.Tags(hostContext(t))
		var le *LimitError
		require.ErrorAs(t, err, &le, "announced %v", announce)
		assert.Equal(t, "response size", le.Limit)
		assert.EqualValues(t, 1<<20, le.Max)
		assert.Equal(t, 2, srv.Count(), "the ping and one listing")
	}
}

// Memory, in a child process each: a 1 MiB listing (~80,000 tags) is
// read, and an endless listing and a 256 MiB page fail, all under 128 MiB of
// peak RSS with the default limits.
func TestRegistryMemory(t *testing.T) {
	t.Run("1 MiB listing", func(t *testing.T) {
		rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
			srv := hostilehttp.New(t, hostilehttp.HugeTags(1<<20, false))
			src, err := NewImageSource(repoOn(srv))
			require.NoError(t, err)
			tags, err := src.Tags(hostContext(t))
			require.NoError(t, err)
			assert.Greater(t, len(tags), 80_000)
		})
	})
	t.Run("endless listing", func(t *testing.T) {
		rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
			srv := hostilehttp.New(t, hostilehttp.TagsForever(10_000))
			src, err := NewImageSource(repoOn(srv))
			require.NoError(t, err)
			_, err = src.Tags(hostContext(t))
			require.ErrorIs(t, err, ErrLimitExceeded)
		})
	})
	t.Run("256 MiB page", func(t *testing.T) {
		rsstest.Run(t, 128*rsstest.MiB, 2*time.Minute, func(t *testing.T) {
			srv := hostilehttp.New(t, hostilehttp.HugeTags(256<<20, false))
			src, err := NewImageSource(repoOn(srv))
			require.NoError(t, err)
			_, err = src.Tags(hostContext(t))
			require.ErrorIs(t, err, ErrLimitExceeded)
		})
	})
}

// A registry whose tag listing redirects in a loop costs at most 10
// redirects (go-containerregistry's own redirect policy has no bound; the
// transport's does) and an error matching ErrUnsafeContent.
func TestRegistryRedirectLoop(t *testing.T) {
	t.Parallel()
	srv := hostilehttp.New(t, nil)
	srv.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		http.Redirect(w, r, r.URL.Path+"?again", http.StatusFound)
	}))
	src, err := NewImageSource(repoOn(srv), fastRetries)
	require.NoError(t, err)
	_, err = src.Tags(hostContext(t))
	require.ErrorIs(t, err, ErrUnsafeContent)
	assert.False(t, IsRetryable(err))
	assert.Equal(t, 12, srv.Count(), "the ping, the request and 10 redirects")
}

// rotatingRegistry is a token-auth registry whose token service accepts
// only the current password and whose tokens die when the password
// rotates, as a GHCR token exchanged from an hour-long GitHub App
// installation token does.
type rotatingRegistry struct {
	mu       sync.Mutex
	password string
	token    string
	issued   int
}

func (g *rotatingRegistry) rotate(password string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.password, g.token = password, ""
}

func (g *rotatingRegistry) handler(realm func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if r.URL.Path == "/token" {
			if u, p, ok := r.BasicAuth(); !ok || u != regUser || p != g.password {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			g.issued++
			g.token = fmt.Sprintf("registry-token-%d", g.issued)
			_, _ = fmt.Fprintf(w, `{"token":%q}`, g.token)
			return
		}
		if g.token == "" || r.Header.Get("Authorization") != "Bearer "+g.token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm()+`",service="r",scope="repository:app:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = fmt.Fprint(w, `{"name":"app","tags":["a"]}`)
	})
}

// A long-lived ImageSource keeps working when its credentials rotate: the
// provider is asked again when the registry refuses the old token.
func TestRegistryCredentialsRotate(t *testing.T) {
	t.Parallel()
	reg := &rotatingRegistry{password: "installation-token-1"}
	srv := hostilehttp.New(t, nil)
	srv.SetHandler(reg.handler(func() string { return srv.URL + "/token" }))
	var asked []string
	src, err := NewImageSource(repoOn(srv), fastRetries, WithCredentials(func(_ context.Context, host string) (Credentials, error) {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		asked = append(asked, host)
		return Credentials{Username: regUser, Password: reg.password}, nil
	}))
	require.NoError(t, err)
	tags, err := src.Tags(hostContext(t))
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, tags)
	reg.rotate("installation-token-2")
	tags, err = src.Tags(hostContext(t))
	require.NoError(t, err, "the renewed credentials are used")
	assert.Equal(t, []string{"a"}, tags)
	reg.mu.Lock()
	defer reg.mu.Unlock()
	require.GreaterOrEqual(t, len(asked), 2, "asked again for the new token")
	for _, host := range asked {
		assert.Equal(t, srv.Host, host, "asked with the registry's host")
	}
	assert.Equal(t, 2, reg.issued, "one token per password")
}

// slowRegistry answers the ping at once and the tag listing and manifests
// with lie.
func slowRegistry(lie http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/{$}", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "{}") })
	mux.Handle("/v2/app/tags/list", lie)
	mux.Handle("/v2/app/manifests/", lie)
	return mux
}

// A registry that accepts the connection and then trickles its answer
// (one byte every 50 ms of a correct one) or stalls (before or after its
// headers) costs the caller its deadline and no more: Tags and Resolve end
// soon after it with a retryable error matching context.DeadlineExceeded,
// inside a RemoteError, and leave no goroutine running. Not parallel, so
// that the goroutine count is this test's alone.
func TestRegistrySlowAnswers(t *testing.T) {
	before := runtime.NumGoroutine()
	for name, lie := range map[string]http.Handler{
		"trickle":               hostilehttp.Slow(50*time.Millisecond, `{"name":"app","tags":["a","b","c","d","e","f","g","h"]}`),
		"stall after headers":   hostilehttp.Stall(true),
		"stall before anything": hostilehttp.Stall(false),
	} {
		t.Run(name, func(t *testing.T) {
			srv := hostilehttp.New(t, slowRegistry(lie))
			defer srv.Close()
			src, err := NewImageSource(repoOn(srv), fastRetries)
			require.NoError(t, err)
			for op, call := range map[string]func(context.Context) error{
				"tags": func(ctx context.Context) error { _, err := src.Tags(ctx); return err },
				"resolve": func(ctx context.Context) error {
					_, err := src.Resolve(ctx, "git-"+sha1ID)
					return err
				},
			} {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				start := time.Now()
				err := call(ctx)
				elapsed := time.Since(start)
				cancel()
				require.Error(t, err, op)
				assert.ErrorIs(t, err, context.DeadlineExceeded, "%s: %v", op, err)
				assert.True(t, IsRetryable(err), "%s: %v", op, err)
				var re *RemoteError
				assert.ErrorAs(t, err, &re, op)
				assert.Less(t, elapsed, 5*time.Second, op)
			}
		})
	}
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); after > before && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond)
	}
	assert.LessOrEqual(t, after, before, "goroutines left running:\n%s", goroutines())
}

// goroutines returns every goroutine's stack, for a leak's report.
func goroutines() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}
