package freight

import (
	"crypto/sha1" //nolint:gosec // Kargo's Freight names are SHA-1; this is an identifier, not a signature.
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// KargoID returns the name Kargo gives the Freight f originating from the
// Warehouse named origin: exactly what Kargo's GenerateFreightID computes
// (akuity/kargo pkg/api/freight.go, v1.9 through v1.11) for the same
// artifacts. That is the hex SHA-1 of "Warehouse/<origin>:" followed by the
// sorted artifact keys joined by "|", where a commit's key is its repository
// URL normalized the way Kargo normalizes git URLs, ":" and its ID, and an
// image's key is "<RepoURL>:<Tag>@<Digest>" verbatim.
//
// An origin containing "/" is taken as "<Kind>/<Name>" already. f.ID and
// f.Origin are ignored. Images must carry their digest for the result to
// match the Freight Kargo creates.
func KargoID(origin string, f Freight) string {
	if !strings.Contains(origin, "/") {
		origin = "Warehouse/" + origin
	}
	parts := make([]string, 0, 1+len(f.Images))
	parts = append(parts, normalizeGitURL(f.Commit.RepoURL)+":"+f.Commit.ID)
	for _, img := range f.Images {
		parts = append(parts, img.RepoURL+":"+img.Tag+"@"+img.Digest)
	}
	slices.Sort(parts)
	sum := sha1.Sum([]byte(origin + ":" + strings.Join(parts, "|"))) //nolint:gosec // see import
	return hex.EncodeToString(sum[:])
}

// scpLike matches "[user@]host[:path]", the form Kargo treats as SSH.
var scpLike = regexp.MustCompile(`^((?:[\w-]+@)?[\w-]+(?:\.[\w-]+)*)(?::(.*))?$`)

// normalizeGitURL canonicalizes a git URL the way Kargo does before hashing
// it, so that spellings of one repository yield one Freight ID: the URL is
// lower-cased, stripped of surrounding space and of non-printable runes, and
// loses user info (http/https only), a trailing "/" and then a ".git" suffix;
// SCP-like "[user@]host:path" becomes "ssh://[user@]host/path". A URL with a
// query, or one it cannot parse, is returned exactly as given.
func normalizeGitURL(raw string) string {
	s := strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, strings.ToLower(raw)))
	trim := func(p string) string {
		return strings.TrimSuffix(strings.TrimSuffix(p, "/"), ".git")
	}
	switch {
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"), strings.HasPrefix(s, "ssh://"):
		u, err := url.Parse(s)
		if err != nil || len(u.Query()) > 0 {
			return raw
		}
		if u.Scheme != "ssh" {
			u.User = nil
		}
		u.Path = trim(u.Path)
		return u.String()
	}
	m := scpLike.FindStringSubmatch(s)
	if m == nil {
		return raw
	}
	p, err := url.Parse(m[2])
	if err != nil {
		return raw
	}
	p.Path = trim(p.Path)
	if p.Path == "" {
		return "ssh://" + m[1]
	}
	return fmt.Sprintf("ssh://%s/%s", m[1], p.String())
}
