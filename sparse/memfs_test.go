package sparse

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testFS() *memFS {
	m := newMemFS()
	m.add("k8s/kustomize/base/deployment.yaml", 0o644, []byte("kind: Deployment\n"))
	m.add("k8s/kustomize/bin/render.sh", 0o755, []byte("#!/bin/sh\n"))
	m.add("k8s/kustomize/base/current.yaml", fs.ModeSymlink|0o777, []byte("deployment.yaml"))
	m.add("k8s/kustomize/shared", fs.ModeSymlink|0o777, []byte("base"))
	m.add("k8s/kustomize/escape", fs.ModeSymlink|0o777, []byte("../../../etc/passwd"))
	m.add("k8s/kustomize/abs", fs.ModeSymlink|0o777, []byte("/etc/passwd"))
	m.add("k8s/kustomize/loop", fs.ModeSymlink|0o777, []byte("loop"))
	return m
}

func TestMemFSConformance(t *testing.T) {
	t.Parallel()
	// fstest.TestFS follows links with Open; the escaping and looping links
	// must then read as missing, which TestFS accepts only if it does not
	// list them. Check the well-behaved part here and the links below.
	m := newMemFS()
	m.add("k8s/kustomize/base/deployment.yaml", 0o644, []byte("kind: Deployment\n"))
	m.add("k8s/kustomize/bin/render.sh", 0o755, []byte("#!/bin/sh\n"))
	m.add("k8s/kustomize/base/current.yaml", fs.ModeSymlink|0o777, []byte("deployment.yaml"))
	m.mkdirAll("k8s/empty")
	require.NoError(t, fstest.TestFS(m, "k8s/kustomize/base/deployment.yaml", "k8s/kustomize/bin/render.sh", "k8s/kustomize/base/current.yaml", "k8s/empty"))
}

func TestMemFSLinks(t *testing.T) {
	t.Parallel()
	m := testFS()

	data, err := fs.ReadFile(m, "k8s/kustomize/base/current.yaml")
	require.NoError(t, err)
	assert.Equal(t, "kind: Deployment\n", string(data), "a link inside the FS is followed")

	data, err = fs.ReadFile(m, "k8s/kustomize/shared/deployment.yaml")
	require.NoError(t, err, "a link in the middle of a path is followed")
	assert.Equal(t, "kind: Deployment\n", string(data))

	for _, name := range []string{"k8s/kustomize/escape", "k8s/kustomize/abs", "k8s/kustomize/loop", "k8s/kustomize/base/deployment.yaml/x", "nope"} {
		_, err := m.Open(name)
		assert.ErrorIs(t, err, fs.ErrNotExist, name)
	}
	_, err = m.Open("../x")
	assert.ErrorIs(t, err, fs.ErrInvalid)

	target, err := fs.ReadLink(m, "k8s/kustomize/escape")
	require.NoError(t, err)
	assert.Equal(t, "../../../etc/passwd", target, "links are visible as links")
	info, err := fs.Lstat(m, "k8s/kustomize/escape")
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSymlink, info.Mode().Type())
	_, err = fs.ReadLink(m, "k8s/kustomize/base/deployment.yaml")
	assert.ErrorIs(t, err, fs.ErrInvalid)

	info, err = fs.Stat(m, "k8s/kustomize/bin/render.sh")
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o755), info.Mode())

	entries, err := fs.ReadDir(m, "k8s/kustomize")
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"abs", "base", "bin", "escape", "loop", "shared"}, names)
}

func TestCheckLinks(t *testing.T) {
	t.Parallel()
	m := newMemFS()
	m.add("a/b/up", fs.ModeSymlink|0o777, []byte("../c"))
	require.NoError(t, m.checkLinks(), "a link climbing inside the tree is fine")
	for _, target := range []string{"../../../x", "/etc/passwd", "../../../../a", "x/../../../../y"} {
		m := newMemFS()
		m.add("a/b/link", fs.ModeSymlink|0o777, []byte(target))
		err := m.checkLinks()
		assert.ErrorIs(t, err, ErrUnsafeContent, target)
	}
}
