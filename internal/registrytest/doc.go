// Package registrytest runs real OCI registries for railyard's tests and
// benchmarks.
//
// # Usage
//
// [Start] (or [New] inside a test) serves go-containerregistry's in-process
// registry on a loopback [httptest] server, wrapped so that it behaves like
// the registries railyard meets in production:
//
//   - GET /v2/<repo>/tags/list honours ?n= and ?last= and sends an RFC 5988
//     `Link: </v2/<repo>/tags/list?n=N&last=T>; rel="next"` header while tags
//     remain (the stock handler truncates paged listings silently); tags are
//     sorted byte-wise, as distribution sorts them; [WithPageSizeCap] makes
//     the server return short pages as GHCR and Docker Hub do;
//   - [WithBasicAuth] and [WithBearerToken] demand credentials and answer 401
//     with a WWW-Authenticate challenge (plus a token endpoint for bearer);
//   - [Registry.Stats] counts requests by kind and [Registry.SetFault]
//     injects delays, error statuses (with Retry-After) and cut connections.
//
// [Registry.PushIndex], [Registry.PushImage], [Registry.Tag] and
// [Registry.TagMany] fill it with small deterministic images; TagMany re-tags
// one manifest with one request per tag, so 10,000 tags take seconds.
//
// [StartExternal] runs the real distribution registry binary (v3) for
// integration tests.
//
// # Security
//
// Servers listen on 127.0.0.1 only. Credentials configured with the auth
// options never appear in errors.
//
// # Concurrency
//
// A [Registry] and an [External] are safe for concurrent use.
//
// # Errors
//
// Helpers return wrapped errors from the underlying HTTP client or
// go-containerregistry; none of them is worth retrying unless a fault was
// injected on purpose.
package registrytest
