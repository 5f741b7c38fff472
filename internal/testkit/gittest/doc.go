// Package gittest runs a real smart-HTTP git server for railyard's tests,
// examples and benchmarks: the git CLI's own `git http-backend`, behind
// net/http/cgi on a loopback httptest server.
//
// Each served repository can switch the upload-pack settings that decide
// which fetch strategies a client may use (partial-clone filters, wants of
// exact object ids) and whether pushes are accepted, so callers can test
// every fallback. The server counts requests and bytes per repository and
// endpoint, and a fault hook can delay, fail or cut any response.
//
// [SSHServer] serves the same bare repositories over SSH on loopback (a
// real handshake with key authentication, the real git upload-pack and
// receive-pack per session); [NewSSH] starts one for a test with a fresh
// client key.
//
// The helpers [Git], [FastImport], [CommitFiles] and [CommitTree] build
// repository content quickly and deterministically with the git CLI.
//
// The package needs the git CLI (with git-http-backend) on PATH. It is
// internal test infrastructure: the railyard packages never import it
// outside their tests.
package gittest
