package render

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

// What kustomize fetches.
//
// kustomize reads a reference in one of two ways, and only these two reach
// the network:
//
//   - A file (resources, patches, generator files, configurations, crds,
//     openapi.path, replacements, the files named in builtin plugin
//     configs) is fetched over HTTP when the reference parses as a URL with
//     the scheme http or https, in any case. Anything else is a file path,
//     even "ssh://x" or "github.com/org/repo".
//   - A directory (components; resources that are not a local file) is
//     cloned with the git program when the reference parses as a git
//     repository spec: an ssh, https, http or file URL, an scp-like
//     user@host:path, or github.com/ or github.com: shorthands, each with
//     a repository path that kustomize can split off.
//
// A resource is first tried as a file (so an http(s) URL is fetched, and a
// local file wins over everything else, which is why "web@v2.yaml" and
// "web:v2.yaml" are files when they exist), then as a directory.
//
// isRemoteFile and isGitRepoSpec decide exactly what kustomize decides,
// written from its loader's documented behaviour; the differential tests
// in remote_test.go hold them to kustomize's own answers.

// isRemoteFile reports whether kustomize fetches ref over HTTP when it
// loads it as a file.
func isRemoteFile(ref string) bool {
	u, err := url.Parse(ref)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https")
}

var repoUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isGitRepoSpec reports whether kustomize clones ref with git when it
// loads it as a directory.
func isGitRepoSpec(ref string) bool {
	if strings.HasPrefix(ref, "/") {
		return false // an absolute path, never a repository
	}
	n, _, _ := strings.Cut(ref, "?")
	n, _ = cutPrefixFold(n, "git::")
	scheme := ""
	for _, s := range []string{"ssh://", "https://", "http://", "file://"} {
		if rest, ok := cutPrefixFold(n, s); ok {
			scheme, n = s, rest
			break
		}
	}
	user := repoUser.FindString(n)
	n = n[len(user):]
	lower := strings.ToLower(n)
	github := strings.HasPrefix(lower, "github.com/") || strings.HasPrefix(lower, "github.com:")
	scp := scheme == "" && (user != "" || github)
	if scheme == "" && !scp {
		return false
	}
	allSegments := false
	if scheme == "file://" {
		allSegments = true
	} else {
		sep := strings.Index(n, "/")
		if scp {
			if colon := strings.Index(n, ":"); sep < 0 || (colon > 0 && colon < sep) {
				sep = colon
			}
		}
		host := n
		n = ""
		if sep >= 0 {
			host, n = host[:sep+1], host[sep+1:]
		}
		if host == "" && !github {
			return false
		}
	}
	return repoPathSplits(n, allSegments)
}

// repoPathSplits reports whether kustomize can split rest, the part of a
// repository spec after its host, into a repository path and a directory
// that stays inside the repository.
func repoPathSplits(rest string, allSegments bool) bool {
	var repo, dir string
	switch {
	case strings.Contains(rest, "_git/"):
		i := strings.Index(rest, "_git/") + len("_git/")
		first, after, _ := strings.Cut(rest[i:], "/")
		repo, dir = rest[:i]+first, after
	case strings.Contains(rest, "//"):
		repo, dir, _ = strings.Cut(rest, "//")
	case strings.Contains(rest, ".git"):
		i := strings.Index(rest, ".git") + len(".git")
		repo, dir = rest[:i], rest[i:]
	case allSegments:
		repo = rest
	default:
		segments := strings.Split(rest, "/")
		if len(segments) < 2 {
			return false
		}
		repo, dir = strings.Join(segments[:2], "/"), strings.Join(segments[2:], "/")
	}
	if repo == "" {
		return false
	}
	first, _, _ := strings.Cut(path.Clean(strings.TrimPrefix(dir, "/")), "/")
	return first != ".."
}

// cutPrefixFold cuts prefix (lower case ASCII) from s when s starts with it
// in any case, as kustomize compares: by lower-casing s's first bytes.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.ToLower(s[:len(prefix)]) == prefix {
		return s[len(prefix):], true
	}
	return s, false
}
