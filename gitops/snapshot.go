package gitops

import (
	"maps"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
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
	objects []plumbing.EncodedObject // the commit and every tree under it
	known   map[plumbing.Hash]bool   // those, and every blob they name
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
		return
	}
	s.byID[commit] = snap
	s.order = append(s.order, commit)
	if len(s.order) > maxSnapshots {
		evicted := s.order[0]
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

// workspace returns a workspace holding commit's snapshot, or nil.
func (s *snapshots) workspace(commit plumbing.Hash) *workspace {
	s.mu.Lock()
	snap := s.byID[commit]
	s.mu.Unlock()
	if snap == nil {
		return nil
	}
	ws := newWorkspace()
	for _, o := range snap.objects {
		if _, err := ws.st.SetEncodedObject(o); err != nil {
			return nil
		}
	}
	ws.known = maps.Clone(snap.known)
	return ws
}

func takeSnapshot(ws *workspace, commit plumbing.Hash) (*snapshot, error) {
	snap := &snapshot{known: map[plumbing.Hash]bool{}}
	o, err := ws.st.EncodedObject(plumbing.CommitObject, commit)
	if err != nil {
		return nil, err
	}
	c, err := object.DecodeCommit(ws.st, o)
	if err != nil {
		return nil, err
	}
	snap.objects = append(snap.objects, o)
	snap.known[commit] = true
	var walk func(h plumbing.Hash) error
	walk = func(h plumbing.Hash) error {
		if snap.known[h] {
			return nil
		}
		o, err := ws.st.EncodedObject(plumbing.TreeObject, h)
		if err != nil {
			return err
		}
		t, err := object.DecodeTree(ws.st, o)
		if err != nil {
			return err
		}
		snap.objects = append(snap.objects, o)
		snap.known[h] = true
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
	return snap, walk(c.TreeHash)
}
