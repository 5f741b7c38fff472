// Package hostilehttp serves HTTP servers that lie, for railyard's tests of
// its forge clients (gitops/github, gitops/gitea) and registry client
// (freight): servers that echo the credentials they receive in bodies and
// headers, redirect to other ports and host names, name token services on
// other origins, page forever, and send huge, endless or slow bodies.
//
// A [Server] records every request it receives (headers, query and the
// start of the body) so that a test can assert that no credential reached
// it: [Server.Leaks]. Its handler is any http.Handler; the constructors in
// this package ([Echo], [Redirect], [HugeJSON], [Endless], [Slow], [Stall],
// [PullsForever], [RegistryRealm], [TagsForever], [HugeTags]) are the lies
// the tests tell, and compose with http.ServeMux.
//
// Every server listens on 127.0.0.1; [Server.AltURL] names the same
// listener as "localhost", which is another origin by host name.
//
// It is internal test infrastructure: the railyard packages never import it
// outside their tests.
package hostilehttp
