package sparse

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/go-git/go-git/v5/plumbing"
)

// Resolve returns the commit id that ref names on the repository at url, in
// one round trip (the reference advertisement), so that a caller can pin a
// moving branch once and then [Fetch] that exact commit. ref is "HEAD", a
// full reference name ("refs/heads/main", "refs/tags/v1") or a short name,
// tried as a branch first and then as a tag; annotated tags resolve to the
// commit they point at.
//
// Only the options that affect Resolve are accepted: the transport
// ([WithHTTPClient], [WithMaxTransfer]), the credentials ([WithBasicAuth],
// [WithBearerToken], [WithCredentials], [WithSSHKey], [WithSSHKnownHosts]),
// [WithRetries] and [WithLogger]. Any other option (a cache, a limit on
// packs or files, a progress callback) is refused rather than ignored.
//
// Errors wrap [ErrInvalidRequest] (bad URL, ref name or option, or an
// option that does not affect Resolve), [ErrRefNotFound] (also for an
// empty repository), [ErrNotFound] (no repository), [ErrUnauthorized],
// [ErrUnavailable] (a later retry may help) or the context's error.
func Resolve(ctx context.Context, url, ref string, opts ...Option) (string, error) {
	o, err := newOptionsFor(forResolve, opts)
	if err != nil {
		return "", fmt.Errorf("sparse: resolve: %w", err)
	}
	clean, user, pass, err := splitURL(url)
	if err != nil {
		return "", fmt.Errorf("sparse: resolve: %w", err)
	}
	candidates, err := refCandidates(ref)
	if err != nil {
		return "", fmt.Errorf("sparse: resolve: %w", err)
	}
	r, err := dial(&validated{url: clean, user: user, password: pass}, o)
	if err != nil {
		return "", fmt.Errorf("sparse: resolve: %w", err)
	}
	names := make([]string, len(candidates))
	for i, n := range candidates {
		names[i] = n.String()
	}
	if err := r.advertise(ctx, names); err != nil {
		return "", fmt.Errorf("sparse: resolve %q on %s: %w", truncate(ref), r.url, public(err))
	}
	for _, name := range candidates {
		if name == plumbing.HEAD {
			if !r.adv.Head.IsZero() {
				return r.adv.Head.String(), nil
			}
			continue
		}
		if h, ok := r.adv.Refs[name.String()+"^{}"]; ok {
			return h.String(), nil
		}
		if h, ok := r.adv.Refs[name.String()]; ok {
			return h.String(), nil
		}
	}
	if r.adv.Empty {
		return "", fmt.Errorf("sparse: resolve %q on %s: %w: empty repository", truncate(ref), r.url, ErrRefNotFound)
	}
	return "", fmt.Errorf("sparse: resolve %q on %s: %w", truncate(ref), r.url, ErrRefNotFound)
}

// refCandidates lists the full reference names ref may stand for.
func refCandidates(ref string) ([]plumbing.ReferenceName, error) {
	bad := fmt.Errorf("%w: ref %q is not a valid reference name", ErrInvalidRequest, truncate(ref))
	if strings.ContainsFunc(ref, unicode.IsControl) {
		return nil, bad
	}
	var out []plumbing.ReferenceName
	switch {
	case ref == "HEAD":
		out = []plumbing.ReferenceName{plumbing.HEAD}
	case strings.HasPrefix(ref, "refs/"):
		out = []plumbing.ReferenceName{plumbing.ReferenceName(ref)}
	default:
		out = []plumbing.ReferenceName{plumbing.NewBranchReferenceName(ref), plumbing.NewTagReferenceName(ref)}
	}
	for _, n := range out {
		if n.Validate() != nil {
			return nil, bad
		}
	}
	return out, nil
}
