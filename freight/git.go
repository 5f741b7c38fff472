package freight

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/railyard-gitops/railyard/internal/gitwire"
	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
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
// Strategy constants. What the server sends is bounded while it streams
// ([WithMaxTransfer], [WithMaxObjects], [WithMaxObjectSize],
// [WithMaxInflated]) and stored on disk, in a temporary directory removed
// before History returns, so memory does not grow with what is fetched.
//
// A GitSource is safe for concurrent use.
type GitSource struct {
	url     string // credential-free, as given otherwise; Commit.RepoURL
	branch  string
	creds   httpx.CredentialsFunc
	secrets []string
	o       *options
}

// NewGitSource returns a source for branch of the repository at repoURL
// (http or https). User info in repoURL is used as basic auth and removed
// from the URL everywhere else. Options: [WithLimit], [WithIncludePaths],
// credentials ([WithBasicAuth], [WithBearerToken],
// [WithCredentials], [WithGitHubToken]: sent only to the repository's
// origin), [WithHTTPClient], [WithRetries], the limits, [WithLogger]. It
// returns an error wrapping [ErrInvalid] for an unsupported URL, an invalid
// branch name or a rejected option; it does no I/O.
func NewGitSource(repoURL, branch string, opts ...Option) (*GitSource, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(repoURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, invalid("git URL must be http(s)://host/path")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, invalid("git URL %s must not have a query or fragment", redactURL(u))
	}
	if err := plumbing.NewBranchReferenceName(branch).Validate(); err != nil || strings.HasPrefix(branch, "refs/") {
		return nil, invalid("branch name %q", branch)
	}
	g := &GitSource{branch: branch, o: o}
	static := func(c httpx.Credentials) {
		g.creds = httpx.Static(c)
		g.secrets = append(g.secrets, c.Password, c.Token)
	}
	switch {
	case o.credentials != nil:
		fn := o.credentials
		g.creds = func(ctx context.Context, host string) (httpx.Credentials, error) {
			c, err := fn(ctx, host)
			return httpx.Credentials(c), err
		}
	case o.username != "":
		static(httpx.Credentials{Username: o.username, Password: o.password})
	case o.bearer != "":
		static(httpx.Credentials{Token: o.bearer})
	case u.User != nil:
		pw, _ := u.User.Password()
		static(httpx.Credentials{Username: u.User.Username(), Password: pw})
		if pw == "" {
			g.secrets = append(g.secrets, u.User.Username()) // a token as the user name
		}
	case o.githubToken != "" && strings.EqualFold(u.Hostname(), "github.com"):
		static(httpx.Credentials{Username: "x-access-token", Password: o.githubToken})
	}
	u.User = nil
	g.url = u.String()
	return g, nil
}

// URL returns the repository URL without credentials.
func (g *GitSource) URL() string { return g.url }

// Branch returns the watched branch.
func (g *GitSource) Branch() string { return g.branch }

