package gitwire

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/hostilegit"
)

// roomy limits for packs that must be accepted.
var roomy = Limits{MaxTransfer: 1 << 30, MaxObjects: 1 << 20, MaxObjectSize: 64 << 20, MaxInflated: 1 << 30, MaxDeltaDepth: DefaultMaxDeltaDepth}

// deltaRepo builds a repository whose history deltas well: a file grown
// commit by commit, and a few others.
func deltaRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo.git")
	gittest.MustGit(t, "", "init", "--quiet", "--bare", dir)
	var big strings.Builder
	for i := 0; i < 12; i++ {
		for j := 0; j < 200; j++ {
			fmt.Fprintf(&big, "line %d of commit %d: some text that repeats a lot\n", j, i)
		}
		_, err := gittest.CommitFiles(dir, "main", fmt.Sprintf("commit %d", i), map[string]string{
			"big.txt":              big.String(),
			fmt.Sprintf("d/%d", i): fmt.Sprint(i),
			"k8s/kustomize/a.yaml": fmt.Sprintf("kind: ConfigMap\nversion: %d\n", i),
		})
		require.NoError(t, err)
	}
	gittest.MustGit(t, dir, "repack", "-adf", "--depth=50", "--window=50")
	return dir
}

// packOf asks git for a pack of everything reachable from main.
func packOf(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("git", append([]string{"pack-objects", "--stdout", "--revs", "-q"}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("refs/heads/main\n")
	out, err := cmd.Output()
	require.NoError(t, err)
	return out
}

// allObjects lists every object of the repository with its type.
func allObjects(t *testing.T, dir string) map[plumbing.Hash]string {
	t.Helper()
	out := gittest.MustGit(t, dir, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)")
	m := map[plumbing.Hash]string{}
	for _, l := range strings.Split(out, "\n") {
		id, typ, _ := strings.Cut(l, " ")
		m[plumbing.NewHash(id)] = typ
	}
	return m
}

// Packs with OFS and REF deltas, as git writes them, are stored as whole
// objects that read back verified, and the written pack and index are
// ones git itself accepts.
func TestIngestGitPacks(t *testing.T) {
	t.Parallel()
	dir := deltaRepo(t)
	want := allObjects(t, dir)
	for name, args := range map[string][]string{
		"ofs-delta": {"--delta-base-offset"},
		"ref-delta": nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pack := packOf(t, dir, args...)
			// The pack as sent holds deltas (the point of the test).
			in := filepath.Join(t.TempDir(), "in.pack")
			require.NoError(t, os.WriteFile(in, pack, 0o600))
			gittest.MustGit(t, dir, "index-pack", in)
			assert.Contains(t, gittest.MustGit(t, dir, "verify-pack", "-v", in), "chain length")
			st, err := NewTempStore(t.TempDir())
			require.NoError(t, err)
			defer st.Close()
			info, err := st.Ingest(bytes.NewReader(pack), roomy)
			require.NoError(t, err)
			assert.Len(t, info.Objects, len(want))
			for h, typ := range want {
				ot, data, err := st.Read(h, 64<<20)
				require.NoError(t, err, h)
				assert.Equal(t, typ, ot.String(), h)
				assert.NotNil(t, data)
			}
			// git verifies the written pack and its index.
			packs, err := filepath.Glob(filepath.Join(st.packDir(), "*.pack"))
			require.NoError(t, err)
			require.Len(t, packs, 1)
			out := gittest.MustGit(t, dir, "verify-pack", "-v", packs[0])
			assert.NotContains(t, out, "chain length", "no deltas are stored")
			// Reopened, the store finds everything again.
			again, err := OpenStore(st.dir)
			require.NoError(t, err)
			defer again.Close()
			assert.Equal(t, len(want), again.Count())
		})
	}
}

