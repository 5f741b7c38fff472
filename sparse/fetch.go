package sparse

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// errCommitRefused reports that the server refused a want of the commit
// itself: every strategy that asks for it by id will fail the same way.
var errCommitRefused = errors.New("server refused the commit id")

// Object filters the strategies ask for.
const (
	filterBlobNone = "blob:none"
	filterTree0    = "tree:0"
	filterTree1    = "tree:1"
)

// Fetch reads the directories req.Paths of the repository at req.URL as
// they are at commit req.Commit, downloading as little as the server
// allows (see the package documentation for the strategies), and returns
// them in memory.
//
// Errors match one of the six shared sentinels, through a specific one
// where it says more: [ErrInvalidRequest] or [ErrInvalidPath] for bad
// input (including a cache or temporary directory that cannot be used),
// [ErrUnsupportedServer] when no strategy fits the server (all three match
// [ErrInvalid]); [ErrNotFound] for a missing repository, [ErrPathNotFound]
// when a path is missing at the commit or is not a directory,
// [ErrCommitNotFound] when the server does not have or will not serve the
// commit; [ErrUnauthorized]; a *[LimitError] ([ErrLimitExceeded]);
// [ErrUnsafeContent] for hostile trees; [ErrCorrupt] for objects that fail
// verification and [ErrUnavailable] for network failures that outlasted
// the retries (a later retry may help: [IsRetryable]); or the context's
// error. Errors never contain credentials, local paths or more than a few
// hundred bytes of the server's own words.
func Fetch(ctx context.Context, req Request, opts ...Option) (*Checkout, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("sparse: fetch: %w", err)
	}
	v, err := validateRequest(req)
	if err != nil {
		return nil, fmt.Errorf("sparse: fetch: %w", err)
	}
	co, err := fetch(ctx, v, o)
	if err != nil {
		return nil, fmt.Errorf("sparse: fetch %s at %s: %w", redactURL(v.url), v.commit, public(err))
	}
	return co, nil
}

func fetch(ctx context.Context, v *validated, o *options) (*Checkout, error) {
	r, err := dial(v, o)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, o, v.url)
	if err != nil {
		return nil, err
	}
	defer st.close()
	var refs []string
	if v.branch != "" {
		refs = append(refs, v.branch.String())
	}
	if err := r.advertise(ctx, refs, v.commit); err != nil {
		return nil, err
	}
	j := &job{r: r, st: st, v: v, o: o}
	co, err := j.run(ctx)
	if err != nil && errors.Is(err, ErrCorrupt) && !st.temp {
		r.log.Warn("object cache failed verification; rebuilding it", "err", err)
		if err := st.reset(); err != nil {
			return nil, err
		}
		co, err = j.run(ctx)
	}
	return co, err
}

// job is one fetch: the remote, the object store and the request.
type job struct {
	r  *remote
	st *store
	v  *validated
	o  *options
	// bare holds the trees walkPaths fetched alone (levelFilter), whose
	// entries were not sent: listCone must request them again when they
	// are also in the cone.
	bare map[plumbing.Hash]bool
}

// strategy is one way of getting the commit and, afterwards, the objects
// the cone needs.
type strategy struct {
	name string
	// commit makes the commit and its root tree present in the store.
	commit func(context.Context) error
	// wants reports whether missing trees and blobs may be requested by
	// id; levelFilter and coneFilter are used for those requests.
	wants                   bool
	levelFilter, coneFilter string
	// limitFiltered means blobs missing after the cone request were left
	// out by a blob:limit filter, so they are over the size limit.
	limitFiltered bool
}

