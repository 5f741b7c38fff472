package freight

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Strategies a [GitSource] reports in [FetchStats.Strategy], from the least
// data to the most.
const (
	// StrategyCommitsOnly fetched the window's commits without trees or
	// blobs (filter tree:0 with deepen).
	StrategyCommitsOnly = "commits-only"
	// StrategyTreeDepth fetched the window's commits and only the trees
	// shallow enough to see the include paths (filter tree:<depth>).
	StrategyTreeDepth = "tree-depth"
	// StrategyNoBlobs fetched the window's commits and trees without blobs
	// (filter blob:none): the server refused tree filters.
	StrategyNoBlobs = "no-blobs"
	// StrategyShallow fetched the window with trees and blobs: the server
	// does not allow filters.
	StrategyShallow = "shallow"
	// StrategyFull fetched the whole history: the server allows neither
	// filters nor shallow fetches.
	StrategyFull = "full"
)

// FetchStats describes what one history fetch cost. It is plain data.
type FetchStats struct {
	Strategy      string // one of the Strategy constants
	BytesReceived int64  // HTTP response bytes, headers excluded
	RoundTrips    int    // HTTP requests, retries included
}

// History is the newest commits of a branch, newest first, and what it cost
// to learn them. It is plain data, safe for concurrent reads.
type History struct {
	Commits []Commit
	Tip     string // the branch's commit id at fetch time
	Stats   FetchStats
}

// GitSource lists the newest commits of one branch of a git repository over
// smart HTTP(S), fetching as little as the server allows: commits only (no
// trees or blobs) where it supports filters, else commits and trees (when it
// refuses tree filters), else a shallow and then a full fetch; see the
// Strategy constants. Filtered fetches are held in memory (commits and
// trees only); the others go to a temporary directory that is removed
// before History returns.
//
// A GitSource is safe for concurrent use.
type GitSource struct {
	url    string // credential-free, as given otherwise; Commit.RepoURL
	branch string
	auth   transport.AuthMethod
	client transport.Transport
	o      *options
}

// NewGitSource returns a source for branch of the repository at repoURL
// (http or https). User info in repoURL is used as basic auth and removed
// from the URL everywhere else. Options: [WithLimit], [WithIncludePaths],
// [WithObjectFormat], credentials, [WithTransport], [WithRetries],
// [WithLogger]. It returns an error wrapping [ErrInvalid] for an
// unsupported URL, an invalid branch name or a rejected option; it does no
// I/O.
func NewGitSource(repoURL, branch string, opts ...Option) (*GitSource, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(repoURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, invalid("git URL must be http(s)://host/path")
	}
	if err := plumbing.NewBranchReferenceName(branch).Validate(); err != nil || strings.HasPrefix(branch, "refs/") {
		return nil, invalid("branch name %q", branch)
	}
	var auth transport.AuthMethod
	switch {
	case o.username != "":
		auth = &githttp.BasicAuth{Username: o.username, Password: o.password}
	case o.bearer != "":
		auth = &githttp.TokenAuth{Token: o.bearer}
	case u.User != nil:
		pw, _ := u.User.Password()
		auth = &githttp.BasicAuth{Username: u.User.Username(), Password: pw}
	case o.githubToken != "" && strings.EqualFold(u.Hostname(), "github.com"):
		auth = &githttp.BasicAuth{Username: "x-access-token", Password: o.githubToken}
	}
	u.User = nil
	clean := u.String()
	if _, err := transport.NewEndpoint(clean); err != nil {
		return nil, invalid("git URL %s", redactURL(u))
	}
	return &GitSource{
		url: clean, branch: branch, auth: auth,
		client: githttp.NewClient(o.client()), o: o,
	}, nil
}

// URL returns the repository URL without credentials.
func (g *GitSource) URL() string { return g.url }

// Branch returns the watched branch.
func (g *GitSource) Branch() string { return g.branch }

