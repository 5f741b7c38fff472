// Package gitwire is railyard's one git client: the smart protocol (v0)
// over HTTP and SSH — reference advertisements, upload-pack requests
// (wants, depth, filter, no progress, never a thin pack, side band),
// receive-pack pushes with a lease — and guarded pack ingestion into an
// on-disk [Store]. sparse, freight and gitops speak git only through it,
// and map its error [Kind]s to their own sentinels at their boundary.
//
// # Limits
//
// Everything a server sends is bounded by one operation's [Limits],
// checked before memory is spent: the bytes received (retries included),
// the objects a pack declares (checked before anything is sized from the
// count, and against what the transfer limit can still carry), each
// object's inflated size and each delta's declared result size (checked
// before inflating or applying), the inflated total, and delta chains.
// Packs are written to disk as whole objects, so memory is bounded by the
// largest object allowed, not by what a pack holds (see pack.go for the
// measurements behind that design). pkt-lines are read into one
// 64 KiB buffer; advertisements keep only the references asked for.
//
// # Credentials
//
// HTTP requests go through a client of internal/httpx: credentials are
// added per request, only for the repository's origin, and may rotate.
// Every credential joins a redaction set; server text quoted in errors (ERR
// lines, 401 bodies, SSH standard error) is truncated to [MaxServerText]
// and masked, and so are log lines.
//
// # Retries
//
// Transient failures of idempotent requests (advertisements, upload-pack)
// are retried through internal/retry: full-jitter backoff, Retry-After
// honoured. A half-received pack is never kept. Pushes are not retried
// here: a push whose answer was lost may have landed, which only the
// caller can check.
package gitwire
