package apilist_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/apilist"
)

func TestPackage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `package p

import "context"

// T is exported.
type T struct {
	A, b int
	C    string
	*Embedded
	hidden
}

type Embedded struct{}
type hidden struct{}

type I interface {
	M(ctx context.Context) error
	m()
}

const K = 3
const (
	k2 = 1
	K3 string = "x"
)

var ErrX error = nil

func F(a int) (string, error) { return "", nil }
func f()                       {}
func (t *T) Method() int       { return 0 }
func (h hidden) Method()       {}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\nfunc TestZ() {}\n"), 0o644))
	lines, err := apilist.Package(dir, "example.com/p")
	require.NoError(t, err)
	assert.Equal(t, []string{
		"pkg example.com/p, const K = 3",
		"pkg example.com/p, const K3 string",
		"pkg example.com/p, func F(a int) (string, error)",
		"pkg example.com/p, method (*T) Method() int",
		"pkg example.com/p, type Embedded struct",
		"pkg example.com/p, type I interface",
		"pkg example.com/p, type I interface, M(ctx context.Context) error",
		"pkg example.com/p, type I interface, unexported methods",
		"pkg example.com/p, type T struct",
		"pkg example.com/p, type T struct, A int",
		"pkg example.com/p, type T struct, C string",
		"pkg example.com/p, type T struct, embedded *Embedded",
		"pkg example.com/p, var ErrX error",
	}, lines)
}