// strategies lists, best first, the strategies the server's capabilities
// allow for this request.
func (j *job) strategies() []strategy {
	r := j.r
	filter := r.supports("filter")
	// uploadpack.allowAnySHA1InWant advertises allow-reachable-sha1-in-want too.
	objectWants := r.supports("allow-reachable-sha1-in-want")
	commitWant := objectWants || r.supports("allow-tip-sha1-in-want") || r.advertises(j.v.commit)
	var out []strategy
	if filter && objectWants {
		walk := strategy{
			name:   StrategyPathWalk,
			commit: func(ctx context.Context) error { return j.fetchCommit(ctx, filterTree1) },
			wants:  true,
			// An explicitly wanted tree is always sent; tree:0 leaves out
			// everything below it.
			levelFilter: filterTree0,
			coneFilter:  filterBlobNone,
		}
		if j.o.cacheDir == "" {
			// Nothing to reuse: take trees and small blobs in one request;
			// the server leaves out blobs over the limit.
			walk.coneFilter = fmt.Sprintf("blob:limit=%d", j.o.maxBlob+1)
			walk.limitFiltered = true
		}
		out = append(out, walk, strategy{
			name:        StrategyBlobless,
			commit:      func(ctx context.Context) error { return j.fetchCommit(ctx, filterBlobNone) },
			wants:       true,
			levelFilter: filterBlobNone,
			coneFilter:  filterBlobNone,
		})
	}
	if commitWant {
		out = append(out, strategy{
			name:   StrategyShallow,
			commit: func(ctx context.Context) error { return j.fetchCommit(ctx, "") },
		})
	}
	if j.v.branch != "" {
		out = append(out, strategy{name: StrategyBranch, commit: j.deepenBranch})
	}
	return out
}

// run tries the strategies in order, falling back when the server refuses.
func (j *job) run(ctx context.Context) (*Checkout, error) {
	plan := j.strategies()
	if len(plan) == 0 {
		return nil, fmt.Errorf("%w: it refuses wants of unadvertised commits and no branch was given", ErrUnsupportedServer)
	}
	var last error
	commitRefused := false
	for _, s := range plan {
		if commitRefused && s.name != StrategyBranch {
			continue
		}
		co, err := j.try(ctx, s)
		if err == nil {
			return co, nil
		}
		if !refused(err) {
			return nil, err
		}
		commitRefused = commitRefused || errors.Is(err, errCommitRefused)
		last = err
		j.r.log.Debug("strategy refused by server; falling back", "strategy", s.name, "err", err)
	}
	if commitRefused {
		return nil, fmt.Errorf("%w: %v", ErrCommitNotFound, j.r.secrets.String(last.Error()))
	}
	return nil, fmt.Errorf("%w: %v", ErrUnsupportedServer, j.r.secrets.String(last.Error()))
}

func (j *job) try(ctx context.Context, s strategy) (*Checkout, error) {
	j.r.log.Debug("trying strategy", "strategy", s.name)
	co, err := j.fromStore(ctx, s)
	if errors.Is(err, errMissing) {
		// A strategy that cannot ask for single objects needs its own
		// fetch of the commit even if an earlier one left the commit here.
		if !j.haveCommit() || !s.wants {
			if err := s.commit(ctx); err != nil {
				return nil, err
			}
		}
		co, err = j.materialize(ctx, s)
	}
	if err != nil {
		return nil, err
	}
	co.Stats.Strategy = s.name
	co.Stats.BytesReceived, co.Stats.Objects, co.Stats.RoundTrips = j.r.stats()
	return co, nil
}

// fromStore materializes the checkout from what the store already holds (a
// cache, or what an earlier strategy fetched), without any request. It
// returns an error wrapping errMissing if something is not there.
func (j *job) fromStore(ctx context.Context, s strategy) (*Checkout, error) {
	if !j.haveCommit() {
		return nil, errMissing
	}
	offline := s
	offline.wants, offline.limitFiltered = false, false
	return j.materialize(ctx, offline)
}

// haveCommit reports whether the commit and its root tree are in the store.
func (j *job) haveCommit() bool {
	tree, err := j.st.commitTree(j.v.commit)
	return err == nil && j.st.has(tree)
}