func ingestErr(t *testing.T, pack []byte, lim Limits) error {
	t.Helper()
	st, err := NewTempStore(t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Ingest(bytes.NewReader(pack), lim)
	if err != nil {
		entries, _ := os.ReadDir(st.packDir())
		assert.Empty(t, entries, "nothing is left of a refused pack")
	}
	return err
}

func limitOf(err error) string {
	var le *LimitError
	if errors.As(err, &le) {
		return le.Limit
	}
	return ""
}

// Every lie a pack can tell is one typed error, found before memory is
// spent on it.
func TestIngestRefusesHostilePacks(t *testing.T) {
	t.Parallel()
	small := roomy
	small.MaxObjectSize = 1 << 20
	small.MaxInflated = 4 << 20
	small.MaxObjects = 1000
	blob := []byte("base content\n")
	blobID := hostilegit.ID(hostilegit.TypeBlob, blob)
	chain := func(depth int) []byte {
		var p hostilegit.Pack
		prev := p.Add(hostilegit.TypeBlob, blob)
		for i := 0; i < depth; i++ {
			prev = p.AddOFSDelta(prev, hostilegit.NewDelta(uint64(len(blob)), uint64(len(blob))).Copy(0, uint32(len(blob))).Bytes())
		}
		return p.Bytes()
	}
	many := func(n int, size int64) []byte {
		var p hostilegit.Pack
		for i := 0; i < n; i++ {
			p.AddRaw(hostilegit.TypeBlob, size, hostilegit.ZlibBomb(size))
		}
		return p.Bytes()
	}
	whole := func(typ int, size int64, z []byte) []byte {
		var p hostilegit.Pack
		p.AddRaw(typ, size, z)
		return p.Bytes()
	}
	withDelta := func(delta []byte) []byte {
		var p hostilegit.Pack
		b := p.Add(hostilegit.TypeBlob, blob)
		p.AddOFSDelta(b, delta)
		return p.Bytes()
	}
	deepLimit := small
	deepLimit.MaxDeltaDepth = 10
	for _, tc := range []struct {
		name  string
		pack  []byte
		lim   Limits
		kind  Kind
		limit string
	}{
		{"forged count", hostilegit.Header(0xfffffff0), small, KindLimit, "objects"},
		{"count the transfer cannot carry", hostilegit.Header(999), Limits{MaxTransfer: 1000, MaxObjects: 1000, MaxObjectSize: 1, MaxInflated: 1, MaxDeltaDepth: 1}, KindLimit, "transfer"},
		{"declared object too big", whole(hostilegit.TypeBlob, 1<<30, hostilegit.ZlibBomb(1<<20)), small, KindLimit, "object size"},
		{"inflates past its size", whole(hostilegit.TypeBlob, 10, hostilegit.ZlibBomb(1<<30)), small, KindCorrupt, ""},
		{"inflates short of its size", whole(hostilegit.TypeBlob, 100, hostilegit.Deflate([]byte("short"))), small, KindCorrupt, ""},
		{"not zlib", whole(hostilegit.TypeBlob, 5, []byte("hello world, not zlib")), small, KindCorrupt, ""},
		{"inflated total", many(8, 1<<20), small, KindLimit, "inflated"},
		{"delta result too big", withDelta(hostilegit.NewDelta(uint64(len(blob)), 1<<40).Copy(0, 4).Bytes()), small, KindLimit, "object size"},
		{"delta result lies", withDelta(hostilegit.NewDelta(uint64(len(blob)), 100).Copy(0, 4).Bytes()), small, KindCorrupt, ""},
		{"delta base size lies", withDelta(hostilegit.NewDelta(999, 4).Copy(0, 4).Bytes()), small, KindCorrupt, ""},
		{"delta copies beyond its base", withDelta(hostilegit.NewDelta(uint64(len(blob)), 64).Copy(0, 64).Bytes()), small, KindCorrupt, ""},
		{"delta chain too deep", chain(11), deepLimit, KindLimit, "delta depth"},
		{"thin pack", func() []byte {
			var p hostilegit.Pack
			p.AddREFDelta(blobID, hostilegit.NewDelta(uint64(len(blob)), 4).Copy(0, 4).Bytes())
			return p.Bytes()
		}(), small, KindUnsafe, ""},
		{"OFS base inside another object", func() []byte {
			var p hostilegit.Pack
			p.Add(hostilegit.TypeBlob, blob)
			p.AddOFSDeltaRel(3, hostilegit.NewDelta(uint64(len(blob)), 4).Copy(0, 4).Bytes())
			return p.Bytes()
		}(), small, KindCorrupt, ""},
		{"OFS base before the pack", func() []byte {
			var p hostilegit.Pack
			p.Add(hostilegit.TypeBlob, blob)
			p.AddOFSDeltaRel(1000, hostilegit.NewDelta(uint64(len(blob)), 4).Copy(0, 4).Bytes())
			return p.Bytes()
		}(), small, KindCorrupt, ""},
		{"bad checksum", func() []byte { var p hostilegit.Pack; p.Add(hostilegit.TypeBlob, blob); return p.BadChecksum() }(), small, KindCorrupt, ""},
		{"truncated", func() []byte {
			var p hostilegit.Pack
			p.Add(hostilegit.TypeBlob, blob)
			b := p.Bytes()
			return b[:len(b)-25]
		}(), small, KindUnavailable, ""},
		{"unknown type", whole(5, 4, hostilegit.Deflate([]byte("abcd"))), small, KindCorrupt, ""},
		{"not a pack", []byte("<html>hello</html>"), small, KindCorrupt, ""},
		{"version 4", append([]byte("PACK\x00\x00\x00\x04\x00\x00\x00\x00"), make([]byte, 20)...), small, KindUnsafe, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ingestErr(t, tc.pack, tc.lim)
			if tc.kind == 0 {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.kind, KindOf(err), "%v", err)
			assert.Equal(t, tc.limit, limitOf(err), "%v", err)
		})
	}
}
