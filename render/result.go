package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Object is one rendered Kubernetes object. YAML is its document as
// `kustomize build` prints it, without the "---" separator. Objects returned
// by [Result.Objects] are the caller's to modify.
type Object struct {
	APIVersion, Kind, Namespace, Name string
	YAML                              []byte
}

// Result is the output of Build. It is immutable and safe for concurrent
// use; every method returns a fresh copy the caller may modify.
type Result struct {
	objects []Object
	yaml    []byte
	files   []string // file name of objects[i]
	wrapper []byte
}

// Objects returns the objects in output order.
func (r *Result) Objects() []Object {
	out := make([]Object, len(r.objects))
	for i, o := range r.objects {
		o.YAML = bytes.Clone(o.YAML)
		out[i] = o
	}
	return out
}

// YAML returns all objects as one YAML stream, byte for byte what
// `kustomize build` (kustomize v5, legacy ordering) prints for the same tree.
func (r *Result) YAML() []byte { return bytes.Clone(r.yaml) }

// Files returns one file per object, keyed by a file name chosen by the
// FileNaming given to Build (WithFileNaming). Names are single path
// elements of lower-case letters, digits, '.', '-' and '_', ending in
// ".yaml", never hidden files: they cannot leave the folder they are
// written to. They are distinct for distinct objects; a name that had to be
// altered to be safe, or that two objects would share, gets a suffix
// derived from the object's full identity.
func (r *Result) Files() map[string][]byte {
	out := make(map[string][]byte, len(r.objects))
	for i, o := range r.objects {
		out[r.files[i]] = bytes.Clone(o.YAML)
	}
	return out
}

// Wrapper returns the wrapper kustomization.yaml Build generated and built,
// as YAML. Written to Wrapper.Dir next to the mounts laid out on disk, it
// makes `kustomize build` reproduce YAML. (Build itself gives kustomize
// the same kustomization as JSON, which is cheaper to write.)
func (r *Result) Wrapper() []byte { return wrapperYAML(r.wrapper) }

// FileNaming selects the file names of [Result.Files]. It is a plain value.
type FileNaming int

const (
	// NamingKustomize names files "[<namespace>_]<group>_<version>_<kind>_<name>.yaml",
	// lower case, the group omitted for the core group: like Kargo's
	// kustomize-build outputFormat "kustomize", e.g.
	// "codeai-test_apps_v1_deployment_test-cdo-dashboard.yaml".
	NamingKustomize FileNaming = iota
	// NamingKargo names files "[<namespace>-]<kind>-<name>.yaml", lower
	// case: Kargo's default kustomize-build outputFormat "kargo", e.g.
	// "codeai-test-deployment-test-cdo-dashboard.yaml".
	NamingKargo
)

// maxStem bounds a file name's length before its suffixes, well below the
// 255 bytes file systems allow.
const maxStem = 180

// stem returns the file name of o without extension and whether making it
// safe lost information.
func (n FileNaming) stem(o Object) (string, bool) {
	// parts[:optional] may be empty: the namespace, and the group.
	var parts []string
	sep, optional := "_", 2
	if n == NamingKargo {
		sep, optional = "-", 1
		parts = []string{o.Namespace, o.Kind, o.Name}
	} else {
		group, version, found := strings.Cut(o.APIVersion, "/")
		if !found {
			group, version = "", o.APIVersion
		}
		parts = []string{o.Namespace, group, version, o.Kind, o.Name}
	}
	var b strings.Builder
	lossy := false
	for i, p := range parts {
		if p == "" {
			lossy = lossy || i >= optional
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		safe, changed := sanitize(p)
		lossy = lossy || changed
		b.WriteString(safe)
	}
	s := b.String()
	if len(s) > maxStem {
		s, lossy = s[:maxStem], true
	}
	if s == "" {
		s, lossy = "object", true
	}
	return s, lossy
}

// sanitize lower-cases p and replaces every byte outside [a-z0-9.-] by
// '-', as well as a leading '.'. It reports whether the result differs from
// p other than by case.
func sanitize(p string) (string, bool) {
	changed := false
	b := []byte(strings.ToLower(p))
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' && i > 0
		if !ok {
			b[i], changed = '-', true
		}
	}
	return string(b), changed
}

// fileNames returns a distinct, safe file name for each object.
func fileNames(objects []Object, n FileNaming) []string {
	names := make([]string, len(objects))
	lossy := make([]bool, len(objects))
	count := map[string]int{}
	for i, o := range objects {
		names[i], lossy[i] = n.stem(o)
		count[names[i]]++
	}
	used := map[string]bool{}
	plain := make([]bool, len(objects))
	for i := range names {
		if !lossy[i] && count[names[i]] == 1 {
			names[i] += ".yaml"
			used[names[i]], plain[i] = true, true
		}
	}
	for i, o := range objects {
		if plain[i] {
			continue
		}
		sum := sha256.Sum256([]byte(o.APIVersion + "\x00" + o.Kind + "\x00" + o.Namespace + "\x00" + o.Name))
		id := hex.EncodeToString(sum[:])
		for l := 8; ; l += 8 {
			candidate := names[i] + "-" + id[:l] + ".yaml"
			if !used[candidate] || l == len(id) {
				names[i] = candidate
				used[candidate] = true
				break
			}
		}
	}
	return names
}