// fetchCommit fetches the commit at depth 1 with filter, and checks that
// the server sent it.
func (j *job) fetchCommit(ctx context.Context, filter string) error {
	_, err := j.r.fetch(ctx, j.st, []plumbing.Hash{j.v.commit}, 1, filter)
	if notOurRef(err) {
		return fmt.Errorf("%w: %w", errCommitRefused, err)
	}
	if err != nil {
		return err
	}
	if !j.haveCommit() {
		return fmt.Errorf("%w: server did not send commit %s and its tree", ErrCorrupt, j.v.commit)
	}
	return nil
}

// maxDeepen bounds the branch fallback's history walk.
const maxDeepen = 1 << 20

// deepenBranch fetches the hinted branch with doubling depth until the
// commit shows up, looking at commits only when the server filters.
func (j *job) deepenBranch(ctx context.Context) error {
	ref := j.v.branch.String()
	tip, ok := j.r.adv.Refs[ref]
	if !ok {
		return fmt.Errorf("%w: branch %q is not on the server", ErrCommitNotFound, j.v.branch.Short())
	}
	var filter string
	if j.r.supports("filter") {
		filter = filterTree0
	}
	for depth := 1; depth <= maxDeepen; depth *= 2 {
		shallows, err := j.r.fetch(ctx, j.st, []plumbing.Hash{tip}, depth, filter)
		if err != nil {
			return err
		}
		if j.st.has(j.v.commit) {
			if filter != "" {
				// Found at this depth: now take the trees and blobs.
				if _, err := j.r.fetch(ctx, j.st, []plumbing.Hash{tip}, depth, ""); err != nil {
					return err
				}
			}
			if !j.haveCommit() {
				return fmt.Errorf("%w: server did not send the tree of commit %s", ErrCorrupt, j.v.commit)
			}
			return nil
		}
		if len(shallows) == 0 {
			break // the whole history was sent
		}
	}
	return fmt.Errorf("%w: not in the history of branch %q", ErrCommitNotFound, j.v.branch.Short())
}

// file is one entry of the cone: a regular file, executable or link.
type file struct {
	path string
	mode filemode.FileMode
	hash plumbing.Hash
}

// materialize walks from the commit's root tree to each cone path, lists
// the cone, fetches what is missing when the strategy allows it, and builds
// the checkout.
func (j *job) materialize(ctx context.Context, s strategy) (*Checkout, error) {
	root, err := j.st.commitTree(j.v.commit)
	if err != nil {
		return nil, j.missing(err, "commit")
	}
	cones, err := j.walkPaths(ctx, s, root)
	if err != nil {
		return nil, err
	}
	files, subs, pathBytes, err := j.listCone(ctx, s, cones)
	if err != nil {
		return nil, err
	}
	fsys, err := j.readFiles(ctx, s, files, pathBytes)
	if err != nil {
		return nil, err
	}
	for _, p := range j.v.paths {
		fsys.mkdirAll(p)
	}
	return &Checkout{Commit: j.v.commit.String(), Tree: root.String(), FS: fsys, Submodules: subs}, nil
}

// missing turns errMissing for an object the server should have sent into
// ErrCorrupt; other errors pass through.
func (j *job) missing(err error, what string) error {
	if errors.Is(err, errMissing) {
		return fmt.Errorf("%w: server did not send a needed %s (%w)", ErrCorrupt, what, errMissing)
	}
	return err
}

// ensure requests the objects of hs that are not in the store, if the
// strategy allows wants by id.
func (j *job) ensure(ctx context.Context, s strategy, hs []plumbing.Hash, filter string, what string) error {
	var missing []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	for _, h := range hs {
		if !seen[h] && !j.st.has(h) {
			missing = append(missing, h)
		}
		seen[h] = true
	}
	if len(missing) == 0 {
		return nil
	}
	if !s.wants {
		return j.missing(errMissing, what)
	}
	_, err := j.r.fetch(ctx, j.st, missing, 0, filter)
	return err
}

