package demo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"text/template"
)

// fixtures holds the hand-written files of both repositories as Go
// templates: fixtures/monorepo is laid over the monorepo's generated
// content, fixtures/gitops is the GitOps repository's main branch, with
// the path element ENV standing for each deployment.
//
//go:embed fixtures
var fixtures embed.FS

// envPlaceholder is the path element expanded once per deployment.
const envPlaceholder = "ENV"

// instance is one file made from a fixture template.
type instance struct {
	path string // slash path of the file in the repository
	data any    // the template's data
}

// renderFixtures executes every template under fixtures/<root> once per
// instance that expand returns for its path relative to root, and returns
// the files by slash path.
func renderFixtures(root string, expand func(rel string) []instance) (map[string][]byte, error) {
	out := map[string][]byte{}
	base := path.Join("fixtures", root)
	err := fs.WalkDir(fixtures, base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fixtures.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, base+"/")
		tmpl, err := template.New(rel).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return fmt.Errorf("demo: fixture %s: %w", rel, err)
		}
		for _, in := range expand(rel) {
			var b bytes.Buffer
			if err := tmpl.Execute(&b, in.data); err != nil {
				return fmt.Errorf("demo: fixture %s: %w", rel, err)
			}
			out[in.path] = b.Bytes()
		}
		return nil
	})
	return out, err
}

// fixturesDigest identifies the fixtures and the generator's format, so a
// cached world built from other fixtures is rebuilt.
func fixturesDigest() string {
	h := sha256.New()
	fmt.Fprintf(h, "format %d\n", formatVersion)
	_ = fs.WalkDir(fixtures, "fixtures", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fixtures.ReadFile(p)
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))
}
