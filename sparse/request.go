package sparse

import (
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/railyard-gitops/railyard/internal/pathcheck"
)

// Limits on a [Request]'s shape, to keep hostile input cheap to refuse.
const (
	maxPaths      = 256
	maxPathLength = 4096
)

// Request names what to fetch. The zero value is invalid: URL, Commit and
// at least one path are required.
type Request struct {
	// URL of the repository: https://, http:// or ssh:// (or scp-like
	// user@host:path). Credentials embedded in the URL are moved to HTTP
	// basic authentication and never logged.
	URL string
	// Commit is the full 40-hex-digit lower-case id of the commit to read.
	// The fetch is of this exact commit, never of a moving branch tip.
	Commit string
	// Branch optionally names the branch (e.g. "main") whose history holds
	// Commit. It is used only by the fallback for servers that refuse wants
	// of exact commit ids.
	Branch string
	// Paths are the cone: repository-relative directory paths such as
	// "k8s/kustomize", with the semantics of `git sparse-checkout set
	// --cone` restricted to the directories themselves (files in parent
	// directories are not included). Nested and duplicate paths are merged.
	Paths []string
}

// validated is a Request after validation: the endpoint URL without
// credentials, the credentials found in it, and the normalized cone.
type validated struct {
	url      string // without userinfo
	user     string
	password string
	commit   plumbing.Hash
	branch   plumbing.ReferenceName
	paths    []string // sorted, deduplicated, no path inside another
}

func validateRequest(req Request) (*validated, error) {
	u, user, pass, err := splitURL(req.URL)
	if err != nil {
		return nil, err
	}
	v := &validated{url: u, user: user, password: pass}
	if !isObjectID(req.Commit) {
		return nil, fmt.Errorf("%w: commit %q is not a full lower-case object id", ErrInvalidRequest, truncate(req.Commit))
	}
	v.commit = plumbing.NewHash(req.Commit)
	if req.Branch != "" {
		if v.branch, err = branchRef(req.Branch); err != nil {
			return nil, err
		}
	}
	if v.paths, err = normalizeCone(req.Paths); err != nil {
		return nil, err
	}
	return v, nil
}

// isObjectID reports whether s is a full lower-case SHA-1 object id.
func isObjectID(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// branchRef turns a branch name such as "main" or "refs/heads/main" into a
// reference name, refusing names git itself refuses.
func branchRef(b string) (plumbing.ReferenceName, error) {
	name := plumbing.ReferenceName(b)
	if !strings.HasPrefix(b, "refs/") {
		name = plumbing.NewBranchReferenceName(b)
	}
	if !name.IsBranch() || name.Validate() != nil || strings.ContainsFunc(b, unicode.IsControl) {
		return "", fmt.Errorf("%w: branch %q is not a valid branch name", ErrInvalidRequest, truncate(b))
	}
	return name, nil
}

// splitURL checks that raw is a URL this package fetches from and returns
// it without userinfo, plus the userinfo it carried.
func splitURL(raw string) (clean, user, password string, err error) {
	bad := func(why string) (string, string, string, error) {
		return "", "", "", fmt.Errorf("%w: URL %s: %s", ErrInvalidRequest, redactURL(raw), why)
	}
	if raw == "" {
		return bad("empty")
	}
	if strings.ContainsFunc(raw, unicode.IsControl) || strings.ContainsAny(raw, " \\") {
		return bad("contains spaces, backslashes or control characters")
	}
	if !strings.Contains(raw, "://") {
		// scp-like syntax: [user@]host:path, always SSH.
		host, _, ok := strings.Cut(raw, ":")
		if !ok || host == "" || strings.ContainsAny(host, "/") {
			return bad("not an http(s) or ssh URL")
		}
		return raw, "", "", nil
	}
	u, perr := url.Parse(raw)
	if perr != nil {
		return bad("does not parse")
	}
	switch u.Scheme {
	case "http", "https", "ssh":
	default:
		return bad("scheme must be https, http or ssh")
	}
	if u.Host == "" || u.Path == "" || u.Path == "/" {
		return bad("needs a host and a repository path")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("query and fragment are not allowed")
	}
	if u.User != nil {
		user = u.User.Username()
		password, _ = u.User.Password()
		if u.Scheme == "ssh" {
			// The SSH user is not a secret; keep it in the URL.
			user, password = "", ""
		} else {
			u.User = nil
		}
	}
	return u.String(), user, password, nil
}

// redactURL returns raw fit for errors and logs: userinfo, query and
// fragment are replaced, and an unparsable URL is reduced to its scheme.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(raw, "://") {
		if i := strings.Index(raw, "://"); i >= 0 {
			return raw[:i] + "://REDACTED"
		}
		// scp-like: user@host:path carries no password, but a user part
		// of user:password does.
		if strings.ContainsFunc(raw, unicode.IsControl) {
			return "REDACTED"
		}
		if i := strings.LastIndex(raw, "@"); i >= 0 && strings.Contains(raw[:i], ":") {
			return truncate("REDACTED" + raw[i:])
		}
		return truncate(raw)
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	u.Fragment = ""
	return truncate(u.String())
}

