package sparse

import (
	"context"
	"errors"
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
// Errors wrap [ErrInvalidRequest] (bad URL, ref name or option),
// [ErrRefNotFound], [ErrTransfer] (a later retry may help) or the context's
// error. Only the transport and logging options ([WithHTTPClient], the
// credentials, [WithRetries], [WithLogger]) matter here.
func Resolve(ctx context.Context, url, ref string, opts ...Option) (string, error) {
	o, err := newOptions(opts)
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
	defer r.close()
	if err := r.advertise(ctx); err != nil {
		if errors.Is(err, ErrCommitNotFound) {
			// advertise's answer for a repository without any ref.
			return "", fmt.Errorf("sparse: resolve %q on %s: %w: empty repository", ref, r.url, ErrRefNotFound)
		}
		return "", fmt.Errorf("sparse: resolve %q on %s: %w", ref, r.url, err)
	}
	for _, name := range candidates {
		if name == plumbing.HEAD {
			if r.adv.Head != nil {
				return r.adv.Head.String(), nil
			}
			continue
		}
		if h, ok := r.adv.Peeled[name.String()]; ok {
			return h.String(), nil
		}
		if h, ok := r.adv.References[name.String()]; ok {
			return h.String(), nil
		}
	}
	return "", fmt.Errorf("sparse: resolve %q on %s: %w", ref, r.url, ErrRefNotFound)
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