// walkPaths descends from root one level at a time, all paths together,
// and returns the tree id of each cone path.
func (j *job) walkPaths(ctx context.Context, s strategy, root plumbing.Hash) (map[string]plumbing.Hash, error) {
	type cursor struct {
		path  string
		elems []string
		depth int
		tree  plumbing.Hash
	}
	cursors := make([]cursor, len(j.v.paths))
	for i, p := range j.v.paths {
		cursors[i] = cursor{path: p, elems: strings.Split(p, "/"), tree: root}
	}
	cones := make(map[string]plumbing.Hash, len(cursors))
	for len(cursors) > 0 {
		trees := make([]plumbing.Hash, len(cursors))
		for i, c := range cursors {
			trees[i] = c.tree
		}
		var fetched []plumbing.Hash
		for _, h := range trees {
			if !j.st.has(h) {
				fetched = append(fetched, h)
			}
		}
		if err := j.ensure(ctx, s, trees, s.levelFilter, "tree"); err != nil {
			return nil, err
		}
		if s.wants && len(fetched) > 0 {
			if j.bare == nil {
				j.bare = map[plumbing.Hash]bool{}
			}
			for _, h := range fetched {
				j.bare[h] = true
			}
		}
		next := cursors[:0]
		for _, c := range cursors {
			entries, err := j.st.tree(c.tree)
			if err != nil {
				return nil, j.missing(err, "tree")
			}
			prefix := path.Join(c.elems[:c.depth+1]...)
			e, ok := findEntry(entries, c.elems[c.depth])
			switch {
			case !ok:
				return nil, &PathError{Path: c.path, Reason: fmt.Sprintf("%q does not exist", prefix), Err: ErrPathNotFound}
			case e.mode != filemode.Dir:
				return nil, &PathError{Path: c.path, Reason: fmt.Sprintf("%q is not a directory", prefix), Err: ErrPathNotFound}
			case c.depth == len(c.elems)-1:
				cones[c.path] = e.hash
			default:
				c.depth++
				c.tree = e.hash
				next = append(next, c)
			}
		}
		cursors = next
	}
	return cones, nil
}

func findEntry(entries []treeEntry, name string) (treeEntry, bool) {
	for _, e := range entries {
		if e.name == name {
			return e, true
		}
	}
	return treeEntry{}, false
}