// truncate shortens hostile input before it is echoed in an error.
func truncate(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// normalizeCone validates cone paths and returns them sorted, deduplicated
// and with any path inside another dropped.
func normalizeCone(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, &PathError{Path: "", Reason: "no paths given", Err: ErrInvalidPath}
	}
	if len(paths) > maxPaths {
		return nil, &PathError{Path: truncate(paths[maxPaths]), Reason: fmt.Sprintf("more than %d paths", maxPaths), Err: ErrInvalidPath}
	}
	clean := make([]string, 0, len(paths))
	for _, p := range paths {
		if err := validatePath(p); err != nil {
			return nil, err
		}
		clean = append(clean, p)
	}
	// Sorted, a path comes after its ancestors (but not necessarily right
	// after: "a-b" sorts between "a" and "a/b").
	sort.Strings(clean)
	kept := map[string]bool{}
	out := clean[:0]
	for _, p := range clean {
		if !kept[p] && !underAny(p, kept) {
			kept[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// underAny reports whether an ancestor directory of p is in set.
func underAny(p string, set map[string]bool) bool {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if set[d] {
			return true
		}
	}
	return false
}

// validatePath reports whether p is acceptable as a cone path: a clean,
// non-empty, repository-relative, slash-separated directory path without
// "." or ".." elements, ".git" elements, glob characters, backslashes or
// control characters. The error is a [*PathError] wrapping
// [ErrInvalidPath].
func validatePath(p string) error {
	bad := func(reason string) error {
		return &PathError{Path: truncate(p), Reason: reason, Err: ErrInvalidPath}
	}
	switch {
	case p == "":
		return bad("empty")
	case len(p) > maxPathLength:
		return bad("too long")
	case !utf8.ValidString(p):
		return bad("not valid UTF-8")
	case strings.ContainsFunc(p, unicode.IsControl):
		return bad("contains control characters")
	case strings.HasPrefix(p, "/"):
		return bad("absolute")
	case strings.ContainsRune(p, '\\'):
		return bad("contains a backslash")
	case strings.ContainsAny(p, "*?[]") || strings.HasPrefix(p, "!"):
		return bad("contains glob characters")
	case p == ".":
		return bad("the whole repository is not a cone")
	}
	for _, elem := range strings.Split(p, "/") {
		switch {
		case elem == "..":
			return bad(`contains ".."`)
		case pathcheck.IsDotGit(elem):
			return bad(`contains ".git"`)
		}
	}
	if path.Clean(p) != p {
		return bad("not clean (empty, \".\" or trailing elements)")
	}
	// The same rules as the tree entries the cone will hold.
	if why := pathcheck.PathProblem(p); why != "" {
		return bad(why)
	}
	return nil
}
