package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

func init() { benches["gitops"] = runGitops }

const benchDeployDir = "apps/web/deployments/test/deploy"

// gitopsRun is one measured commit of a render.
type gitopsRun struct {
	elapsed  time.Duration
	received int64 // response bytes counted by the server
	sent     int64 // request bytes counted by the server
	requests int64
}

// runGitops measures committing a render of N files to a stage branch of a
// GitOps repository with a long main history: railyard's Repo.Commit
// against the git CLI sequence (clone --depth 1 --branch, rm -r, write,
// add -A, commit, push), interleaved in one run on one gittest server.
func runGitops(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("gitops", flag.ContinueOnError)
	commits := fset.Int("commits", 20000, "commits on main")
	treeFiles := fset.Int("tree", 2000, "files in main's tree (policy of many apps)")
	files := fset.Int("files", 300, "rendered files committed per run")
	runs := fset.Int("runs", 5, "interleaved runs of each way; the median is reported")
	if err := fset.Parse(args); err != nil {
		return err
	}
	srv, err := gittest.Start("")
	if err != nil {
		return err
	}
	defer srv.Close()
	dir, err := srv.InitBare("gitops.git")
	if err != nil {
		return err
	}
	start := time.Now()
	if err := gittest.FastImport(dir, gitopsHistory(*commits, *treeFiles, *files)); err != nil {
		return err
	}
	if _, err := gittest.Git(dir, "repack", "-adq"); err != nil {
		return err
	}
	count, err := gittest.Git(dir, "rev-list", "--count", "refs/heads/main")
	if err != nil {
		return err
	}
	fmt.Printf("GitOps repo: %s commits on main, %d files in main's tree, stage/test holds %d rendered files (built in %v)\n",
		count, *treeFiles, *files, time.Since(start).Round(time.Millisecond))

	url := srv.RepoURL("gitops.git")
	var rail, warm, cli []gitopsRun
	warmRepo, err := gitops.NewRepo(url)
	if err != nil {
		return err
	}
	measure := func(fn func() error) (gitopsRun, error) {
		srv.ResetStats()
		t0 := time.Now()
		if err := fn(); err != nil {
			return gitopsRun{}, err
		}
		r := gitopsRun{elapsed: time.Since(t0)}
		tot := srv.Total("gitops.git")
		r.received, r.sent, r.requests = tot.ResponseBytes, tot.RequestBytes, tot.Requests
		return r, nil
	}
	for i := 1; i <= *runs; i++ {
		n := 3 * i
		railyard := func() error {
			repo, err := gitops.NewRepo(url) // cold: nothing cached
			if err != nil {
				return err
			}
			return commitRender(ctx, repo, *files, n)
		}
		git := func() error { return cliCommit(url, *files, n+1) }
		first, second := railyard, git
		if i%2 == 0 {
			first, second = git, railyard
		}
		a, err := measure(first)
		if err != nil {
			return err
		}
		b, err := measure(second)
		if err != nil {
			return err
		}
		if i%2 == 0 {
			a, b = b, a
		}
		rail, cli = append(rail, a), append(cli, b)
		// The same Repo again: its snapshot of the tip it pushed saves the
		// fetch when no one else wrote in between.
		if err := commitRender(ctx, warmRepo, *files, n+2); err != nil { // primes the snapshot
			return err
		}
		w, err := measure(func() error { return commitRender(ctx, warmRepo, *files, n+102) })
		if err != nil {
			return err
		}
		warm = append(warm, w)
	}
	mr, mw, mc := medianRun(rail), medianRun(warm), medianRun(cli)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "way\tmedian\truns\tbytes received\tbytes sent\trequests\t")
	row := func(name string, m gitopsRun, all []gitopsRun) {
		var ts []string
		for _, r := range all {
			ts = append(ts, fmt.Sprintf("%.3f", r.elapsed.Seconds()))
		}
		fmt.Fprintf(tw, "%s\t%.3f s\t%s\t%d\t%d\t%d\t\n", name, m.elapsed.Seconds(), strings.Join(ts, " "), m.received, m.sent, m.requests)
	}
	row("railyard Repo.Commit (new Repo)", mr, rail)
	row("railyard Repo.Commit (same Repo)", mw, warm)
	row("git CLI clone/rm/add/commit/push", mc, cli)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Printf("ratio railyard/git: %.3f (new Repo), %.3f (same Repo); target <= 0.3\n",
		mr.elapsed.Seconds()/mc.elapsed.Seconds(), mw.elapsed.Seconds()/mc.elapsed.Seconds())
	return nil
}

