package freight

import "time"

// Commit is one commit of a watched branch.
//
// ID is the full lowercase object id (40 hex digits, or 64 in a SHA-256
// repository). RepoURL is the repository URL as the caller spells it, without
// credentials; Kargo normalizes it when it computes a Freight ID (see
// [KargoID]). Commit is a plain value and safe for concurrent use.
type Commit struct {
	RepoURL string
	ID      string
	Branch  string
	Subject string
	Author  string
	Time    time.Time
}

// Image is one tagged image of a registry repository.
//
// RepoURL is the repository without tag or digest, for example
// "ghcr.io/org/app". Digest is "sha256:<64 hex>"; for a multi-arch tag it is
// the digest of the image index. Digest is empty until it is resolved. Image
// is a plain value and safe for concurrent use.
type Image struct {
	RepoURL string
	Tag     string
	Digest  string
}

// Freight is a promotion candidate: one commit of the watched branch and, for
// every subscribed image repository, the image built from exactly that commit.
//
// Origin is the name of the Warehouse that found it and ID its Kargo Freight
// name, [KargoID](Origin, f); both are empty in the output of [Pair], which
// knows no Warehouse. Images are sorted by RepoURL. Freight is a plain value
// and safe for concurrent use once built.
type Freight struct {
	ID     string
	Origin string
	Commit Commit
	Images []Image
}
