package freight

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-git/go-git/v5/plumbing"
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
				// A leak is the user info's ":password@" quoted: masked,
				// it reads ":xxxxx@". Only a path, query or fragment can
				// hold that text too, and is taken out first.
				pw, ok := u.User.Password()
				leak := ":" + pw + "@"
				msg := err.Error()
				for _, part := range []string{u.Path, u.EscapedPath(), u.RawQuery, u.Fragment, u.EscapedFragment()} {
					if strings.Contains(part, leak) {
						quoted := strconv.Quote(part) // as %q writes it
						msg = strings.ReplaceAll(strings.ReplaceAll(msg, part, ""), quoted[1:len(quoted)-1], "")
					}
				}
				quotedLeak := strconv.Quote(leak)
				if ok && pw != "" && (strings.Contains(msg, leak) || strings.Contains(msg, quotedLeak[1:len(quotedLeak)-1])) {
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

// Any bytes as a commit or a tree from a git server: parsed or refused
// with ErrUnsafeContent, never a panic; what is kept of a commit is
// bounded.
func FuzzGitObjects(f *testing.F) {
	f.Add([]byte("tree 0123456789abcdef0123456789abcdef01234567\nparent 0123456789abcdef0123456789abcdef01234567\nauthor A <a@b> 1700000000 +0000\ncommitter A <a@b> 1700000000 +0000\n\nsubject\nbody\n"))
	f.Add([]byte("100644 a.yaml\x000123456789abcdef0123\x00x"))
	f.Add([]byte("40000 k8s\x00aaaaaaaaaaaaaaaaaaaa"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCommit(plumbing.ZeroHash, data)
		if err != nil && !errors.Is(err, ErrUnsafeContent) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && (len(c.subject) > maxSubject || len(c.author) > maxAuthor) {
			t.Fatalf("kept %d/%d bytes", len(c.subject), len(c.author))
		}
		if _, _, err := findEntry(data, "k8s"); err != nil && !errors.Is(err, ErrUnsafeContent) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