func medianRun(runs []gitopsRun) gitopsRun {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b gitopsRun) int { return int(a.elapsed - b.elapsed) })
	return s[len(s)/2]
}

// renderFiles returns a render of n files; every tenth changes with run,
// like an image bump that touches the workloads only.
func renderFiles(n, run int) map[string][]byte {
	out := make(map[string][]byte, n)
	for i := range n {
		v := 0
		if i%10 == 0 {
			v = run
		}
		out[fmt.Sprintf("object-%03d.yaml", i)] = renderObject(i, v)
	}
	return out
}

func renderObject(i, version int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: test-object-%03d\n  namespace: web-test\n  labels:\n    app: web\n    version: v%d\ndata:\n", i, version)
	for k := range 20 {
		fmt.Fprintf(&b, "  key%02d: value-%03d-%02d-%s\n", k, i, k, strings.Repeat("x", 40))
	}
	return b.Bytes()
}

func commitRender(ctx context.Context, repo *gitops.Repo, files, run int) error {
	res, err := repo.Commit(ctx, gitops.Change{
		Branch: "stage/test", Dir: benchDeployDir, Files: renderFiles(files, run),
		Message:    fmt.Sprintf("render %d", run),
		Provenance: &gitops.Provenance{FreightID: fmt.Sprintf("%040d", run)},
	})
	if err != nil {
		return err
	}
	if !res.Changed {
		return fmt.Errorf("render %d: nothing changed", run)
	}
	return nil
}

// cliCommit is the git CLI sequence a promotion script runs.
func cliCommit(url string, files, run int) error {
	tmp, err := os.MkdirTemp("", "bench-gitops-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	wt := filepath.Join(tmp, "wt")
	if _, err := gittest.Git("", "clone", "-q", "--depth", "1", "--branch", "stage/test", url, wt); err != nil {
		return err
	}
	deploy := filepath.Join(wt, filepath.FromSlash(benchDeployDir))
	if err := os.RemoveAll(deploy); err != nil {
		return err
	}
	if err := os.MkdirAll(deploy, 0o755); err != nil {
		return err
	}
	for name, data := range renderFiles(files, run) {
		if err := os.WriteFile(filepath.Join(deploy, name), data, 0o644); err != nil {
			return err
		}
	}
	prov := fmt.Sprintf("Railyard-Freight: %040d\n", run)
	if err := os.WriteFile(filepath.Join(deploy, "PROVENANCE"), []byte(prov), 0o644); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"add", "-A"},
		{"commit", "-q", "-m", fmt.Sprintf("render %d\n\n%s", run, prov)},
		{"push", "-q", "origin", "stage/test"},
	} {
		if _, err := gittest.Git(wt, args...); err != nil {
			return err
		}
	}
	return nil
}

// gitopsHistory is a fast-import stream: main starts with treeFiles policy
// files across many apps and gets commits-1 more commits, each editing one
// deployment.yaml; stage/test branches from main's tip with files rendered
// files under benchDeployDir.
func gitopsHistory(commits, treeFiles, files int) *bytes.Buffer {
	var b bytes.Buffer
	ts := gittest.Epoch.Unix()
	path := func(i int) string {
		return fmt.Sprintf("apps/app-%03d/deployments/d%d/deployment.yaml", i/10, i%10)
	}
	commit := func(ref, msg string) {
		ts += 60
		fmt.Fprintf(&b, "commit %s\nauthor %s <%s> %d +0000\ncommitter %s <%s> %d +0000\ndata %d\n%s\n",
			ref, gittest.AuthorName, gittest.AuthorEmail, ts, gittest.AuthorName, gittest.AuthorEmail, ts, len(msg), msg)
	}
	blob := func(p string, data []byte) {
		fmt.Fprintf(&b, "M 100644 inline %s\ndata %d\n%s\n", p, len(data), data)
	}
	commit("refs/heads/main", "policy")
	for i := range treeFiles {
		blob(path(i), fmt.Appendf(nil, "envType: test\nnamespace: app-%03d\nbranch: stage/d%d\nrev: 0\n", i/10, i%10))
	}
	for c := 1; c < commits; c++ {
		commit("refs/heads/main", fmt.Sprintf("policy change %d", c))
		i := c % treeFiles
		blob(path(i), fmt.Appendf(nil, "envType: test\nnamespace: app-%03d\nbranch: stage/d%d\nrev: %d\n", i/10, i%10, c))
	}
	commit("refs/heads/stage/test", "first render")
	b.WriteString("from refs/heads/main\n")
	for name, data := range renderFiles(files, 0) {
		blob(benchDeployDir+"/"+name, data)
	}
	b.WriteString("done\n")
	return &b
}
