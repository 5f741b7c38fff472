package render

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
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

// kustomizeSlot is the package-wide lock of the kustomize phase:
// kustomize keeps global state (the OpenAPI schema) and is not safe for
// concurrent builds. A channel rather than a mutex so that a waiting Build
// honours its context. WithLocker replaces it.
var kustomizeSlot = make(chan struct{}, 1)

// Build assembles mounts and the wrapper w into an in-memory tree, builds
// the wrapper kustomization with kustomize and returns the objects in the
// order and bytes of `kustomize build` (legacy ordering, unless the
// wrapper or the targets it wraps set sortOptions).
//
// Only kustomize's built-in generators and transformers run: plugins,
// functions and Helm are off. Before anything is built, every reference of
// every reachable kustomization is checked (see the package's Security
// section for the fields): remote ones (ErrRemote), absolute paths
// (ErrAbsolutePath), paths leaving the mounts (ErrEscape), symbolic links
// (ErrSymlink), missing files (ErrNotFound), malformed or oversized input
// (ErrInvalidYAML, ErrAliasBomb, ErrTooLarge, ErrInvalidKustomization),
// plugins (ErrPluginRefused), Helm (ErrHelmRefused) and duplicate objects
// within one kustomization (ErrDuplicateObject) are refused as a
// [*FileError] naming the file. Build never touches the network or the
// disk, and reads nothing of a mount that no kustomization refers to.
//
// The kustomizations the wrapper lists directly as resources are the
// targets it wraps: their buildMetadata (origin and transformer
// annotations) and sortOptions, which kustomize reads from the
// kustomization it builds and so would ignore below the wrapper, are
// copied into the wrapper ([Result.Wrapper] shows it), so that the output
// keeps them. Targets that set different sortOptions are refused, and so
// is buildMetadata managedByLabel, whose value names the program
// kustomize runs in (ErrInvalidKustomization).
//
// Build fails with ErrInvalidOption, ErrInvalidMount, ErrInvalidWrapper or
// ErrInvalidImage for bad arguments, ErrKustomize when kustomize rejects
// the input (a FileError naming the wrapper), ErrPanic when kustomize
// panics, ErrOutputTooLarge when the output is over WithMaxOutputSize,
// ErrRead (wrapping the FS's error) when a mount fails to stat, open or
// read a file or returns fewer or more bytes than the file's size, and
// ctx.Err() when ctx ends first: checked before every call to a mount's
// FS and between phases, and awaited while waiting for the kustomize lock
// and while kustomize runs (which cannot be interrupted: the lock is
// released when it ends, but Build returns at once). Every error matches
// one of ErrInvalid, ErrNotFound, ErrUnsafeContent and ErrLimitExceeded;
// retrying helps only for ctx deadlines and for ErrRead from a transient
// FS failure ([IsRetryable] says which): the same input gives the same
// error.
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
	t, err := assemble(ms, w, o, ctx.Err)
	if err != nil {
		return nil, err
	}
	o.logger.Debug("render: assembled", "dir", w.Dir, "files", len(t.files), "estimate", t.estimate, "duration", time.Since(start))
	if t.estimate > o.maxOutputSize {
		return nil, &FileError{Path: w.file(), Err: &LimitError{Err: ErrOutputTooLarge, Limit: o.maxOutputSize,
			Option: "WithMaxOutputSize", Detail: fmt.Sprintf("estimated at %d bytes before building", t.estimate)}}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	unlock, err := o.lock(ctx)
	if err != nil {
		return nil, err
	}
	start = time.Now()
	type outcome struct {
		r   *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		reserveStack()
		rm, err := func() (resmap.ResMap, error) {
			defer unlock()
			if testHookKustomize != nil {
				testHookKustomize()
			}
			return runKustomize(t.mem, w.Dir, t.openapi)
		}()
		if err != nil {
			done <- outcome{nil, err}
			return
		}
		// Encoding uses no global state of kustomize: outside the lock.
		r, err := newResult(rm)
		done <- outcome{r, err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if out.err != nil {
		if err := t.diagnose(); err != nil {
			return nil, err
		}
		return nil, &FileError{Path: w.file(), Err: out.err}
	}
	r := out.r
	if int64(len(r.yaml)) > o.maxOutputSize {
		return nil, &FileError{Path: w.file(), Err: &LimitError{Err: ErrOutputTooLarge, Limit: o.maxOutputSize,
			Option: "WithMaxOutputSize", Detail: fmt.Sprintf("%d bytes built", len(r.yaml))}}
	}
	o.logger.Debug("render: built", "dir", w.Dir, "objects", len(r.objects), "bytes", len(r.yaml), "duration", time.Since(start))
	r.wrapper = t.wrapper
	r.files = fileNames(r.objects, o.naming)
	return r, nil
}

// stackReserve is the stack the kustomize goroutine takes at once, while
// it is nearly empty. kustomize runs deep (its YAML parser's frames are
// large); from a new goroutine's 8 KiB, the stack would otherwise be
// copied, with kustomize's frames in it, at every doubling.
const stackReserve = 64 << 10

// reserveStack grows the calling goroutine's stack to over stackReserve.
//
//go:noinline
func reserveStack() {
	var b [stackReserve]byte
	touchStack(b[:])
}

//go:noinline
func touchStack(b []byte) { b[len(b)-1] = 0 }

// testHookKustomize, when set by a test, runs in the kustomize phase,
// holding the lock, before kustomize.
var testHookKustomize func()

// lock takes the kustomize lock (the package's, or WithLocker's) unless
// ctx ends first, and returns its unlock.
func (o *options) lock(ctx context.Context) (func(), error) {
	if o.locker == nil {
		select {
		case kustomizeSlot <- struct{}{}:
			return func() { <-kustomizeSlot }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	l := o.locker
	handoff, abandon := make(chan struct{}), make(chan struct{})
	go func() {
		l.Lock()
		select {
		case handoff <- struct{}{}: // the caller owns it now
		case <-abandon:
			l.Unlock()
		}
	}()
	select {
	case <-handoff:
		return l.Unlock, nil
	case <-ctx.Done():
		close(abandon)
		return nil, ctx.Err()
	}
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

// assembled is the in-memory tree of one build.
type assembled struct {
	mem      filesys.FileSystem
	wrapper  []byte // the wrapper kustomization as written (JSON)
	files    map[string]*fileState
	estimate int64 // output bytes, estimated
	openapi  bool  // some kustomization sets openapi
	// diagnose names the fault of input kustomize refused, if Build's
	// checks find one.
	diagnose func() error
}

// assemble builds the in-memory tree: the wrapper kustomization and every
// file it reaches.
func assemble(ms []mount, w Wrapper, o *options, done func() error) (*assembled, error) {
	a := newAssembler(ms, o, done)
	var template []byte
	if w.Template != "" {
		f, err := a.read(w.Template)
		if err != nil {
			return nil, err
		}
		template = f.data
	}
	wk, err := w.kustomization(template)
	if err != nil {
		return nil, err
	}
	k, err := fixedCopy(wk)
	if err != nil {
		// The template's own fields are at fault: the wrapper adds none
		// that can fail here.
		return nil, &FileError{Path: templateOr(w), Err: err}
	}
	st := &dirState{file: w.file(), k: k, walking: true}
	a.dirs[w.Dir] = st
	info, err := a.walk(w.Dir, w.file(), k)
	if err != nil {
		return nil, err
	}
	st.info, st.walking = info, false
	if err := liftTargets(wk, a.wrapperTargets(w.Dir, k)); err != nil {
		return nil, &FileError{Path: w.file(), Err: err}
	}
	data, err := marshalWrapper(w, wk)
	if err != nil {
		return nil, err
	}
	if err := a.mem.WriteFile("/"+w.file(), data); err != nil {
		return nil, &FileError{Path: w.file(), Err: fmt.Errorf("copy into memory: %w", err)}
	}
	return &assembled{mem: a.mem, wrapper: data, files: a.files, estimate: info.total().bytes, openapi: a.openapi, diagnose: a.diagnose}, nil
}

// liftTargets copies the buildMetadata and sortOptions of the wrapped
// targets into the wrapper kustomization wk (kustomize reads them only
// from the kustomization it builds), and refuses managedByLabel.
func liftTargets(wk *types.Kustomization, targets []*dirState) error {
	for _, t := range targets {
		for _, m := range t.k.BuildMetadata {
			if !slices.Contains(wk.BuildMetadata, m) {
				wk.BuildMetadata = append(wk.BuildMetadata, m)
			}
		}
	}
	if slices.Contains(wk.BuildMetadata, types.ManagedByLabelOption) {
		return fmt.Errorf("%w: buildMetadata %s: its value names the program kustomize runs in, so the output could not match the kustomize CLI", ErrInvalidKustomization, types.ManagedByLabelOption)
	}
	if wk.SortOptions == nil {
		var from string
		for _, t := range targets {
			switch {
			case t.k.SortOptions == nil:
			case wk.SortOptions == nil:
				wk.SortOptions, from = t.k.SortOptions, t.file
			case !reflect.DeepEqual(wk.SortOptions, t.k.SortOptions):
				return fmt.Errorf("%w: wrapped targets set different sortOptions: %s and %s", ErrInvalidKustomization, from, t.file)
			}
		}
	}
	return nil
}

func templateOr(w Wrapper) string {
	if w.Template != "" {
		return w.Template
	}
	return w.file()
}

// cleanSchemaVersion is what kustomize's OpenAPI state reports when no
// kustomization has set a schema; set by the first build.
var cleanSchemaVersion string

// resetSchemaIfSet resets kustomize's OpenAPI state if a schema is set.
// Resetting drops the parsed builtin schema too, which the next build
// parses again (tens of milliseconds): hence only when needed. The caller
// holds the kustomize lock.
func resetSchemaIfSet() {
	if cleanSchemaVersion == "" {
		openapi.ResetOpenAPI()
		cleanSchemaVersion = openapi.GetSchemaVersion()
	} else if openapi.GetSchemaVersion() != cleanSchemaVersion {
		openapi.ResetOpenAPI()
	}
}

// runKustomize builds tree directory dir of mem. The caller holds the
// kustomize lock. kustomize keeps the OpenAPI schema a kustomization sets
// (openapi) in global state, where it would leak into later builds: it is
// reset before a build when someone left it set, and after a build whose
// tree sets it (usedOpenAPI).
func runKustomize(mem filesys.FileSystem, dir string, usedOpenAPI bool) (rm resmap.ResMap, err error) {
	defer func() {
		if p := recover(); p != nil {
			rm, err = nil, fmt.Errorf("%w: %v", ErrPanic, p)
		}
	}()
	resetSchemaIfSet()
	if usedOpenAPI {
		defer openapi.ResetOpenAPI()
	}
	k := krusty.MakeKustomizer(&krusty.Options{
		Reorder:          krusty.ReorderOptionUnspecified, // legacy, unless sortOptions say otherwise
		LoadRestrictions: types.LoadRestrictionsRootOnly,
		PluginConfig:     types.DisabledPluginConfig(),
	})
	rm, err = k.Run(mem, path.Join("/", dir))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKustomize, err)
	}
	return rm, nil
}

// newResult captures the objects of rm. The stream joins their documents
// with "---" lines, exactly as kustomize's ResMap.AsYaml does, without
// encoding every object a second time. Objects are encoded on up to
// GOMAXPROCS goroutines: encoding is most of the cost of a small build,
// and each object's is independent of the others'.
func newResult(rm resmap.ResMap) (r *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("%w: encoding: %v", ErrPanic, p)
		}
	}()
	resources := rm.Resources()
	objects := make([]Object, len(resources))
	errs := make([]error, len(resources))
	encode := func(i int) {
		res := resources[i]
		y, err := encodeObject(res)
		if err != nil {
			errs[i] = fmt.Errorf("%w: encode %s: %w", ErrKustomize, res.CurId(), err)
			return
		}
		objects[i] = Object{APIVersion: res.GetApiVersion(), Kind: res.GetKind(),
			Namespace: res.GetNamespace(), Name: res.GetName(), YAML: y}
	}
	workers := min(runtime.GOMAXPROCS(0), len(resources)/4)
	if workers > 1 {
		var next atomic.Int64
		var wg sync.WaitGroup
		var panicked atomic.Value
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if p := recover(); p != nil {
						panicked.Store(fmt.Sprint(p))
					}
				}()
				for i := int(next.Add(1) - 1); i < len(resources); i = int(next.Add(1) - 1) {
					encode(i)
				}
			}()
		}
		wg.Wait()
		if p := panicked.Load(); p != nil {
			return nil, fmt.Errorf("%w: encoding: %v", ErrPanic, p)
		}
	} else {
		for i := range resources {
			encode(i)
		}
	}
	size := 0
	for i, o := range objects {
		if errs[i] != nil {
			return nil, errs[i]
		}
		size += len(o.YAML) + 4
	}
	stream := make([]byte, 0, size)
	for i, o := range objects {
		if i > 0 {
			stream = append(stream, "---\n"...)
		}
		stream = append(stream, o.YAML...)
	}
	return &Result{objects: objects, yaml: stream}, nil
}
