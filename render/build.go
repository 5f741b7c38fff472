package render

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Mount places a read-only file tree in the assembled tree: FS's root
// appears at tree directory At (slash separated, relative, clean, e.g.
// "src" or "render/envType"). Mounts may not overlap. Build opens only the
// files the kustomizations reach, so FS may be a whole repository. Build only
// reads FS; concurrent Builds may share a Mount if its FS allows concurrent
// reads (os.DirFS and fstest.MapFS do).
type Mount struct {
	At string
	FS fs.FS
}

// kustomizeSlot serializes kustomize builds: kustomize keeps global state
// (the OpenAPI schema) and is not safe for concurrent builds. A channel
// rather than a mutex so that a waiting Build honours its context.
var kustomizeSlot = make(chan struct{}, 1)

// Build assembles mounts and the wrapper w into an in-memory tree, builds
// the wrapper kustomization with kustomize and returns the objects in the
// order and bytes of `kustomize build` (legacy ordering).
//
// Only kustomize's built-in generators and transformers run: plugins,
// functions and Helm are off. Before anything is built, every reference of
// every reachable kustomization is checked: remote ones (ErrRemote),
// absolute paths (ErrAbsolutePath), paths leaving the mounts (ErrEscape),
// symbolic links (ErrSymlink), missing files (ErrNotFound), malformed or
// oversized input (ErrInvalidYAML, ErrAliasBomb, ErrTooLarge,
// ErrInvalidKustomization) and duplicate objects within one kustomization
// (ErrDuplicateObject) are refused as a [*FileError] naming the file. Build
// never touches the network or the disk, and reads nothing of a mount that
// no kustomization refers to.
//
// Build fails with ErrInvalid, ErrInvalidMount, ErrInvalidWrapper or
// ErrInvalidImage for bad arguments, ErrHelmRefused for Helm charts,
// ErrKustomize when kustomize rejects the input (a FileError naming the
// wrapper), ErrPanic when kustomize panics, ErrRead (wrapping the FS's
// error) when a mount fails to stat, open or read a file or returns fewer
// or more bytes than the file's size, and ctx.Err() when ctx ends first
// (checked before every call to a mount's FS, between phases and while
// waiting for another build; the kustomize phase itself runs to its end).
// Retrying helps only for ctx errors and ErrRead from a transient FS
// failure: the same input gives the same error.
func Build(ctx context.Context, mounts []Mount, w Wrapper, opts ...Option) (*Result, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	ms, err := validateMounts(mounts)
	if err != nil {
		return nil, err
	}
	if err := w.validate(ms); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := time.Now()
	mem, wrapper, err := assemble(ms, w, o, ctx.Err)
	if err != nil {
		return nil, err
	}
	o.logger.Debug("render: assembled", "dir", w.Dir, "duration", time.Since(start))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case kustomizeSlot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	start = time.Now()
	r, err := runKustomize(mem, w.Dir)
	<-kustomizeSlot
	if err != nil {
		return nil, &FileError{Path: w.file(), Err: err}
	}
	o.logger.Debug("render: built", "dir", w.Dir, "objects", len(r.objects), "duration", time.Since(start))
	r.wrapper = wrapper
	r.files = fileNames(r.objects, o.naming)
	return r, nil
}

// validateMounts checks the mounts and returns them sorted by At.
func validateMounts(mounts []Mount) ([]mount, error) {
	ms := make([]mount, 0, len(mounts))
	for _, m := range mounts {
		if !validTreePath(m.At) {
			return nil, fmt.Errorf("render: %w: at %q is not a clean relative path", ErrInvalidMount, m.At)
		}
		if m.FS == nil {
			return nil, fmt.Errorf("render: %w: %s: nil FS", ErrInvalidMount, m.At)
		}
		for _, other := range ms {
			if contains(other.at, m.At) || contains(m.At, other.at) {
				return nil, fmt.Errorf("render: %w: %s overlaps %s", ErrInvalidMount, m.At, other.at)
			}
		}
		ms = append(ms, mount{at: m.At, fsys: m.FS})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].at < ms[j].at })
	return ms, nil
}

// assemble builds the in-memory tree: the wrapper kustomization and every
// file it reaches.
func assemble(ms []mount, w Wrapper, o *options, done func() error) (filesys.FileSystem, []byte, error) {
	a := newAssembler(ms, o, done)
	var template []byte
	if w.Template != "" {
		var err error
		if template, err = a.read(w.Template); err != nil {
			return nil, nil, err
		}
	}
	data, err := w.kustomization(template)
	if err != nil {
		return nil, nil, err
	}
	k, err := parseKustomization(data)
	if err != nil {
		// The template's own fields are at fault: the wrapper adds none
		// that can fail here.
		return nil, nil, &FileError{Path: templateOr(w), Err: err}
	}
	if err := a.mem.WriteFile("/"+w.file(), data); err != nil {
		return nil, nil, &FileError{Path: w.file(), Err: fmt.Errorf("copy into memory: %w", err)}
	}
	a.walked[w.Dir] = true
	if err := a.walk(w.Dir, w.file(), k); err != nil {
		return nil, nil, err
	}
	return a.mem, data, nil
}

func templateOr(w Wrapper) string {
	if w.Template != "" {
		return w.Template
	}
	return w.file()
}

// runKustomize builds tree directory dir of mem. The caller holds
// kustomizeSlot.
func runKustomize(mem filesys.FileSystem, dir string) (r *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("%w: %v", ErrPanic, p)
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		Reorder:          krusty.ReorderOptionLegacy,
		LoadRestrictions: types.LoadRestrictionsRootOnly,
		PluginConfig:     types.DisabledPluginConfig(),
	})
	rm, err := k.Run(mem, path.Join("/", dir))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKustomize, err)
	}
	return newResult(rm)
}

// newResult captures the objects of rm. The stream joins their documents
// with "---" lines, exactly as kustomize's ResMap.AsYaml does, without
// encoding every object a second time.
func newResult(rm resmap.ResMap) (*Result, error) {
	resources := rm.Resources()
	objects := make([]Object, 0, len(resources))
	var stream bytes.Buffer
	for i, res := range resources {
		y, err := res.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%w: encode %s: %w", ErrKustomize, res.CurId(), err)
		}
		if i > 0 {
			stream.WriteString("---\n")
		}
		stream.Write(y)
		objects = append(objects, Object{
			APIVersion: res.GetApiVersion(),
			Kind:       res.GetKind(),
			Namespace:  res.GetNamespace(),
			Name:       res.GetName(),
			YAML:       y,
		})
	}
	return &Result{objects: objects, yaml: stream.Bytes()}, nil
}
