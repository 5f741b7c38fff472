package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/demo"
)

// e2eKargoWay promotes railyard's targets the way Kargo's built-in steps
// do, with the git and kustomize CLIs, in a fresh workspace per stage as
// every Kargo Promotion has one:
//
//   - git-clone of the monorepo. Kargo 1.9.5: `git clone --bare` of the
//     whole repository, `git worktree add` of the commit (a full checkout),
//     then `git sparse-checkout init --cone` and `set k8s/kustomize`.
//     Kargo 1.11 with `blobless: true` ([e2eKargo111]): `git clone
//     --filter=blob:none --no-checkout`, sparse-checkout, then checkout of
//     the commit, which fetches the cone's blobs.
//   - git-clone of the GitOps repository (bare, whole): worktrees of main
//     (the policy) and of the stage branch (created as an orphan if
//     missing);
//   - copy of the deploy template, the source package and the env types
//     into a wrapper directory, `kustomize edit` to fill it in
//     (kustomize-set-image: `kustomize edit set image`);
//   - kustomize-build: `kustomize build -o <stage folder>`;
//   - git-commit and git-push: `git add -A`, `git commit`, `git push`;
//     the review stage pushes a generated branch and opens a pull request
//     on the demo forge (git-open-pr), which is merged (git-wait-for-pr).
func e2eKargoWay(ctx context.Context, e *e2eEnv, way string) error {
	for _, t := range e.targets {
		if err := e2eKargoStage(ctx, e, t, way == e2eKargo111); err != nil {
			return fmt.Errorf("%s: %w", t.Stage, err)
		}
		fmt.Fprintf(e.opts.Progress, "  %s: %s done\n", way, t.Stage)
	}
	return nil
}