// History fetches the newest commits of the branch (see [WithLimit]), newest
// first by committer time like git log, keeping those that touch an include
// path if [WithIncludePaths] was given.
//
// Errors wrap [ErrBranchNotFound], [ErrNotFound] (no such repository),
// [ErrUnauthorized], [ErrRejected] (retrying cannot help),
// [ErrUnavailable] (transient failures outlasted the retries; a later call
// may succeed) or the context's error, inside a [*RemoteError].
func (g *GitSource) History(ctx context.Context) (*History, error) {
	ctx, stats := withCallStats(ctx)
	var h *History
	err := g.o.retry(ctx, func() error {
		var err error
		h, err = g.fetch(ctx)
		return err
	})
	if err != nil {
		return nil, &RemoteError{Op: "fetch history of " + g.branch, URL: g.url, Err: err}
	}
	h.Stats.BytesReceived = stats.bytesReceived.Load()
	h.Stats.RoundTrips = int(stats.requests.Load())
	g.o.logger.DebugContext(ctx, "freight: fetched history",
		"url", g.url, "branch", g.branch, "commits", len(h.Commits),
		"strategy", h.Stats.Strategy, "bytes", h.Stats.BytesReceived)
	return h, nil
}

// treeDepth is the filter depth that keeps every tree along the include
// paths but the last element's own: "k8s/kustomize" needs depths 0 and 1.
func (g *GitSource) treeDepth() int {
	d := 0
	for _, p := range g.o.includePaths {
		d = max(d, strings.Count(p, "/")+1)
	}
	return d
}

func (g *GitSource) fetch(ctx context.Context) (*History, error) {
	// A fresh endpoint per fetch: go-git rewrites it when the server
	// redirects, so it cannot be shared between concurrent fetches.
	ep, err := transport.NewEndpoint(g.url)
	if err != nil {
		return nil, err
	}
	session, err := g.client.NewUploadPackSession(ep, g.auth)
	if err != nil {
		return nil, gitErr(err)
	}
	defer session.Close()
	adv, err := session.AdvertisedReferencesContext(ctx)
	if err != nil {
		return nil, gitErr(err)
	}
	refs, err := adv.AllReferences()
	if err != nil {
		return nil, gitErr(err)
	}
	ref, ok := refs[plumbing.NewBranchReferenceName(g.branch)]
	if !ok || ref.Type() != plumbing.HashReference {
		return nil, fmt.Errorf("%w: %s", ErrBranchNotFound, g.branch)
	}
	tip := ref.Hash()

	// The plans, least data first: the server may advertise "filter" and
	// still refuse a filter kind (uploadpackfilter.<kind>.allow).
	var plans []fetchPlan
	caps := adv.Capabilities
	switch {
	case caps.Supports(capability.Shallow) && caps.Supports(capability.Filter):
		d := g.treeDepth()
		if d == 0 {
			plans = append(plans, fetchPlan{StrategyCommitsOnly, packp.FilterTreeDepth(0)})
		} else {
			plans = append(plans, fetchPlan{StrategyTreeDepth, packp.FilterTreeDepth(uint64(d))})
		}
		plans = append(plans, fetchPlan{StrategyNoBlobs, packp.FilterBlobNone()}, fetchPlan{StrategyShallow, ""})
	case caps.Supports(capability.Shallow):
		plans = append(plans, fetchPlan{StrategyShallow, ""})
	default:
		plans = append(plans, fetchPlan{StrategyFull, ""})
	}
	var store storer.Storer
	var plan fetchPlan
	for i := range plans {
		plan = plans[i]
		var cleanup func()
		store, cleanup, err = g.download(ctx, session, caps, tip, plan)
		defer cleanup()
		if err == nil || i == len(plans)-1 || !strings.Contains(err.Error(), "filter") {
			break
		}
		g.o.logger.DebugContext(ctx, "freight: filter refused, falling back",
			"url", g.url, "filter", string(plan.filter), "error", err)
	}
	if err != nil {
		return nil, err
	}

	w := walker{store: store, includePaths: g.o.includePaths,
		commits: map[plumbing.Hash]*object.Commit{}, entries: map[treePath]plumbing.Hash{}}
	commits, err := w.newest(tip, g.o.limit)
	if err != nil {
		return nil, err
	}
	out := make([]Commit, 0, len(commits))
	for _, c := range commits {
		subject, _, _ := strings.Cut(c.Message, "\n")
		out = append(out, Commit{
			RepoURL: g.url, ID: c.Hash.String(), Branch: g.branch,
			Subject: strings.TrimSpace(subject),
			Author:  fmt.Sprintf("%s <%s>", c.Author.Name, c.Author.Email),
			Time:    c.Committer.When,
		})
	}
	return &History{Commits: out, Tip: tip.String(), Stats: FetchStats{Strategy: plan.strategy}}, nil
}

