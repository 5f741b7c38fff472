// Package hostilegit is a smart-HTTP git server that lies: it advertises
// references and capabilities as git does, and answers upload-pack and
// receive-pack requests with whatever a test hands it — packs crafted
// object by object ([Pack]), ERR lines, side-band errors, 401 bodies that
// echo the credentials they received, endless or slow bodies.
//
// It exists for the tests of the packages that read git packs (sparse,
// freight, gitops): normal behaviour is tested against a real `git
// http-backend` (internal/testkit/gittest); this kit is only for the lies a
// real server would not tell: forged object counts, zlib and delta bombs,
// deep and long trees, objects of the wrong type, truncated packs, bad
// checksums, false shallow lines and push reports.
//
// The crafting helpers are written from the pack format itself (git's
// Documentation/gitformat-pack.txt), independently of the parsers under
// test, and checked against the git CLI in this package's tests.
//
// It is internal test infrastructure: railyard's packages never import it
// outside their tests.
package hostilegit
