package gitops

import (
	"maps"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// maxSnapshots bounds the snapshot cache of a Repo.
const maxSnapshots = 8

// snapshots caches the commit and trees of tips a Repo recently fetched or
// pushed, so that committing again on top of them fetches nothing. Entries
// are immutable; workspaces get copies of the index.
type snapshots struct {
	mu    sync.Mutex
	order []plumbing.Hash // oldest first
	byID  map[plumbing.Hash]*snapshot
	heads map[string]plumbing.Hash // branch -> its tip when this Repo last saw it
}

type snapshot struct {
	base    *sharedStore             // the fetched objects it builds on, nil for none
	objects []plumbing.EncodedObject // commits and trees this Repo wrote
	known   map[plumbing.Hash]bool   // objects the remote has
	trees   treeCache                // decoded trees, within treeCacheBytes
}

// add records commit, whose commit and trees are in ws, unless present.
func (s *snapshots) add(ws *workspace, commit plumbing.Hash) {
	s.mu.Lock()
	_, ok := s.byID[commit]
	s.mu.Unlock()
	if ok {
		return
	}
	snap, err := takeSnapshot(ws, commit)
	if err != nil {
		return // an incomplete snapshot is simply not cached
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[plumbing.Hash]*snapshot{}
	}
	if _, ok := s.byID[commit]; ok {
		if snap.base != nil {
			snap.base.release()
		}
		return
	}
	s.byID[commit] = snap
	s.order = append(s.order, commit)
	if len(s.order) > maxSnapshots {
		evicted := s.order[0]
		if old := s.byID[evicted]; old.base != nil {
			old.base.release()
		}
		delete(s.byID, evicted)
		s.order = s.order[1:]
		for b, h := range s.heads {
			if h == evicted {
				delete(s.heads, b)
			}
		}
	}
}

// setHead records that branch was at commit, whose snapshot is cached.
func (s *snapshots) setHead(branch string, commit plumbing.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID[commit] == nil {
		return
	}
	if s.heads == nil {
		s.heads = map[string]plumbing.Hash{}
	}
	s.heads[branch] = commit
}

// head returns the commit branch was last seen at and a workspace holding
// its snapshot, or a nil workspace.
func (s *snapshots) head(branch string) (plumbing.Hash, *workspace) {
	s.mu.Lock()
	h, ok := s.heads[branch]
	s.mu.Unlock()
	if !ok {
		return plumbing.ZeroHash, nil
	}
	return h, s.workspace(h)
}

// workspace returns a workspace holding commit's snapshot, or nil. The
// caller releases it.
func (s *snapshots) workspace(commit plumbing.Hash) *workspace {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.byID[commit]
	if snap == nil {
		return nil
	}
	ws := newWorkspace()
	for _, o := range snap.objects {
		if _, err := ws.st.SetEncodedObject(o); err != nil {
			return nil
		}
	}
	if snap.base != nil {
		ws.base = snap.base.acquire()
	}
	ws.known = maps.Clone(snap.known)
	ws.trees = snap.trees.clone()
	return ws
}

// takeSnapshot keeps what ws knows of commit: its fetched store, the
// commit and trees under it written here (blobs are not needed to build on
// it), and every object reachable from it, which the remote has.
func takeSnapshot(ws *workspace, commit plumbing.Hash) (*snapshot, error) {
	root, err := ws.commitTree(commit)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{known: map[plumbing.Hash]bool{commit: true}}
	if o, err := ws.st.EncodedObject(plumbing.CommitObject, commit); err == nil {
		snap.objects = append(snap.objects, o)
	}
	var walk func(h plumbing.Hash) error
	walk = func(h plumbing.Hash) error {
		if snap.known[h] {
			return nil
		}
		snap.known[h] = true
		if o, err := ws.st.EncodedObject(plumbing.TreeObject, h); err == nil {
			snap.objects = append(snap.objects, o)
		}
		t, err := ws.readTree(h)
		if err != nil {
			return err
		}
		for _, e := range t.Entries {
			if e.Mode == filemode.Dir {
				if err := walk(e.Hash); err != nil {
					return err
				}
				continue
			}
			snap.known[e.Hash] = true
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	if ws.base != nil {
		snap.base = ws.base.acquire()
	}
	snap.trees = ws.trees.clone()
	return snap, nil
}
