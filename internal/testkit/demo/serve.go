package demo

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
)

// Served is a world online: its repositories on a git server and its tags
// in a registry. It is safe for concurrent use.
type Served struct {
	// Git serves copies of both repositories as "monorepo.git" and
	// "gitops.git", with every upload-pack switch on and pushes accepted
	// ([gittest.FullConfig]). The copies share objects with the world's
	// repositories by hard links but never write through to them, so tests
	// can push to them (and flip their switches) freely.
	Git *gittest.Server
	// Registry holds every tag of [World.Tags]; its counters are reset
	// after the pushes.
	Registry *registrytest.Registry
	// MonorepoURL and GitOpsURL are the clone URLs.
	MonorepoURL, GitOpsURL string
	// MonorepoDir and GitOpsDir are the served copies' directories.
	MonorepoDir, GitOpsDir string
	// ImageRepo is the image repository with the registry's host:
	// "127.0.0.1:PORT/code-dot-org/code-dot-org".
	ImageRepo string
	// Digests maps every tag to the digest it points at: the index digest
	// for multi-arch tags, the image manifest digest for per-arch tags.
	Digests map[string]string

	root string
	keep bool
	once sync.Once
}

// Serve starts a git server over copies of w's repositories and a registry
// holding w's tags, and returns them once every tag is pushed. The caller
// must [Served.Close] it. Serving the small world takes a fraction of a
// second and the large one a few seconds.
//
// Every commit with an image gets its own multi-arch OCI index, annotated
// with the commit ([RevisionKey]) and the build time [Tag.Built]
// ([CreatedKey]). For the newest 100 commits of the branch and the
// off-branch tags the per-arch images are the commit's own too: their
// configs carry the build time as "created" and the commit as the
// [RevisionKey] label. Older commits' indexes share two unlabelled per-arch
// images, so that each of their tags costs one request. Decoy tags other
// than off-branch ones point at the index (or per-arch image) of their
// commit.
//
// Errors come from the file system, git or the registry; nothing is left
// running after an error.
func Serve(ctx context.Context, w *World) (*Served, error) {
	return serve(ctx, w, "")
}

// ServeIn is [Serve] with the served copies kept in root across runs: a
// copy that root already holds is served as it is — with whatever earlier
// runs pushed to it — and [Served.Close] leaves root in place. Programs use
// it to show that a second run over the same world changes nothing.
func ServeIn(ctx context.Context, w *World, root string) (*Served, error) {
	if root == "" {
		return nil, fmt.Errorf("demo: ServeIn needs a root directory")
	}
	return serve(ctx, w, root)
}

func serve(ctx context.Context, w *World, root string) (s *Served, err error) {
	s = &Served{Digests: map[string]string{}, keep: root != ""}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	if root == "" {
		if s.root, err = os.MkdirTemp("", "railyard-demo-"); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	} else {
		s.root = root
	}
	for name, src := range map[string]string{MonorepoName: w.MonorepoDir, GitOpsName: w.GitOpsDir} {
		dst := filepath.Join(s.root, name)
		if _, err := os.Stat(filepath.Join(dst, "HEAD")); err == nil && s.keep {
			continue
		}
		if err := os.RemoveAll(dst); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		if err := linkTree(src, dst); err != nil {
			return nil, fmt.Errorf("demo: copy %s: %w", name, err)
		}
	}
	if s.Git, err = gittest.Start(s.root); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	for _, name := range []string{MonorepoName, GitOpsName} {
		if err := s.Git.Configure(name, gittest.FullConfig()); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	s.MonorepoURL, s.GitOpsURL = s.Git.RepoURL(MonorepoName), s.Git.RepoURL(GitOpsName)
	s.MonorepoDir, s.GitOpsDir = s.Git.RepoDir(MonorepoName), s.Git.RepoDir(GitOpsName)
	if s.Registry, err = registrytest.Start(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	s.ImageRepo = s.Registry.Repo(w.ImageRepo)
	if err := push(ctx, s.Registry, w, s.Digests); err != nil {
		return nil, err
	}
	s.Registry.ResetStats()
	return s, nil
}

// Close stops both servers and removes the served copies. Calling it again
// does nothing.
func (s *Served) Close() {
	s.once.Do(func() {
		if s.Registry != nil {
			s.Registry.Close()
		}
		if s.Git != nil {
			s.Git.Close()
		}
		if s.root != "" && !s.keep {
			_ = os.RemoveAll(s.root)
		}
	})
}

// linkTree copies the directory tree src to dst, hard-linking files where
// it can. Git replaces files by renaming new ones into place, so writes to
// either copy never reach the other.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil // a bare repository holds no links
		}
		if os.Link(p, target) == nil {
			return nil
		}
		return copyFile(p, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
