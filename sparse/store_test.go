package sparse

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/assert"
)

func TestCheckEntry(t *testing.T) {
	t.Parallel()
	for _, e := range []object.TreeEntry{
		{Name: "kustomization.yaml", Mode: filemode.Regular},
		{Name: "render.sh", Mode: filemode.Executable},
		{Name: "current", Mode: filemode.Symlink},
		{Name: "base", Mode: filemode.Dir},
		{Name: "lib", Mode: filemode.Submodule},
		{Name: ".github", Mode: filemode.Dir},
	} {
		assert.NoError(t, checkEntry(e), e.Name)
	}
	for _, e := range []object.TreeEntry{
		{Name: "", Mode: filemode.Regular},
		{Name: ".", Mode: filemode.Dir},
		{Name: "..", Mode: filemode.Dir},
		{Name: ".git", Mode: filemode.Dir},
		{Name: ".Git", Mode: filemode.Regular},
		{Name: "a/b", Mode: filemode.Regular},
		{Name: "a\\b", Mode: filemode.Regular},
		{Name: "ok", Mode: filemode.FileMode(0o170000)},
	} {
		assert.ErrorIs(t, checkEntry(e), ErrUnsafeContent, "%q", e.Name)
	}
}

// Tree entries are checked before anything is built from them.
func FuzzCheckEntry(f *testing.F) {
	for _, s := range []string{"a", "..", ".git", "a/b", "x\x00", ".GIT", "ok.yaml"} {
		f.Add(s, uint32(0o100644))
	}
	f.Fuzz(func(t *testing.T, name string, mode uint32) {
		err := checkEntry(object.TreeEntry{Name: name, Mode: filemode.FileMode(mode)})
		if err != nil {
			if !errors.Is(err, ErrUnsafeContent) {
				t.Fatalf("%q %o: untyped error %v", name, mode, err)
			}
			return
		}
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") || strings.EqualFold(name, ".git") {
			t.Fatalf("%q accepted", name)
		}
	})
}

// Any bytes as a tree from a server: entries that parse, or
// ErrUnsafeContent; never a panic.
func FuzzEachEntry(f *testing.F) {
	f.Add([]byte("100644 a.yaml\x000123456789abcdef0123"))
	f.Add([]byte("40000 k8s\x00aaaaaaaaaaaaaaaaaaaa100755 run\x00bbbbbbbbbbbbbbbbbbbb"))
	f.Add([]byte("1006444444 x\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := eachEntry(data, func(name []byte, _ filemode.FileMode, _ plumbing.Hash) error {
			n += len(name) + 22
			return nil
		})
		if err != nil && !errors.Is(err, ErrUnsafeContent) {
			t.Fatalf("untyped error %v", err)
		}
		if n > len(data)+len(data)/2 {
			t.Fatalf("%d bytes of entries from %d", n, len(data))
		}
	})
}