// listCone lists every file below the cone roots, fetching missing trees
// level by level. It checks the file count limit, and bounds the paths the
// checkout will hold — each to maxPathDepth components and maxPathLen
// bytes, all of them with the files' content to the total size limit —
// before building them. It returns the bytes of path it built.
func (j *job) listCone(ctx context.Context, s strategy, cones map[string]plumbing.Hash) ([]file, []Submodule, int64, error) {
	type dir struct {
		path  string
		depth int
		hash  plumbing.Hash
	}
	var queue []dir
	var pathBytes int64
	for _, p := range j.v.paths {
		queue = append(queue, dir{p, strings.Count(p, "/") + 1, cones[p]})
		pathBytes += int64(len(p))
	}
	var files []file
	var subs []Submodule
	dirs := 0
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		hs := make([]plumbing.Hash, len(queue))
		for i, d := range queue {
			hs[i] = d.hash
		}
		if err := j.ensure(ctx, s, hs, s.coneFilter, "tree"); err != nil {
			return nil, nil, 0, err
		}
		// A cone tree identical to one fetched alone on the way to another
		// path is present without its entries: ask for it again.
		var again []plumbing.Hash
		for _, h := range hs {
			if j.bare[h] {
				again = append(again, h)
				delete(j.bare, h)
			}
		}
		if len(again) > 0 && s.wants {
			if _, err := j.r.fetch(ctx, j.st, again, 0, s.coneFilter); err != nil {
				return nil, nil, 0, err
			}
		}
		var next []dir
		for _, d := range queue {
			entries, err := j.st.tree(d.hash)
			if err != nil {
				return nil, nil, 0, j.missing(err, "tree")
			}
			for _, e := range entries {
				// Checked before the path is built: a few KiB of trees
				// nesting long names would otherwise make hundreds of MiB
				// of paths.
				size := int64(len(d.path) + 1 + len(e.name))
				switch {
				case d.depth+1 > maxPathDepth:
					return nil, nil, 0, &LimitError{Limit: "path depth", Max: maxPathDepth, Path: truncate(d.path)}
				case size > maxPathLen:
					return nil, nil, 0, &LimitError{Limit: "path length", Max: maxPathLen, Path: truncate(d.path)}
				case pathBytes+size > j.o.maxTotal:
					return nil, nil, 0, &LimitError{Limit: "total size", Max: j.o.maxTotal, Path: truncate(d.path)}
				}
				pathBytes += size
				p := d.path + "/" + e.name
				switch e.mode {
				case filemode.Dir:
					// Directories and gitlinks are bounded too: entries
					// sharing one subtree make millions of them out of a
					// few hostile bytes.
					if dirs == j.o.maxFiles {
						return nil, nil, 0, &LimitError{Limit: "files", Max: int64(j.o.maxFiles), Path: truncate(p)}
					}
					dirs++
					next = append(next, dir{p, d.depth + 1, e.hash})
				case filemode.Submodule:
					if len(subs) == j.o.maxFiles {
						return nil, nil, 0, &LimitError{Limit: "files", Max: int64(j.o.maxFiles), Path: truncate(p)}
					}
					subs = append(subs, Submodule{Path: p, Commit: e.hash.String()})
				default:
					if len(files) == j.o.maxFiles {
						return nil, nil, 0, &LimitError{Limit: "files", Max: int64(j.o.maxFiles), Path: truncate(p)}
					}
					files = append(files, file{path: p, mode: e.mode, hash: e.hash})
				}
			}
		}
		queue = next
	}
	sort.Slice(subs, func(a, b int) bool { return subs[a].Path < subs[b].Path })
	return files, subs, pathBytes, nil
}

// readFiles fetches the blobs the store lacks and reads every file,
// enforcing the size limits: each blob's, and the total of content and
// paths held (pathBytes already). Files sharing a blob share its bytes.
func (j *job) readFiles(ctx context.Context, s strategy, files []file, pathBytes int64) (*memFS, error) {
	hs := make([]plumbing.Hash, 0, len(files))
	for _, f := range files {
		if s.limitFiltered && !j.st.has(f.hash) {
			return nil, &LimitError{Limit: "blob size", Max: j.o.maxBlob, Path: f.path}
		}
		hs = append(hs, f.hash)
	}
	if err := j.ensure(ctx, s, hs, "", "blob"); err != nil {
		return nil, err
	}
	fsys := newMemFS()
	total := pathBytes
	read := map[plumbing.Hash][]byte{}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, ok := read[f.hash]
		if !ok {
			// Sized from the object's header before it is read: the
			// limits hold before memory is spent.
			if _, size, err := j.st.Size(f.hash); err == nil {
				if size > j.o.maxBlob {
					return nil, &LimitError{Limit: "blob size", Max: j.o.maxBlob, Path: f.path}
				}
				if total+size > j.o.maxTotal {
					return nil, &LimitError{Limit: "total size", Max: j.o.maxTotal, Path: f.path}
				}
			}
			var err error
			data, err = j.st.read(f.hash, plumbing.BlobObject, j.o.maxBlob)
			var big *tooBigError
			if errors.As(err, &big) {
				return nil, &LimitError{Limit: "blob size", Max: j.o.maxBlob, Path: f.path}
			}
			if err != nil {
				return nil, j.missing(err, "blob")
			}
			if total += int64(len(data)); total > j.o.maxTotal {
				return nil, &LimitError{Limit: "total size", Max: j.o.maxTotal, Path: f.path}
			}
			read[f.hash] = data
		}
		fsys.add(f.path, fileMode(f.mode), data)
	}
	return fsys, nil
}

func fileMode(m filemode.FileMode) fs.FileMode {
	switch m {
	case filemode.Executable:
		return 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	}
	return 0o644
}
