package freight

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/railyard-gitops/railyard/internal/httpx"
)

// FuzzTrustedAuthOrigins: any string is either refused with ErrInvalid,
// without its password, or accepted as an absolute http(s) origin without
// user info, path or query, that httpx can scope credentials to.
func FuzzTrustedAuthOrigins(f *testing.F) {
	for _, s := range []string{"https://auth.docker.io", "http://localhost:5001/", "https://u:secret@x", "https://x/token", "ftp://x", "https://x?q", "", "https://[::1]:443"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		o, err := newOptionsFor(forImage, []Option{WithTrustedAuthOrigins(raw)})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: %v", raw, err)
			}
			if u, perr := url.Parse(raw); perr == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok && len(pw) >= 4 && strings.Contains(err.Error(), pw) {
					t.Fatalf("%q: password in %v", raw, err)
				}
			}
			return
		}
		u, err := url.Parse(o.trustedAuth[0])
		if err != nil || u.User != nil || u.RawQuery != "" || (u.Path != "" && u.Path != "/") {
			t.Fatalf("accepted %q", raw)
		}
		if _, err := httpx.OriginOf(raw); err != nil {
			t.Fatalf("accepted %q, which httpx refuses: %v", raw, err)
		}
	})
}

// FuzzLegacyGitflowGate: any record content allows only a record naming the
// commit and its tag, and otherwise refuses; it never panics or fails.
func FuzzLegacyGitflowGate(f *testing.F) {
	f.Add("revision: " + sha1ID + "\ntag: git-" + sha1ID + "\nmergedAt: 2026-11-20T10:00:00Z\n")
	f.Add("a: &a [*a]\n")
	f.Add("revision: [\n")
	f.Add("- - - -\n")
	f.Fuzz(func(t *testing.T, content string) {
		gate := LegacyGitflowGate{Warehouse: "w", Env: "e", FS: fstest.MapFS{
			"warehouses/w/legacy-gitflow/e/merged/git-" + sha1ID + ".yaml": {Data: []byte(content)},
		}}
		err := gate.Check(context.Background(), Freight{Commit: Commit{ID: sha1ID}})
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Fatalf("record %q: %v", content, err)
		}
	})
}

// FuzzKargoID: any input hashes to a 40-hex name, and git URL
// normalization is deterministic.
func FuzzKargoID(f *testing.F) {
	f.Add("codeai", "https://github.com/org/repo.git", sha1ID, "ghcr.io/org/app", "git-"+sha1ID)
	f.Add("", "git@github.com:org/repo", "", "", "")
	f.Fuzz(func(t *testing.T, origin, repoURL, id, imageRepo, tag string) {
		f := Freight{Commit: Commit{RepoURL: repoURL, ID: id}, Images: []Image{{RepoURL: imageRepo, Tag: tag}}}
		got := KargoID(origin, f)
		if len(got) != 40 || !isLowerHex(got) {
			t.Fatalf("KargoID = %q", got)
		}
		if normalizeGitURL(repoURL) != normalizeGitURL(repoURL) {
			t.Fatal("normalization not deterministic")
		}
	})
}
