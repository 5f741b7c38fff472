package render

import (
	"errors"
	"fmt"
	"github.com/railyard-gitops/railyard/internal/redact"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The assembled tree.
//
// Build never hands a Mount's FS to kustomize. Instead, starting from the
// wrapper kustomization, it follows every reference of every kustomization
// it reaches, validates it (local, relative, inside a mount, no symlink,
// present, within the byte budget, well-formed YAML) and copies exactly the
// files kustomize will load into an in-memory filesystem. Nothing else of a
// mount is opened, so a mount may be a whole repository; anything the walk
// does not know how to validate is missing from the in-memory tree and the
// build fails closed instead of reaching for the network or the disk.

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

var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemote reports whether kustomize would treat ref as something to fetch:
// a URL with any scheme (http, https, ssh, file, git::...), an scp-style
// user@host:path, or a github.com/... shorthand.
func isRemote(ref string) bool {
	lower := strings.ToLower(ref)
	if strings.Contains(lower, "://") || strings.HasPrefix(lower, "git::") ||
		strings.HasPrefix(lower, "github.com/") || strings.HasPrefix(lower, "github.com:") ||
		scpUser.MatchString(ref) {
		return true
	}
	u, err := url.Parse(ref)
	return err == nil && u.Scheme != ""
}

// resolveRef resolves reference ref, written in a file of directory dir of
// the tree, to a tree path. It refuses absolute, remote and escaping
// references; it does not look at any mount.
func resolveRef(dir, ref string) (string, error) {
	shown := redact.URLs(ref) // a remote reference may carry a token
	switch {
	case ref == "":
		return "", fmt.Errorf("%w: empty path", ErrNotFound)
	case strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, `\`) || path.IsAbs(ref):
		return "", fmt.Errorf("%w: %q", ErrAbsolutePath, shown)
	case isRemote(ref):
		return "", fmt.Errorf("%w: %q", ErrRemote, shown)
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
	walked    map[string]bool        // kustomization directories
	files     map[string][]byte      // files read, and written to mem
	stats     map[string]fs.FileInfo // tree path -> Lstat result
	// done is the build context's Err, checked before every call to a
	// mount's FS so that a slow FS delays the end of a cancelled build by
	// one call at most.
	done func() error
}

func newAssembler(mounts []mount, o *options, done func() error) *assembler {
	return &assembler{
		mounts:    mounts,
		mem:       filesys.MakeFsInMemory(),
		remaining: o.maxInputBytes,
		logger:    o.logger,
		walked:    map[string]bool{},
		files:     map[string][]byte{},
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
func (a *assembler) read(p string) ([]byte, error) {
	if data, ok := a.files[p]; ok {
		return data, nil
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
	data, err := readLimited(m.fsys, rel, &a.remaining)
	if err != nil {
		return nil, &FileError{Path: p, Err: err}
	}
	if err := a.mem.WriteFile("/"+p, data); err != nil {
		return nil, &FileError{Path: p, Err: fmt.Errorf("copy into memory: %w", err)}
	}
	a.files[p] = data
	a.logger.Debug("render: read", "path", p, "bytes", len(data))
	return data, nil
}

// fileRef validates and copies a file referenced from file `from` in dir.
// yamlFile says whether its content must be YAML. It returns the tree path.
func (a *assembler) fileRef(dir, from, ref string, yamlFile bool) ([]objectID, string, error) {
	p, err := resolveRef(dir, ref)
	if err != nil {
		return nil, "", &FileError{Path: from, Err: err}
	}
	fi, err := a.stat(p)
	if err != nil {
		return nil, "", &FileError{Path: from, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, "", &FileError{Path: from, Err: fmt.Errorf("%w: %s is not a regular file", ErrNotFound, p)}
	}
	data, err := a.read(p)
	if err != nil {
		return nil, "", err
	}
	if !yamlFile {
		return nil, p, nil
	}
	ids, err := scanYAML(data)
	if err != nil {
		return nil, "", &FileError{Path: p, Err: err}
	}
	return ids, p, nil
}

// resourceRef handles an entry of resources (or generators, transformers,
// validators): a YAML file or a directory holding a kustomization.
func (a *assembler) resourceRef(dir, from, ref string) ([]objectID, string, error) {
	p, err := resolveRef(dir, ref)
	if err != nil {
		return nil, "", &FileError{Path: from, Err: err}
	}
	fi, err := a.stat(p)
	if err != nil {
		return nil, "", &FileError{Path: from, Err: err}
	}
	if fi.IsDir() {
		return nil, p, a.kustomization(p, from, false)
	}
	return a.fileRef(dir, from, ref, true)
}

// componentRef handles an entry of components: a directory holding a
// kustomization of kind Component.
func (a *assembler) componentRef(dir, from, ref string) error {
	p, err := resolveRef(dir, ref)
	if err != nil {
		return &FileError{Path: from, Err: err}
	}
	fi, err := a.stat(p)
	if err != nil {
		return &FileError{Path: from, Err: fmt.Errorf("component: %w", err)}
	}
	if !fi.IsDir() {
		return &FileError{Path: p, Err: fmt.Errorf("%w: a component must be a directory", ErrInvalidKustomization)}
	}
	return a.kustomization(p, from, true)
}

// kustomization loads the kustomization file of tree directory dir,
// referenced from file `from`, and walks its references.
func (a *assembler) kustomization(dir, from string, component bool) error {
	if a.walked[dir] {
		return nil
	}
	a.walked[dir] = true
	var found []string
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if _, err := a.stat(dir + "/" + name); err == nil {
			found = append(found, dir+"/"+name)
		} else if !errors.Is(err, ErrNotFound) {
			return &FileError{Path: dir + "/" + name, Err: err}
		}
	}
	switch len(found) {
	case 0:
		return &FileError{Path: from, Err: fmt.Errorf("%w: no kustomization file in %s", ErrNotFound, dir)}
	case 1:
	default:
		return &FileError{Path: dir, Err: fmt.Errorf("%w: several kustomization files: %s", ErrInvalidKustomization, strings.Join(found, ", "))}
	}
	data, err := a.read(found[0])
	if err != nil {
		return err
	}
	k, err := parseKustomization(data)
	if err != nil {
		return &FileError{Path: found[0], Err: err}
	}
	if component != (k.Kind == types.ComponentKind) {
		want := types.KustomizationKind
		if component {
			want = types.ComponentKind
		}
		return &FileError{Path: found[0], Err: fmt.Errorf("%w: kind %s where a %s is required", ErrInvalidKustomization, k.Kind, want)}
	}
	return a.walk(dir, found[0], k)
}

// parseKustomization parses a kustomization exactly as kustomize does
// (unknown fields are errors), after the alias-bomb check, and normalises
// deprecated fields.
func parseKustomization(data []byte) (*types.Kustomization, error) {
	if _, err := scanYAML(data); err != nil {
		return nil, err
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKustomization, err)
	}
	k.FixKustomization()
	if k.Kind != types.KustomizationKind && k.Kind != types.ComponentKind {
		return nil, fmt.Errorf("%w: kind %q", ErrInvalidKustomization, k.Kind)
	}
	if len(k.HelmCharts) > 0 || k.HelmGlobals != nil {
		return nil, ErrHelmRefused
	}
	return &k, nil
}

// inline reports whether an entry of generators, transformers, validators or
// patchesStrategicMerge is inline YAML rather than a path.
func inline(entry string) bool {
	return strings.ContainsAny(entry, "\n{")
}

// walk validates and copies everything kustomization k (file `from` in
// directory dir) refers to.
func (a *assembler) walk(dir, from string, k *types.Kustomization) error {
	seen := map[objectID]string{}
	for _, ref := range k.Resources {
		ids, p, err := a.resourceRef(dir, from, ref)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if first, dup := seen[id]; dup {
				return &FileError{Path: p, Err: fmt.Errorf("%w: %s, also in %s", ErrDuplicateObject, id, first)}
			}
			seen[id] = p
		}
	}
	for _, ref := range k.Components {
		if err := a.componentRef(dir, from, ref); err != nil {
			return err
		}
	}
	for _, list := range [][]string{k.Generators, k.Transformers, k.Validators} {
		for _, entry := range list {
			if inline(entry) {
				continue
			}
			if _, _, err := a.resourceRef(dir, from, entry); err != nil {
				return err
			}
		}
	}
	var yamlFiles, otherFiles []string
	yamlFiles = append(yamlFiles, k.Crds...)
	yamlFiles = append(yamlFiles, k.Configurations...)
	for _, p := range k.Patches {
		if p.Path != "" {
			yamlFiles = append(yamlFiles, p.Path)
		}
	}
	for _, p := range k.PatchesStrategicMerge {
		if !inline(string(p)) {
			yamlFiles = append(yamlFiles, string(p))
		}
	}
	for _, r := range k.Replacements {
		if r.Path != "" {
			yamlFiles = append(yamlFiles, r.Path)
		}
	}
	if p, ok := k.OpenAPI["path"]; ok {
		yamlFiles = append(yamlFiles, p)
	}
	var sources []types.GeneratorArgs
	for _, g := range k.ConfigMapGenerator {
		sources = append(sources, g.GeneratorArgs)
	}
	for _, g := range k.SecretGenerator {
		sources = append(sources, g.GeneratorArgs)
	}
	for _, g := range sources {
		otherFiles = append(otherFiles, g.EnvSources...)
		for _, f := range g.FileSources {
			// "[key=]path"
			_, file, found := strings.Cut(f, "=")
			if !found {
				file = f
			}
			otherFiles = append(otherFiles, file)
		}
	}
	for _, ref := range yamlFiles {
		if _, _, err := a.fileRef(dir, from, ref, true); err != nil {
			return err
		}
	}
	for _, ref := range otherFiles {
		if _, _, err := a.fileRef(dir, from, ref, false); err != nil {
			return err
		}
	}
	return nil
}

// readLimited reads file p of fsys, charging its size to *budget. Errors
// of fsys wrap ErrRead, as does a read that ends before or after the size
// the file reports (a file that reports size 0 is read to its end).
func readLimited(fsys fs.FS, p string, budget *int64) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, *budget+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	if int64(len(data)) > *budget {
		return nil, fmt.Errorf("%w: more than the %d bytes left of the limit", ErrTooLarge, *budget)
	}
	if size := fi.Size(); size > 0 && int64(len(data)) != size {
		return nil, fmt.Errorf("%w: read %d bytes of a %d-byte file", ErrRead, len(data), size)
	}
	*budget -= int64(len(data))
	return data, nil
}
