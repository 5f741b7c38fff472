package freight

import (
	"slices"
	"strings"
)

// Matches is the pairing predicate: it reports whether img was built from
// commit c. That holds only when c.ID is a full lowercase object id (40 hex
// digits, or 64 for SHA-256) and img.Tag is exactly "git-" followed by c.ID.
// Short ids, upper case, padding, suffixes such as "-amd64" and alias tags
// never match. Repository URLs and digests are not compared.
func Matches(img Image, c Commit) bool {
	return isFullID(c.ID) && len(img.Tag) == len(TagPrefix)+len(c.ID) &&
		strings.HasPrefix(img.Tag, TagPrefix) && img.Tag[len(TagPrefix):] == c.ID
}

// Pair returns a Freight for every commit that has a matching image (see
// [Matches]) in each image repository that occurs in images, newest commit
// first: commits must be given newest first, and Pair keeps their order.
//
// Images may come from one repository or from several built from the same
// commit (app, static assets, database seed); a Freight then carries one image
// per repository, sorted by RepoURL. A commit listed more than once pairs at
// most once; of duplicate images (same RepoURL and tag) the first is kept.
// The result is deterministic, its ID and Origin are empty (see [KargoID]),
// and it is nil when nothing pairs.
func Pair(images []Image, commits []Commit) []Freight {
	return pairAll(repositories(images), images, commits)
}

// repositories returns the sorted distinct RepoURLs of images.
func repositories(images []Image) []string {
	repos := make([]string, 0, 1)
	for _, img := range images {
		repos = append(repos, img.RepoURL)
	}
	slices.Sort(repos)
	return slices.Compact(repos)
}

// pairAll pairs commits with images, requiring one image in every one of
// repos (sorted). It is the one implementation behind Pair and Warehouse.
func pairAll(repos []string, images []Image, commits []Commit) []Freight {
	if len(repos) == 0 {
		return nil
	}
	type key struct{ repo, tag string }
	byTag := make(map[key]Image, len(images))
	for _, img := range images {
		k := key{img.RepoURL, img.Tag}
		if _, dup := byTag[k]; !dup {
			byTag[k] = img
		}
	}
	var out []Freight
	seen := make(map[string]bool, len(commits))
	for _, c := range commits {
		if seen[c.ID] || !isFullID(c.ID) {
			continue
		}
		seen[c.ID] = true
		f := Freight{Commit: c, Images: make([]Image, 0, len(repos))}
		for _, repo := range repos {
			img, ok := byTag[key{repo, TagPrefix + c.ID}]
			if !ok || !Matches(img, c) {
				break
			}
			f.Images = append(f.Images, img)
		}
		if len(f.Images) == len(repos) {
			out = append(out, f)
		}
	}
	return out
}