// fetchPlan is one way to ask for the window: a strategy and its filter.
type fetchPlan struct {
	strategy string
	filter   packp.Filter
}

// download asks for the window from tip as plan says and stores the pack.
// cleanup, never nil, removes what it stored on disk.
func (g *GitSource) download(ctx context.Context, session transport.UploadPackSession,
	caps *capability.List, tip plumbing.Hash, plan fetchPlan) (store storer.Storer, cleanup func(), err error) {
	cleanup = func() {}
	req := packp.NewUploadPackRequestFromCapabilities(caps)
	// No side band: the pack comes raw, and there is no progress to show.
	req.Capabilities.Delete(capability.Sideband64k)
	req.Capabilities.Delete(capability.Sideband)
	req.Wants = []plumbing.Hash{tip}
	if plan.strategy != StrategyFull {
		depth := g.o.limit
		if len(g.o.includePaths) > 0 {
			depth++ // the oldest commit is compared with its parent
		}
		_ = req.Capabilities.Set(capability.Shallow)
		req.Depth = packp.DepthCommits(depth)
	}
	if plan.filter != "" {
		_ = req.Capabilities.Set(capability.Filter)
		req.Filter = plan.filter
		// Commits and trees at most: small enough for memory.
		store = memory.NewStorage()
	} else {
		// Trees and blobs of the window, possibly of the whole history.
		dir, err := os.MkdirTemp("", "railyard-freight-")
		if err != nil {
			return nil, cleanup, fmt.Errorf("create temporary object store: %w", err)
		}
		cleanup = func() { os.RemoveAll(dir) }
		store = filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	}
	resp, err := session.UploadPack(ctx, req)
	if err != nil {
		return nil, cleanup, gitErr(err)
	}
	err = packfile.UpdateObjectStorage(store, resp)
	if cerr := resp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, cleanup, gitErr(err)
	}
	return store, cleanup, nil
}