// History fetches the newest commits of the branch (see [WithLimit]), newest
// first by committer time like git log, keeping those that touch an include
// path if [WithIncludePaths] was given.
//
// Errors, inside a [*RemoteError], wrap [ErrBranchNotFound] (also for an
// empty repository), [ErrNotFound] (no such repository), [ErrUnauthorized],
// [ErrRejected] (the server refused the request), a [*LimitError]
// ([ErrLimitExceeded]), [ErrUnsafeContent] (objects of the wrong type, an
// unreadable history), all of which a retry cannot help; [ErrUnavailable]
// (transient failures or malformed answers outlasted the retries; a later
// call may succeed); or the context's error.
func (g *GitSource) History(ctx context.Context) (*History, error) {
	secrets := &redact.Set{}
	secrets.Add(g.secrets...)
	wire, err := gitwire.New(gitwire.Config{
		URL: g.url, HTTPClient: g.o.httpClient, Credentials: g.creds,
		Secrets: secrets,
		Retry:   g.o.policy(),
		Limits: gitwire.Limits{
			MaxTransfer: g.o.maxTransfer, MaxObjects: g.o.maxObjects, MaxObjectSize: g.o.maxObjectSize,
			MaxInflated: g.o.maxInflated, MaxDeltaDepth: gitwire.DefaultMaxDeltaDepth,
		},
		Logger: g.o.logger, Prefix: "freight",
	})
	if err != nil {
		return nil, &RemoteError{Op: "fetch history of " + g.branch, URL: g.url, Err: gitErr(err)}
	}
	h, err := g.fetch(ctx, wire)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = ctx.Err()
		}
		return nil, &RemoteError{Op: "fetch history of " + g.branch, URL: g.url, Err: gitErr(err)}
	}
	st := wire.Stats()
	h.Stats.BytesReceived = st.BytesReceived
	h.Stats.RoundTrips = st.RoundTrips
	redact.Logger(g.o.logger, secrets).DebugContext(ctx, "freight: fetched history",
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

func (g *GitSource) fetch(ctx context.Context, wire *gitwire.Remote) (*History, error) {
	ref := plumbing.NewBranchReferenceName(g.branch).String()
	adv, err := wire.Advertise(ctx, gitwire.UploadPack, gitwire.AdvertiseRequest{Refs: []string{ref}})
	if err != nil {
		return nil, err
	}
	tip, ok := adv.Refs[ref]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrBranchNotFound, g.branch)
	}

	// The plans, least data first: the server may advertise "filter" and
	// still refuse a filter kind (uploadpackfilter.<kind>.allow).
	var plans []fetchPlan
	caps := adv.Caps
	switch {
	case caps.Supports("shallow") && caps.Supports("filter"):
		d := g.treeDepth()
		if d == 0 {
			plans = append(plans, fetchPlan{StrategyCommitsOnly, "tree:0"})
		} else {
			plans = append(plans, fetchPlan{StrategyTreeDepth, fmt.Sprintf("tree:%d", d)})
		}
		plans = append(plans, fetchPlan{StrategyNoBlobs, "blob:none"}, fetchPlan{StrategyShallow, ""})
	case caps.Supports("shallow"):
		plans = append(plans, fetchPlan{StrategyShallow, ""})
	default:
		plans = append(plans, fetchPlan{StrategyFull, ""})
	}
	st, err := gitwire.NewTempStore(g.o.tempDir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var plan fetchPlan
	for i := range plans {
		plan = plans[i]
		err = g.download(ctx, wire, caps, tip, plan, st)
		if err == nil || i == len(plans)-1 || gitwire.KindOf(err) != gitwire.KindFilterRefused {
			break
		}
		g.o.logger.DebugContext(ctx, "freight: filter refused, falling back",
			"url", g.url, "filter", plan.filter, "error", err)
	}
	if err != nil {
		return nil, err
	}

	w := walker{store: st, includePaths: g.o.includePaths, maxObject: g.o.maxObjectSize,
		commits: map[plumbing.Hash]*commitInfo{}, entries: map[treePath]plumbing.Hash{}}
	commits, err := w.newest(tip, g.o.limit)
	if err != nil {
		return nil, err
	}
	out := make([]Commit, 0, len(commits))
	for _, c := range commits {
		out = append(out, Commit{
			RepoURL: g.url, ID: c.id.String(), Branch: g.branch,
			Subject: c.subject, Author: c.author, Time: c.time,
		})
	}
	return &History{Commits: out, Tip: tip.String(), Stats: FetchStats{Strategy: plan.strategy}}, nil
}

// fetchPlan is one way to ask for the window: a strategy and its filter.
type fetchPlan struct {
	strategy string
	filter   string
}

// download asks for the window from tip as plan says and stores the pack.
func (g *GitSource) download(ctx context.Context, wire *gitwire.Remote, caps gitwire.Caps, tip plumbing.Hash, plan fetchPlan, st *gitwire.Store) error {
	req := gitwire.FetchRequest{Wants: []plumbing.Hash{tip}, Filter: plan.filter}
	if plan.strategy != StrategyFull {
		req.Depth = g.o.limit
		if len(g.o.includePaths) > 0 {
			req.Depth++ // the oldest commit is compared with its parent
		}
	}
	_, err := wire.Fetch(ctx, caps, req, st)
	return err
}

