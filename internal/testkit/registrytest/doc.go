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
// Unlike distribution, the Link header is sent only while tags remain
// (distribution also sends one after an exactly full last page, leading to
// an empty page); clients must accept both.
//
// [Registry.PushIndex], [Registry.PushImage], [Registry.PushIndexes],
// [Registry.Tag] and [Registry.TagMany] fill it with small deterministic
// images: the same Seed gives the same digests on any registry. TagMany
// re-tags one manifest and PushIndexes pushes indexes differing only in
// their revision annotation, each with one request per tag, so 10,000 tags
// take about a second. Their requests are counted too: call
// [Registry.ResetStats] after filling the registry.
//
// [StartExternal] runs the real distribution registry binary (v3, path in
// $RAILYARD_REGISTRY, see [BinaryFromEnv]) for integration tests; an
// [External] has the same push helpers.
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