// gitErr maps go-git's transport errors onto the package's sentinels.
func gitErr(err error) error {
	var status *githttp.Err
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		// No branch at all, so not the watched one either.
		return fmt.Errorf("%w: %w", ErrBranchNotFound, err)
	case errors.Is(err, transport.ErrEmptyUploadPackRequest):
		// We never send an empty request: the answer was cut before it began.
		return fmt.Errorf("empty upload-pack response: %w", err)
	case unexpectedStatus(err, &status):
		return statusErr(status.StatusCode(), err)
	case unexpectedUnavailable(err):
		// The transport gave up on the upload-pack request; go-git hid its
		// error from errors.Is.
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// unexpectedStatus finds go-git's HTTP status error, which it wraps in a
// plumbing.UnexpectedError without Unwrap.
func unexpectedStatus(err error, target **githttp.Err) bool {
	var ue *plumbing.UnexpectedError
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return errors.As(err, target)
}

// unexpectedUnavailable reports an error go-git wrapped in a
// plumbing.UnexpectedError (which has no Unwrap) around [ErrUnavailable].
func unexpectedUnavailable(err error) bool {
	var ue *plumbing.UnexpectedError
	return errors.As(err, &ue) && errors.Is(ue.Err, ErrUnavailable)
}

// walker walks a fetched history newest first. It memoizes decoded
// commits and path lookups: each commit is also read as its child's parent,
// and each tree as its child's parent tree.
type walker struct {
	store        storer.EncodedObjectStorer
	includePaths []string
	commits      map[plumbing.Hash]*object.Commit
	entries      map[treePath]plumbing.Hash
}

type treePath struct {
	tree plumbing.Hash
	path string
}

func (w *walker) commit(h plumbing.Hash) (*object.Commit, error) {
	if c, ok := w.commits[h]; ok {
		return c, nil
	}
	obj, err := w.store.EncodedObject(plumbing.CommitObject, h)
	if err != nil {
		return nil, err
	}
	c, err := object.DecodeCommit(w.store, obj)
	if err != nil {
		return nil, err
	}
	w.commits[h] = c
	return c, nil
}

// newest returns up to limit commits reachable from tip, newest committer
// time first, skipping parents beyond the shallow boundary, and keeping only
// commits touching an include path when there are any.
func (w *walker) newest(tip plumbing.Hash, limit int) ([]*object.Commit, error) {
	first, err := w.commit(tip)
	if err != nil {
		return nil, fmt.Errorf("read tip commit %s: %w", tip, err)
	}
	queue := &commitHeap{{c: first}}
	arrivals := 1
	seen := map[plumbing.Hash]bool{tip: true}
	var out []*object.Commit
	for visited := 0; queue.Len() > 0 && visited < limit; visited++ {
		c := heap.Pop(queue).(queued).c
		for _, p := range c.ParentHashes {
			if seen[p] {
				continue
			}
			seen[p] = true
			pc, err := w.commit(p)
			if errors.Is(err, plumbing.ErrObjectNotFound) {
				continue // beyond the shallow boundary
			}
			if err != nil {
				return nil, fmt.Errorf("read commit %s: %w", p, err)
			}
			heap.Push(queue, queued{c: pc, seq: arrivals})
			arrivals++
		}
		touched, err := w.touches(c)
		if err != nil {
			return nil, err
		}
		if touched {
			out = append(out, c)
		}
	}
	return out, nil
}

// touches reports whether c changed an include path relative to its first
// parent (true without include paths, and when the parent was not fetched).
func (w *walker) touches(c *object.Commit) (bool, error) {
	if len(w.includePaths) == 0 {
		return true, nil
	}
	var parentTree plumbing.Hash
	if len(c.ParentHashes) > 0 {
		p, err := w.commit(c.ParentHashes[0])
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		parentTree = p.TreeHash
	}
	for _, path := range w.includePaths {
		now, err := w.entry(c.TreeHash, path)
		if err != nil {
			return false, err
		}
		before := plumbing.ZeroHash
		if !parentTree.IsZero() {
			if before, err = w.entry(parentTree, path); err != nil {
				return false, err
			}
		}
		if now != before {
			return true, nil
		}
	}
	return false, nil
}

// entry returns the object id at path under tree, or the zero hash when
// the path does not exist. It reads only the trees along the path.
func (w *walker) entry(tree plumbing.Hash, path string) (plumbing.Hash, error) {
	key := treePath{tree, path}
	if h, ok := w.entries[key]; ok {
		return h, nil
	}
	h, err := w.lookup(tree, path)
	if err == nil {
		w.entries[key] = h
	}
	return h, err
}

func (w *walker) lookup(tree plumbing.Hash, path string) (plumbing.Hash, error) {
	h, isDir := tree, true
	for i, name := range strings.Split(path, "/") {
		if i > 0 && !isDir {
			// A file or a submodule where the path needs a directory: the
			// path does not exist in this tree.
			return plumbing.ZeroHash, nil
		}
		obj, err := w.store.EncodedObject(plumbing.TreeObject, h)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", h, err)
		}
		t, err := object.DecodeTree(w.store, obj)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("decode tree %s: %w", h, err)
		}
		e, err := t.FindEntry(name)
		if err != nil {
			return plumbing.ZeroHash, nil
		}
		h, isDir = e.Hash, e.Mode == filemode.Dir
	}
	return h, nil
}

// commitHeap orders commits newest committer time first, then in the order
// the walk reached them, as git log does: among equal times a child, reached
// first, stays ahead of its parents.
type commitHeap []queued

// queued is a commit in the walk's queue and its arrival number.
type queued struct {
	c   *object.Commit
	seq int
}

func (h commitHeap) Len() int { return len(h) }
func (h commitHeap) Less(i, j int) bool {
	ti, tj := h[i].c.Committer.When, h[j].c.Committer.When
	if !ti.Equal(tj) {
		return ti.After(tj)
	}
	return h[i].seq < h[j].seq
}
func (h commitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *commitHeap) Push(x any)   { *h = append(*h, x.(queued)) }
func (h *commitHeap) Pop() any {
	old := *h
	q := old[len(old)-1]
	*h = old[:len(old)-1]
	return q
}