// gitErr maps what the git client reported onto the package's sentinels;
// errors already carrying one pass through.
func gitErr(err error) error {
	var e *gitwire.Error
	if !errors.As(err, &e) {
		return err
	}
	for _, s := range []error{ErrInvalid, ErrNotFound, ErrUnauthorized, ErrUnsafeContent, ErrLimitExceeded, ErrUnavailable, ErrRejected} {
		if errors.Is(err, s) {
			return err
		}
	}
	var sentinel error
	switch e.Kind {
	case gitwire.KindInvalid:
		sentinel = ErrInvalid
	case gitwire.KindAuth:
		sentinel = ErrUnauthorized
	case gitwire.KindNotFound:
		sentinel = ErrNotFound
	case gitwire.KindRefused, gitwire.KindNotOurRef, gitwire.KindFilterRefused:
		sentinel = ErrRejected
	case gitwire.KindUnsafe:
		sentinel = ErrUnsafeContent
	case gitwire.KindLimit:
		var le *gitwire.LimitError
		if errors.As(err, &le) {
			return &LimitError{Limit: le.Limit, Max: le.Max}
		}
		sentinel = ErrLimitExceeded
	default: // unavailable, corrupt: transient or malformed answers
		sentinel = ErrUnavailable
	}
	detail := e.Op
	if e.Msg != "" {
		detail += ": " + e.Msg
	}
	return fmt.Errorf("%w: %s", sentinel, detail)
}

// walker walks a fetched history newest first. It keeps a small record of
// each commit (a commit's message may be megabytes; only its subject is
// kept, bounded) and memoizes path lookups: each commit is also read as its
// child's parent, and each tree as its child's parent tree.
type walker struct {
	store        *gitwire.Store
	includePaths []string
	maxObject    int64
	commits      map[plumbing.Hash]*commitInfo
	entries      map[treePath]plumbing.Hash
}

// commitInfo is what the walk keeps of a commit.
type commitInfo struct {
	id      plumbing.Hash
	tree    plumbing.Hash
	parents []plumbing.Hash
	subject string
	author  string
	time    time.Time
}

// maxSubject and maxAuthor bound what is kept of a commit's text.
const (
	maxSubject = 4 << 10
	maxAuthor  = 1 << 10
)

type treePath struct {
	tree plumbing.Hash
	path string
}

// read returns object h, which must be of type t; a missing object is
// plumbing.ErrObjectNotFound, one of another type ErrUnsafeContent.
func (w *walker) read(h plumbing.Hash, t plumbing.ObjectType) ([]byte, error) {
	typ, data, err := w.store.Read(h, w.maxObject)
	switch {
	case errors.Is(err, gitwire.ErrMissing):
		return nil, plumbing.ErrObjectNotFound
	case err != nil:
		return nil, fmt.Errorf("%w: %s", ErrUnsafeContent, err)
	case typ != t:
		return nil, fmt.Errorf("%w: %s is a %s where a %s belongs", ErrUnsafeContent, h, typ, t)
	}
	return data, nil
}

func (w *walker) commit(h plumbing.Hash) (*commitInfo, error) {
	if c, ok := w.commits[h]; ok {
		return c, nil
	}
	data, err := w.read(h, plumbing.CommitObject)
	if err != nil {
		return nil, err
	}
	info, err := parseCommit(h, data)
	if err != nil {
		return nil, err
	}
	w.commits[h] = info
	return info, nil
}

