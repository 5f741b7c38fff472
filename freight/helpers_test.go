package freight

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/logtest"
	"github.com/stretchr/testify/require"
)

// fastRetries keeps fault tests quick: 3 retries, 1ms to 20ms apart.
var fastRetries = WithRetries(3, time.Millisecond, 20*time.Millisecond)

// history appends n linear commits to branch of the bare repository dir.
// Commit i changes src/file<i%7>.txt (a few KiB, so that blobs dominate a
// full fetch); every fifth commit also changes k8s/kustomize/base/app.yaml.
// It returns the new commit ids newest first, per the git CLI.
func history(t testing.TB, dir, branch string, n int) []string {
	t.Helper()
	var b bytes.Buffer
	base := gittest.Epoch.Unix()
	parent := ""
	if out, err := gittest.Git(dir, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch); err == nil && out != "" {
		parent = out
		ct := gittest.MustGit(t, dir, "log", "-1", "--format=%ct", parent)
		_, err := fmt.Sscan(ct, &base)
		require.NoError(t, err)
	}
	for i := 1; i <= n; i++ {
		ts := base + int64(i)*60
		msg := fmt.Sprintf("change %d\n\nbody of change %d\n", i, i)
		fmt.Fprintf(&b, "commit refs/heads/%s\nmark :%d\n", branch, i)
		fmt.Fprintf(&b, "author Dev %d <dev%d@example.org> %d +0000\n", i%3, i%3, ts)
		fmt.Fprintf(&b, "committer CI <ci@example.org> %d +0000\n", ts)
		fmt.Fprintf(&b, "data %d\n%s", len(msg), msg)
		switch {
		case i > 1:
			fmt.Fprintf(&b, "from :%d\n", i-1)
		case parent != "":
			fmt.Fprintf(&b, "from %s\n", parent)
		}
		content := noise(i, 4096)
		fmt.Fprintf(&b, "M 100644 inline src/file%d.txt\ndata %d\n%s\n", i%7, len(content), content)
		if i%5 == 0 {
			y := fmt.Sprintf("kind: Deployment\nmetadata:\n  name: app\n  labels:\n    rev: \"%d\"\n", i)
			fmt.Fprintf(&b, "M 100644 inline k8s/kustomize/base/app.yaml\ndata %d\n%s\n", len(y), y)
		}
	}
	b.WriteString("done\n")
	require.NoError(t, gittest.FastImport(dir, &b))
	out := gittest.MustGit(t, dir, "rev-list", "--max-count", fmt.Sprint(n), "refs/heads/"+branch)
	return strings.Fields(out)
}

// noise returns n bytes of hex that differ per seed and barely compress, so
// that blobs weigh in a fetch as they do in a real repository.
func noise(seed, n int) string {
	var b strings.Builder
	sum := sha256.Sum256([]byte(fmt.Sprint(seed)))
	for b.Len() < n {
		sum = sha256.Sum256(sum[:])
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()[:n]
}

// logBuffer is a concurrency-safe log sink.
type logBuffer = logtest.Buffer

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
