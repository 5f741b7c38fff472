package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/railyard-gitops/railyard/internal/redact"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The assembled tree.
//
// Build never hands a Mount's FS to kustomize. Instead, starting from the
// wrapper kustomization, it follows every reference of every kustomization
// it reaches, the way kustomize will (see remote.go for what kustomize
// fetches, plugins.go for the files builtin plugins name), validates it
// (local, relative, inside a mount, no symlink, present, within the byte
// budget, well-formed YAML) and copies exactly the files kustomize will
// load into an in-memory filesystem. Nothing else of a mount is opened, so
// a mount may be a whole repository; anything the walk does not know how
// to validate is missing from the in-memory tree and the build fails
// closed instead of reaching for the network or the disk.

// mount is a validated Mount.
type mount struct {
	at   string
	fsys fs.FS
}

// validTreePath reports whether p names a file or directory below the root
// of the assembled tree: slash separated, relative, clean, not the root.
func validTreePath(p string) bool {
	return p != "." && fs.ValidPath(p) && !strings.ContainsRune(p, '\\')
}

// contains reports whether tree path p is dir or lies below it.
func contains(dir, p string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// loadKind is how kustomize loads a reference.
type loadKind int

const (
	loadFile     loadKind = iota // as a file: fetched if an http(s) URL
	loadDir                      // as a directory: cloned if a git repository spec
	loadResource                 // as a file if a local file, else as a directory
)

// resolveRef resolves reference ref, written in a file of directory dir of
// the tree, to a tree path, refusing what kustomize would fetch (for a
// resource, only the http(s) case: the git case needs to know whether a
// local file exists, see assembler.locateResource), absolute references
// and references escaping the tree. It does not look at any mount.
func resolveRef(dir, ref string, kind loadKind) (string, error) {
	shown := redact.URLs(ref) // a remote reference may carry a token
	switch {
	case ref == "":
		return "", fmt.Errorf("%w: empty path", ErrNotFound)
	case kind != loadDir && isRemoteFile(ref):
		return "", fmt.Errorf("%w: %q", ErrRemote, shown)
	case kind == loadDir && isGitRepoSpec(ref):
		return "", fmt.Errorf("%w: %q", ErrRemote, shown)
	case strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, `\`):
		return "", fmt.Errorf("%w: %q", ErrAbsolutePath, shown)
	case strings.ContainsRune(ref, 0):
		return "", fmt.Errorf("%w: %q", ErrEscape, shown)
	case !utf8.ValidString(ref):
		// No fs.FS can hold such a name.
		return "", fmt.Errorf("%w: %q is not valid UTF-8", ErrNotFound, shown)
	}
	p := path.Join(dir, ref)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("%w: %q", ErrEscape, shown)
	}
	return p, nil
}

// assembler walks the reference graph from the wrapper and fills mem.
type assembler struct {
	mounts    []mount
	mem       filesys.FileSystem
	remaining int64
	logger    *slog.Logger
	dirs      map[string]*dirState   // kustomization directories
	files     map[string]*fileState  // files read, and written to mem
	stats     map[string]fs.FileInfo // tree path -> Lstat result
	openapi   bool                   // some kustomization sets openapi
	checks    []check                // what diagnose looks at, in walk order
	// done is the build context's Err, checked before every call to a
	// mount's FS so that a slow FS delays the end of a cancelled build by
	// one call at most.
	done func() error
}

// fileState is a file copied into the tree.
type fileState struct {
	data    []byte
	sized   bool     // scan holds at least docs, expanded and largest
	scanned bool     // scan is complete (ids too): the file is valid YAML
	scan    yamlScan // of a file kustomize parses as YAML
}

// check is something diagnose looks at: a YAML file (dir empty) or the
// resource files of the kustomization in dir.
type check struct {
	file, dir string
	resources []string
}

// dirState is a kustomization directory being or having been walked.
type dirState struct {
	file    string               // its kustomization file
	k       *types.Kustomization // parsed and fixed
	info    *dirInfo             // set once walked
	walking bool
	configs []pluginConfig // the plugin configurations it provides as a generators/transformers/validators source
	checked bool           // checked as such a source
}

func newAssembler(mounts []mount, o *options, done func() error) *assembler {
	return &assembler{
		mounts:    mounts,
		mem:       newTreeFS(),
		remaining: o.maxInputSize,
		logger:    o.logger,
		dirs:      map[string]*dirState{},
		files:     map[string]*fileState{},
		stats:     map[string]fs.FileInfo{},
		done:      done,
	}
}

// locate returns the mount holding tree path p and p's path inside it.
func (a *assembler) locate(p string) (mount, string, error) {
	for _, m := range a.mounts {
		if contains(m.at, p) {
			if p == m.at {
				return m, ".", nil
			}
			return m, p[len(m.at)+1:], nil
		}
	}
	return mount{}, "", fmt.Errorf("%w: %s is outside every mount", ErrEscape, p)
}

// stat returns the file info of tree path p, refusing symbolic links on p
// and on every directory leading to it inside its mount.
func (a *assembler) stat(p string) (fs.FileInfo, error) {
	if fi, ok := a.stats[p]; ok {
		return fi, nil
	}
	m, rel, err := a.locate(p)
	if err != nil {
		return nil, err
	}
	var fi fs.FileInfo
	prefix := m.at
	for _, elem := range strings.Split(rel, "/") {
		if elem != "." {
			prefix += "/" + elem
		}
		if cached, ok := a.stats[prefix]; ok {
			fi = cached
			continue
		}
		if err := a.done(); err != nil {
			return nil, err
		}
		_, inner, _ := a.locate(prefix)
		fi, err = fs.Lstat(m.fsys, inner)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("%w: %s", ErrNotFound, p)
		case err != nil:
			return nil, fmt.Errorf("%w: %s: %w", ErrRead, p, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("%w: %s", ErrSymlink, prefix)
		case prefix != p && !fi.IsDir():
			return nil, fmt.Errorf("%w: %s: %s is not a directory", ErrNotFound, p, prefix)
		}
		a.stats[prefix] = fi
	}
	return fi, nil
}

// read reads the regular file at tree path p within the byte budget and
// copies it into the in-memory tree.
func (a *assembler) read(p string) (*fileState, error) {
	if f, ok := a.files[p]; ok {
		return f, nil
	}
	fi, err := a.stat(p)
	if err != nil {
		return nil, &FileError{Path: p, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &FileError{Path: p, Err: fmt.Errorf("%w: not a regular file", ErrNotFound)}
	}
	if err := a.done(); err != nil {
		return nil, &FileError{Path: p, Err: err}
	}
	m, rel, _ := a.locate(p)
	data, err := readLimited(m.fsys, rel, &a.remaining, "WithMaxInputSize")
	if err != nil {
		return nil, &FileError{Path: p, Err: err}
	}
	if err := a.mem.WriteFile("/"+p, data); err != nil {
		return nil, &FileError{Path: p, Err: fmt.Errorf("copy into memory: %w", err)}
	}
	f := &fileState{data: data}
	a.files[p] = f
	a.logger.Debug("render: read", "path", p, "bytes", len(data))
	return f, nil
}

// readYAML reads the file at tree path p, which kustomize parses as
// YAML, and sizes it, once. A file with a '*' may hold aliases and is
// scanned in full (alias bombs are refused before kustomize runs);
// others are only measured here: kustomize parses them anyway, and if it
// fails, diagnose scans them to name the file and the fault.
func (a *assembler) readYAML(p string) (*fileState, error) {
	f, err := a.read(p)
	if err != nil {
		return nil, err
	}
	if !f.sized {
		if bytes.IndexByte(f.data, '*') >= 0 {
			if err := a.scan(p, f); err != nil {
				return nil, err
			}
		} else {
			f.scan = measureYAML(f.data)
		}
		f.sized = true
		a.checks = append(a.checks, check{file: p})
	}
	return f, nil
}

// scan scans file f at tree path p as YAML, once.
func (a *assembler) scan(p string, f *fileState) error {
	if f.scanned {
		return nil
	}
	scan, err := scanYAML(f.data)
	if err != nil {
		return &FileError{Path: p, Err: err}
	}
	f.scan, f.scanned = scan, true
	return nil
}

// diagnose names the fault of input kustomize refused, when Build's own
// checks find one: malformed YAML, or duplicate objects within the
// resources of one kustomization, in the order the walk met them.
func (a *assembler) diagnose() error {
	checked := map[string]bool{}
	for _, c := range a.checks {
		if c.dir == "" {
			if f := a.files[c.file]; !checked[c.file] {
				checked[c.file] = true
				if err := a.scan(c.file, f); err != nil {
					return err
				}
			}
			continue
		}
		seen := map[resID]string{}
		for _, p := range c.resources {
			f := a.files[p]
			if err := a.scan(p, f); err != nil {
				return err
			}
			for _, id := range f.scan.ids {
				if first, dup := seen[id]; dup {
					return &FileError{Path: p, Err: fmt.Errorf("%w: %s, also in %s", ErrDuplicateObject, id, first)}
				}
				seen[id] = p
			}
		}
	}
	return nil
}

// fileRef validates and copies a file kustomize loads as a file,
// referenced from file `from` in dir. yamlFile says whether kustomize
// parses it as YAML. It returns the tree path and the file.
func (a *assembler) fileRef(dir, from, ref string, yamlFile bool) (string, *fileState, error) {
	p, err := resolveRef(dir, ref, loadFile)
	if err != nil {
		return "", nil, &FileError{Path: from, Err: err}
	}
	fi, err := a.stat(p)
	if err != nil {
		return "", nil, &FileError{Path: from, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return "", nil, &FileError{Path: from, Err: fmt.Errorf("%w: %s is not a regular file", ErrNotFound, p)}
	}
	var f *fileState
	if yamlFile {
		f, err = a.readYAML(p)
	} else {
		f, err = a.read(p)
	}
	return p, f, err
}

// locateResource resolves a reference kustomize loads as a resource: a
// local file wins; otherwise a git repository spec is cloned (refused);
// otherwise it is a local directory. It returns the tree path and whether
// it is a directory.
func (a *assembler) locateResource(dir, from, ref string) (string, bool, error) {
	p, err := resolveRef(dir, ref, loadResource)
	if err == nil {
		fi, serr := a.stat(p)
		switch {
		case serr == nil && fi.Mode().IsRegular():
			return p, false, nil
		case serr == nil && fi.IsDir() && !isGitRepoSpec(ref):
			return p, true, nil
		case serr != nil && !errors.Is(serr, ErrNotFound):
			err = serr
		}
	}
	if isGitRepoSpec(ref) && !errors.Is(err, ErrRemote) {
		err = fmt.Errorf("%w: %q", ErrRemote, redact.URLs(ref))
	}
	if err == nil {
		err = fmt.Errorf("%w: %s", ErrNotFound, p)
	}
	return "", false, &FileError{Path: from, Err: err}
}

// componentRef walks an entry of components: a directory holding a
// kustomization of kind Component.
func (a *assembler) componentRef(dir, from, ref string) (*dirInfo, error) {
	p, err := resolveRef(dir, ref, loadDir)
	if err != nil {
		return nil, &FileError{Path: from, Err: err}
	}
	fi, err := a.stat(p)
	if err != nil {
		return nil, &FileError{Path: from, Err: fmt.Errorf("component: %w", err)}
	}
	if !fi.IsDir() {
		return nil, &FileError{Path: p, Err: fmt.Errorf("%w: a component must be a directory", ErrInvalidKustomization)}
	}
	return a.kustomization(p, from, true)
}

// load reads and parses the kustomization file of tree directory dir,
// referenced from file `from`, once.
func (a *assembler) load(dir, from string) (*dirState, error) {
	if st, ok := a.dirs[dir]; ok {
		return st, nil
	}
	var found []string
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if _, err := a.stat(dir + "/" + name); err == nil {
			found = append(found, dir+"/"+name)
		} else if !errors.Is(err, ErrNotFound) {
			return nil, &FileError{Path: dir + "/" + name, Err: err}
		}
	}
	switch len(found) {
	case 0:
		return nil, &FileError{Path: from, Err: fmt.Errorf("%w: no kustomization file in %s", ErrNotFound, dir)}
	case 1:
	default:
		return nil, &FileError{Path: dir, Err: fmt.Errorf("%w: several kustomization files: %s", ErrInvalidKustomization, strings.Join(found, ", "))}
	}
	f, err := a.read(found[0])
	if err != nil {
		return nil, err
	}
	k, err := parseKustomization(f.data)
	if err != nil {
		return nil, &FileError{Path: found[0], Err: err}
	}
	st := &dirState{file: found[0], k: k}
	a.dirs[dir] = st
	return st, nil
}

// kustomization walks the kustomization of tree directory dir, referenced
// from file `from`, once.
func (a *assembler) kustomization(dir, from string, component bool) (*dirInfo, error) {
	st, err := a.load(dir, from)
	if err != nil {
		return nil, err
	}
	if component != (st.k.Kind == types.ComponentKind) {
		want := types.KustomizationKind
		if component {
			want = types.ComponentKind
		}
		return nil, &FileError{Path: st.file, Err: fmt.Errorf("%w: kind %s where a %s is required", ErrInvalidKustomization, st.k.Kind, want)}
	}
	if st.info != nil {
		return st.info, nil
	}
	if st.walking {
		return &dirInfo{}, nil // a cycle, which kustomize reports
	}
	st.walking = true
	info, err := a.walk(dir, st.file, st.k)
	st.walking = false
	if err != nil {
		return nil, err
	}
	st.info = info
	return info, nil
}

// parseKustomization parses a kustomization exactly as kustomize does
// (unknown fields are errors), after the alias-bomb check, and normalises
// deprecated fields as kustomize does (bases into resources, env into
// envs, helmChartInflationGenerator into helmCharts).
func parseKustomization(data []byte) (*types.Kustomization, error) {
	// Without a '*' there is no alias to expand: kustomize's own parse is
	// the only one needed, and scanYAML only names a YAML error.
	if bytes.IndexByte(data, '*') >= 0 {
		if _, err := scanYAML(data); err != nil {
			return nil, err
		}
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		if _, yerr := scanYAML(data); yerr != nil {
			return nil, yerr
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidKustomization, err)
	}
	return &k, fixKustomization(&k)
}

// fixedCopy returns a copy of the wrapper kustomization k as the walk
// reads a kustomization: checked and fixed (parseKustomization, without
// parsing YAML that Build itself wrote).
func fixedCopy(k *types.Kustomization) (*types.Kustomization, error) {
	j, err := json.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKustomization, err)
	}
	var c types.Kustomization
	if err := json.Unmarshal(j, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKustomization, err)
	}
	return &c, fixKustomization(&c)
}

// fixKustomization refuses Helm and unknown kinds and normalises
// deprecated fields as kustomize does.
func fixKustomization(k *types.Kustomization) error {
	if len(k.HelmCharts) > 0 || k.HelmGlobals != nil || len(k.HelmChartInflationGenerator) > 0 {
		return ErrHelmRefused
	}
	k.FixKustomization()
	if k.Kind != types.KustomizationKind && k.Kind != types.ComponentKind {
		return fmt.Errorf("%w: kind %q", ErrInvalidKustomization, k.Kind)
	}
	return nil
}

// readLimited reads file p of fsys, charging its size to *budget. Errors
// of fsys wrap ErrRead, as does a read that ends before or after the size
// the file reports (a file that reports size 0 is read to its end). option
// names the option setting the budget, for a LimitError.
func readLimited(fsys fs.FS, p string, budget *int64, option string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	size := fi.Size()
	if size > *budget {
		return nil, &LimitError{Err: ErrTooLarge, Limit: *budget, Option: option,
			Detail: fmt.Sprintf("a %d-byte file, more than the %d bytes left", size, *budget)}
	}
	data := make([]byte, 0, max(size, 0)+1) // +1: room to see a file longer than it said
	r := io.LimitReader(f, *budget+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRead, err)
		}
	}
	if int64(len(data)) > *budget {
		return nil, &LimitError{Err: ErrTooLarge, Limit: *budget, Option: option,
			Detail: fmt.Sprintf("more than the %d bytes left", *budget)}
	}
	if size > 0 && int64(len(data)) != size {
		return nil, fmt.Errorf("%w: read %d bytes of a %d-byte file", ErrRead, len(data), size)
	}
	*budget -= int64(len(data))
	return data, nil
}