// e2eKargoStage is one Kargo Promotion, in its own workspace.
func e2eKargoStage(ctx context.Context, e *e2eEnv, t e2eTarget, blobless bool) error {
	ws, err := os.MkdirTemp(e.opts.TempDir, "railyard-e2e-"+t.Stage+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ws)
	sh := e2eShell{ctx: ctx, phases: e.phases}
	src, policy, out, wrapper := filepath.Join(ws, "src"), filepath.Join(ws, "policy"), filepath.Join(ws, "out"), filepath.Join(ws, "wrapper")
	commit, s := t.Freight.Commit.ID, e.served

	// git-clone: the monorepo at the Freight's commit, sparse.
	if blobless {
		sh.run("clone monorepo", ws, "git", "clone", "--quiet", "--filter=blob:none", "--no-checkout", s.MonorepoURL, src)
		sh.run("checkout", src, "git", "sparse-checkout", "init", "--cone")
		sh.run("checkout", src, "git", "sparse-checkout", "set", demo.DeployPath)
		sh.run("checkout", src, "git", "checkout", "--quiet", "--detach", commit)
	} else {
		sh.run("clone monorepo", ws, "git", "clone", "--quiet", "--bare", s.MonorepoURL, "mono.git")
		sh.run("checkout", filepath.Join(ws, "mono.git"), "git", "worktree", "add", "--quiet", "--detach", src, commit)
		sh.run("checkout", src, "git", "sparse-checkout", "init", "--cone")
		sh.run("checkout", src, "git", "sparse-checkout", "set", demo.DeployPath)
	}

	// git-clone: the GitOps repository, main and the stage branch.
	bare := filepath.Join(ws, "gitops.git")
	sh.run("clone gitops", ws, "git", "clone", "--quiet", "--bare", s.GitOpsURL, bare)
	sh.run("clone gitops", bare, "git", "worktree", "add", "--quiet", policy, "main")
	if _, err := sh.output(bare, "git", "rev-parse", "--verify", "--quiet", "refs/heads/"+t.Branch); err == nil {
		sh.run("clone gitops", bare, "git", "worktree", "add", "--quiet", out, t.Branch)
	} else {
		sh.run("clone gitops", bare, "git", "worktree", "add", "--quiet", "--detach", out, "main")
		sh.run("clone gitops", out, "git", "checkout", "--quiet", "--orphan", t.Branch)
		sh.run("clone gitops", out, "git", "rm", "-rfq", ".")
		if t.Review { // git-open-pr createTargetBranch
			sh.write("commit+push", filepath.Join(out, ".railyard-stage", "README"), []byte("Reviewed renders only.\n"))
			sh.run("commit+push", out, "git", "add", "-A")
			sh.run("commit+push", out, "git", "commit", "--quiet", "-m", "Create "+t.Branch)
			sh.run("commit+push", out, "git", "push", "--quiet", "origin", "HEAD:refs/heads/"+t.Branch)
		}
	}

	// copy + kustomize-set-image: the wrapper kustomization.
	app := filepath.Join(policy, "apps", e.world.App)
	sh.copy("copy+edit", filepath.Join(app, "kargo", "templates", "deploy"), wrapper)
	sh.copy("copy+edit", filepath.Join(src, demo.DeployPath, "base"), filepath.Join(wrapper, "base"))
	sh.copy("copy+edit", filepath.Join(app, "envTypes"), filepath.Join(wrapper, "envTypes"))
	kustomize := e.opts.Kustomize
	img := t.Freight.Images[0]
	sh.run("copy+edit", wrapper, kustomize, "edit", "add", "resource", "base")
	sh.run("copy+edit", wrapper, kustomize, "edit", "add", "component", "envTypes/"+t.EnvType)
	sh.run("copy+edit", wrapper, kustomize, "edit", "set", "namespace", t.Namespace)
	sh.run("copy+edit", wrapper, kustomize, "edit", "set", "image", demo.ImageName+"="+img.RepoURL+":"+img.Tag+"@"+img.Digest)

	// kustomize-build into the stage branch's folder, replaced wholly.
	deploy := filepath.Join(out, "apps", e.world.App, "deployments", t.Stage, "deploy")
	sh.remake("kustomize build", deploy)
	sh.run("kustomize build", ws, kustomize, "build", wrapper, "-o", deploy)

	// git-commit + git-push (+ git-open-pr + git-wait-for-pr).
	sh.run("commit+push", out, "git", "add", "-A")
	sh.run("commit+push", out, "git", "commit", "--quiet", "-m", fmt.Sprintf("Promote %s to %s", commit[:12], t.Stage))
	if !t.Review {
		sh.run("commit+push", out, "git", "push", "--quiet", "origin", "HEAD:refs/heads/"+t.Branch)
		return sh.err
	}
	head := "kargo/promotion/" + t.Stage + "-" + commit[:12]
	sh.run("commit+push", out, "git", "push", "--quiet", "origin", "HEAD:refs/heads/"+head)
	if sh.err != nil {
		return sh.err
	}
	return e.phases.time("propose+merge", func() error {
		pr, err := e.forge.Create(ctx, gitops.NewPullRequest{Title: "Promote " + commit[:12], Head: head, Base: t.Branch})
		if err != nil {
			return err
		}
		_, err = e.forge.Merge(ctx, pr.Number)
		return err
	})
}

// e2eShell runs a Kargo way's commands, booking each one's time under a
// phase; after the first error it runs nothing more and keeps that error.
type e2eShell struct {
	ctx    context.Context
	phases *e2ePhases
	err    error
}

// run runs a command in dir.
func (sh *e2eShell) run(phase, dir, name string, args ...string) {
	if sh.err == nil {
		sh.err = sh.phases.time(phase, func() error { _, err := sh.output(dir, name, args...); return err })
	}
}

// output runs a command in dir with a hermetic git configuration and a
// fixed identity, and returns its standard output.
func (sh *e2eShell) output(dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(sh.ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Kargo", "GIT_AUTHOR_EMAIL=kargo@railyard.invalid",
		"GIT_COMMITTER_NAME=Kargo", "GIT_COMMITTER_EMAIL=kargo@railyard.invalid")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// copy copies the directory tree from into the new directory to.
func (sh *e2eShell) copy(phase, from, to string) {
	if sh.err == nil {
		sh.err = sh.phases.time(phase, func() error { return os.CopyFS(to, os.DirFS(from)) })
	}
}

// write writes a file, creating its directory.
func (sh *e2eShell) write(phase, file string, data []byte) {
	if sh.err == nil {
		sh.err = sh.phases.time(phase, func() error {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				return err
			}
			return os.WriteFile(file, data, 0o644)
		})
	}
}

// remake empties dir, creating it if missing.
func (sh *e2eShell) remake(phase, dir string) {
	if sh.err == nil {
		sh.err = sh.phases.time(phase, func() error {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			return os.MkdirAll(dir, 0o755)
		})
	}
}
