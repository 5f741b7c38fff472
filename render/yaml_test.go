package render

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScanYAML(t *testing.T) {
	t.Parallel()
	scan, err := scanYAML([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod}
---
# a comment-only document
---
apiVersion: v1
kind: Service
metadata: {name: web}
---
just: data
`))
	require.NoError(t, err)
	assert.Equal(t, []resID{
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "web"},
		{APIVersion: "v1", Kind: "Service", Namespace: "default", Name: "web"},
	}, scan.ids)
	assert.Equal(t, 3, scan.docs, "the comment-only document is empty")
	assert.Equal(t, "Deployment.apps/v1 prod/web", scan.ids[0].String())
}

// Ordinary anchors, as teams use them for shared env blocks, are fine.
func TestScanYAMLAnchors(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("common: &env\n  - {name: A, value: a}\n  - {name: B, value: b}\n")
	for i := range 200 {
		b.WriteString("c" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + ": *env\n")
	}
	_, err := scanYAML([]byte(b.String()))
	assert.NoError(t, err)

	_, err = scanYAML([]byte(billionLaughs(9)))
	assert.ErrorIs(t, err, ErrAliasBomb)
	_, err = scanYAML([]byte("a: &x\n  b: *x\n"))
	assert.ErrorIs(t, err, ErrInvalidYAML)
	_, err = scanYAML([]byte("a: *undefined\n"))
	assert.ErrorIs(t, err, ErrInvalidYAML)
}

// FuzzScanYAML: any input is scanned or refused, without a panic or a hang.
func FuzzScanYAML(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte(billionLaughs(3)))
	f.Add([]byte("---\n---\n- &x {a: *x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		scan, err := scanYAML(data)
		if err == nil {
			if scan.expanded < int64(len(data)) {
				t.Fatalf("expanded %d < %d bytes", scan.expanded, len(data))
			}
			for _, id := range scan.ids {
				if id.Kind == "" || id.Name == "" {
					t.Fatalf("incomplete id %+v", id)
				}
			}
		}
	})
}