// parseCommit reads what the walk needs from a commit object, copying
// only a bounded subject and author out of it.
func parseCommit(h plumbing.Hash, data []byte) (*commitInfo, error) {
	bad := fmt.Errorf("%w: commit %s does not parse", ErrUnsafeContent, h)
	info := &commitInfo{id: h}
	var haveTree, haveCommitter bool
	for {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return nil, bad
		}
		line := data[:nl]
		data = data[nl+1:]
		if len(line) == 0 {
			break // the message follows
		}
		key, value, _ := bytes.Cut(line, []byte(" "))
		switch string(key) {
		case "tree", "parent":
			id, err := hex.DecodeString(string(value))
			if err != nil || len(id) != 20 {
				return nil, bad
			}
			var ph plumbing.Hash
			copy(ph[:], id)
			if string(key) == "tree" {
				info.tree, haveTree = ph, true
			} else {
				info.parents = append(info.parents, ph)
			}
		case "author":
			var sig object.Signature
			sig.Decode(value)
			info.author = clip(fmt.Sprintf("%s <%s>", sig.Name, sig.Email), maxAuthor)
		case "committer":
			var sig object.Signature
			sig.Decode(value)
			info.time, haveCommitter = sig.When, true
		}
	}
	if !haveTree || !haveCommitter {
		return nil, bad
	}
	subject, _, _ := bytes.Cut(data, []byte("\n"))
	info.subject = clip(strings.TrimSpace(string(subject[:min(len(subject), maxSubject+64)])), maxSubject)
	return info, nil
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.Clone(s[:n])
}

// newest returns up to limit commits reachable from tip, newest committer
// time first, skipping parents beyond the shallow boundary, and keeping only
// commits touching an include path when there are any.
func (w *walker) newest(tip plumbing.Hash, limit int) ([]*commitInfo, error) {
	first, err := w.commit(tip)
	if err != nil {
		return nil, fmt.Errorf("read tip commit %s: %w", tip, err)
	}
	queue := &commitHeap{{c: first}}
	arrivals := 1
	seen := map[plumbing.Hash]bool{tip: true}
	var out []*commitInfo
	for visited := 0; queue.Len() > 0 && visited < limit; visited++ {
		c := heap.Pop(queue).(queued).c
		for _, p := range c.parents {
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
func (w *walker) touches(c *commitInfo) (bool, error) {
	if len(w.includePaths) == 0 {
		return true, nil
	}
	var parentTree plumbing.Hash
	if len(c.parents) > 0 {
		p, err := w.commit(c.parents[0])
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		parentTree = p.tree
	}
	for _, path := range w.includePaths {
		now, err := w.entry(c.tree, path)
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
		data, err := w.read(h, plumbing.TreeObject)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", h, err)
		}
		e, found, err := findEntry(data, name)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("tree %s: %w", h, err)
		}
		if !found {
			return plumbing.ZeroHash, nil
		}
		h, isDir = e.hash, e.dir
	}
	return h, nil
}

type foundEntry struct {
	hash plumbing.Hash
	dir  bool
}

// findEntry scans a tree object's content for name without decoding the
// rest of it.
func findEntry(data []byte, name string) (foundEntry, bool, error) {
	bad := fmt.Errorf("%w: tree does not parse", ErrUnsafeContent)
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 || sp > 7 {
			return foundEntry{}, false, bad
		}
		mode := string(data[:sp])
		data = data[sp+1:]
		nul := bytes.IndexByte(data, 0)
		if nul < 0 || len(data) < nul+21 {
			return foundEntry{}, false, bad
		}
		if string(data[:nul]) == name {
			var e foundEntry
			copy(e.hash[:], data[nul+1:nul+21])
			e.dir = mode == "40000" || mode == "040000"
			return e, true, nil
		}
		data = data[nul+21:]
	}
	return foundEntry{}, false, nil
}

// commitHeap orders commits newest committer time first, then in the order
// the walk reached them, as git log does: among equal times a child, reached
// first, stays ahead of its parents.
type commitHeap []queued

// queued is a commit in the walk's queue and its arrival number.
type queued struct {
	c   *commitInfo
	seq int
}

func (h commitHeap) Len() int { return len(h) }
func (h commitHeap) Less(i, j int) bool {
	ti, tj := h[i].c.time, h[j].c.time
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
