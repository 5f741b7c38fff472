package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// Image is one entry of the wrapper's kustomize `images:` list: every
// container image whose name is Name becomes NewName (or stays Name when
// NewName is empty) with Tag and/or Digest. With both, the result is
// "<name>:<tag>@<digest>". The zero value is not valid: Name and at least one
// of Tag and Digest are required. Image is a plain value, safe to share.
type Image struct {
	Name    string // image name to match in the manifests, e.g. "code-dot-org"
	NewName string // replacement repository, e.g. "ghcr.io/code-dot-org/code-dot-org"
	Tag     string // e.g. "git-<40 hex>"
	Digest  string // "sha256:<64 hex>"
}

// Wrapper describes the temporary wrapper kustomization Build writes into
// the assembled tree and builds. Its zero fields are safe: an empty Template
// starts from an empty Kustomization, empty lists and Namespace keep the
// template's. Build does not modify it; it is safe to share.
type Wrapper struct {
	// Dir is the tree directory of the wrapper's kustomization.yaml, e.g.
	// "render/deploy". Required; it must not lie inside a mount.
	Dir string
	// Template is the optional tree path of a kustomization file (inside a
	// mount) to start from, as if copied to Dir: its relative references
	// resolve from Dir and all its fields are kept unless set below.
	Template string
	// Resources and Components, when not empty, replace the template's
	// lists. Entries are relative to Dir.
	Resources, Components []string
	// Namespace, when not empty, replaces the template's namespace.
	Namespace string
	// Images replace template entries with the same Name and are appended
	// after the others, in order.
	Images []Image
}

var (
	imageNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._/:-]*$`)
	tagRE       = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}$`)
	digestRE    = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)
	dnsLabelRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

func (img Image) validate() error {
	switch {
	case !imageNameRE.MatchString(img.Name):
		return fmt.Errorf("%w: name %q", ErrInvalidImage, img.Name)
	case img.NewName != "" && !imageNameRE.MatchString(img.NewName):
		return fmt.Errorf("%w: %s: new name %q", ErrInvalidImage, img.Name, img.NewName)
	case img.Tag == "" && img.Digest == "":
		return fmt.Errorf("%w: %s: neither tag nor digest", ErrInvalidImage, img.Name)
	case img.Tag != "" && !tagRE.MatchString(img.Tag):
		return fmt.Errorf("%w: %s: tag %q", ErrInvalidImage, img.Name, img.Tag)
	case img.Digest != "" && !digestRE.MatchString(img.Digest):
		return fmt.Errorf("%w: %s: digest %q", ErrInvalidImage, img.Name, img.Digest)
	}
	return nil
}

// file is the tree path of the wrapper's kustomization file.
func (w Wrapper) file() string { return path.Join(w.Dir, "kustomization.yaml") }

// validate checks the wrapper's own fields against the mounts.
func (w Wrapper) validate(mounts []mount) error {
	if !validTreePath(w.Dir) {
		return fmt.Errorf("render: %w: dir %q is not a clean relative path", ErrInvalidWrapper, w.Dir)
	}
	for _, m := range mounts {
		if contains(m.at, w.Dir) {
			return fmt.Errorf("render: %w: dir %q lies inside mount %q", ErrInvalidWrapper, w.Dir, m.at)
		}
	}
	if w.Template != "" && !validTreePath(w.Template) {
		return fmt.Errorf("render: %w: template %q is not a clean relative path", ErrInvalidWrapper, w.Template)
	}
	if w.Namespace != "" && !dnsLabelRE.MatchString(w.Namespace) {
		return fmt.Errorf("render: %w: namespace %q is not a DNS label", ErrInvalidWrapper, w.Namespace)
	}
	for _, img := range w.Images {
		if err := img.validate(); err != nil {
			return &FileError{Path: w.file(), Err: err}
		}
	}
	return nil
}

// kustomization returns the wrapper kustomization: the template (already
// read, may be nil) with the wrapper's fields set.
func (w Wrapper) kustomization(template []byte) (*types.Kustomization, error) {
	var k types.Kustomization
	if template != nil {
		if _, err := scanYAML(template); err != nil {
			return nil, &FileError{Path: w.Template, Err: err}
		}
		if err := k.Unmarshal(template); err != nil {
			return nil, &FileError{Path: w.Template, Err: fmt.Errorf("%w: %v", ErrInvalidKustomization, err)}
		}
		if k.Kind != "" && k.Kind != types.KustomizationKind {
			return nil, &FileError{Path: w.Template, Err: fmt.Errorf("%w: template kind %q, want %s", ErrInvalidKustomization, k.Kind, types.KustomizationKind)}
		}
	}
	if k.APIVersion == "" {
		k.APIVersion = types.KustomizationVersion
	}
	if k.Kind == "" {
		k.Kind = types.KustomizationKind
	}
	if len(w.Resources) > 0 {
		k.Resources = w.Resources
	}
	if len(w.Components) > 0 {
		k.Components = w.Components
	}
	if w.Namespace != "" {
		k.Namespace = w.Namespace
	}
	for _, img := range w.Images {
		entry := types.Image{Name: img.Name, NewName: img.NewName, NewTag: img.Tag, Digest: img.Digest}
		replaced := false
		for i := range k.Images {
			if k.Images[i].Name == img.Name {
				k.Images[i], replaced = entry, true
			}
		}
		if !replaced {
			k.Images = append(k.Images, entry)
		}
	}
	return &k, nil
}

// marshalWrapper encodes the wrapper kustomization k as kustomize reads
// it in the build: JSON, which is YAML too, and costs a tenth of
// sigs.k8s.io/yaml's JSON-to-YAML conversion (a YAML v2 parse and
// emit, about half of Build's own work on a small tree). [Result.Wrapper]
// converts it to YAML for people and for the kustomize CLI.
func marshalWrapper(w Wrapper, k *types.Kustomization) ([]byte, error) {
	data, err := json.Marshal(k)
	if err != nil {
		return nil, &FileError{Path: w.file(), Err: fmt.Errorf("%w: %v", ErrInvalidKustomization, err)}
	}
	return data, nil
}

// wrapperYAML converts the wrapper kustomization Build wrote (JSON) to the
// YAML of sigs.k8s.io/yaml.Marshal, keys sorted.
func wrapperYAML(data []byte) []byte {
	y, err := yaml.JSONToYAML(data)
	if err != nil {
		return bytes.Clone(data) // JSON is YAML: never expected
	}
	return y
}
