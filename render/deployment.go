package render

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/railyard-gitops/railyard/internal/refname"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// maxDeploymentBytes bounds a deployment.yaml; real ones are a few lines.
const maxDeploymentBytes = 64 << 10

// Deployment is the policy of one deployment, read from
// apps/<app>/deployments/<name>/deployment.yaml of the GitOps repository.
// It is a plain value, safe to copy and share.
type Deployment struct {
	// Name is the name of the directory holding the file, e.g. "test";
	// empty when the file is at the root of the FS.
	Name string `yaml:"-"`
	// EnvType names the env-type Component, e.g. "production"
	// (apps/<app>/envTypes/<EnvType>).
	EnvType string `yaml:"envType"`
	// Namespace is the Kubernetes namespace of every rendered object.
	Namespace string `yaml:"namespace"`
	// Branch is the branch Argo CD syncs from, e.g. "stage/test".
	Branch string `yaml:"branch"`
}

// DeploymentSchema says where a deployment file keeps the three values of
// a [Deployment]: each field is a key, or a dotted path of keys into
// nested mappings ("spec.envType"). An empty field means the key of
// railyard's layout: "envType", "namespace" and "branch". Other keys are
// refused unless AllowOtherKeys is set. The zero value is railyard's
// layout; a DeploymentSchema is a plain value, safe to share.
type DeploymentSchema struct {
	EnvType, Namespace, Branch string
	AllowOtherKeys             bool
}

// LoadDeployment reads and validates the deployment.yaml at path (slash
// separated, as for [fs.FS]) of fsys, in railyard's layout: exactly the
// keys envType, namespace and branch. It is DeploymentSchema{}.Load.
func LoadDeployment(fsys fs.FS, path string) (Deployment, error) {
	return DeploymentSchema{}.Load(fsys, path)
}

// Load reads and validates the deployment file at path (slash separated,
// as for [fs.FS]) of fsys with the keys of s. The env type and the
// namespace must be DNS labels and the branch a valid git branch name;
// all three are required. Name is the name of the directory holding the
// file.
//
// Errors are a [*FileError] naming path and wrapping ErrNotFound (the file
// is missing), ErrTooLarge (over 64 KiB), ErrInvalidYAML, ErrAliasBomb,
// ErrInvalidDeployment (a missing, unknown, duplicate or malformed key,
// or a schema key that is not a dotted path of keys), or ErrRead (wrapping
// fsys's error) when fsys fails to open or read it. Retrying helps only
// after ErrRead from a transient failure of fsys ([IsRetryable]).
func (s DeploymentSchema) Load(fsys fs.FS, path string) (Deployment, error) {
	d, err := s.load(fsys, path)
	if err != nil {
		return Deployment{}, &FileError{Path: path, Err: err}
	}
	return d, nil
}

func (s DeploymentSchema) keys() ([3][]string, error) {
	var out [3][]string
	for i, k := range [3]string{cmp.Or(s.EnvType, "envType"), cmp.Or(s.Namespace, "namespace"), cmp.Or(s.Branch, "branch")} {
		out[i] = strings.Split(k, ".")
		if slices.Contains(out[i], "") {
			return out, fmt.Errorf("%w: schema key %q is not a dotted path of keys", ErrInvalidDeployment, k)
		}
	}
	return out, nil
}

func (s DeploymentSchema) load(fsys fs.FS, name string) (Deployment, error) {
	keys, err := s.keys()
	if err != nil {
		return Deployment{}, err
	}
	if !validTreePath(name) {
		return Deployment{}, fmt.Errorf("%w: not a clean relative path", ErrNotFound)
	}
	budget := int64(maxDeploymentBytes)
	data, err := readLimited(fsys, name, &budget, "fixed: 64 KiB")
	if errors.Is(err, fs.ErrNotExist) {
		return Deployment{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	if err != nil {
		return Deployment{}, err
	}
	docs, err := decodeDocs(data)
	if err != nil {
		return Deployment{}, err
	}
	if len(docs) == 0 || len(docs[0].Content) == 0 {
		return Deployment{}, fmt.Errorf("%w: empty file", ErrInvalidDeployment)
	}
	if len(docs) > 1 {
		return Deployment{}, fmt.Errorf("%w: %d YAML documents, want one", ErrInvalidDeployment, len(docs))
	}
	top := docs[0].Content[0]
	if top.Kind != yaml.MappingNode {
		return Deployment{}, fmt.Errorf("%w: line %d: not a mapping", ErrInvalidDeployment, top.Line)
	}
	if err := checkKeys(top, keys[:], s.AllowOtherKeys); err != nil {
		return Deployment{}, err
	}
	var values [3]string
	for i, k := range keys {
		n := top
		for _, part := range k {
			if n.Kind != yaml.MappingNode {
				n = nil
				break
			}
			n = field(n, part)
			if n == nil {
				break
			}
		}
		if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		label := strings.Join(k, ".")
		switch {
		case n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null"):
			values[i] = ""
		case n.Kind != yaml.ScalarNode || n.Tag != "!!str":
			return Deployment{}, fmt.Errorf("%w: line %d: cannot unmarshal %s into %s (a string)", ErrInvalidDeployment, n.Line, nodeKind(n), label)
		default:
			values[i] = n.Value
		}
	}
	d := Deployment{EnvType: values[0], Namespace: values[1], Branch: values[2]}
	if dir := path.Base(path.Dir(name)); dir != "." {
		d.Name = dir
	}
	labels := [3]string{strings.Join(keys[0], "."), strings.Join(keys[1], "."), strings.Join(keys[2], ".")}
	switch {
	case !dnsLabelRE.MatchString(d.EnvType):
		return Deployment{}, fmt.Errorf("%w: %s %q is not a DNS label", ErrInvalidDeployment, labels[0], d.EnvType)
	case !dnsLabelRE.MatchString(d.Namespace):
		return Deployment{}, fmt.Errorf("%w: %s %q is not a DNS label", ErrInvalidDeployment, labels[1], d.Namespace)
	case !validBranch(d.Branch):
		return Deployment{}, fmt.Errorf("%w: %s %q is not a valid branch name", ErrInvalidDeployment, labels[2], d.Branch)
	}
	return d, nil
}

// checkKeys refuses duplicate keys in the mappings on the schema's paths,
// and keys off those paths unless allowed.
func checkKeys(m *yaml.Node, keys [][]string, allowOthers bool) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if seen[k.Value] {
			return fmt.Errorf("%w: line %d: key %q appears twice", ErrInvalidDeployment, k.Line, k.Value)
		}
		seen[k.Value] = true
		var below [][]string
		for _, path := range keys {
			if len(path) > 0 && path[0] == k.Value {
				below = append(below, path[1:])
			}
		}
		if len(below) == 0 {
			if !allowOthers {
				return fmt.Errorf("%w: line %d: unknown field %q", ErrInvalidDeployment, k.Line, k.Value)
			}
			continue
		}
		if v := m.Content[i+1]; v.Kind == yaml.MappingNode && !slices.ContainsFunc(below, func(p []string) bool { return len(p) == 0 }) {
			if err := checkKeys(v, below, allowOthers); err != nil {
				return err
			}
		}
	}
	return nil
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.AliasNode:
		return "an alias"
	}
	return n.Tag + " " + strconvQuote(n.Value)
}

func strconvQuote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// validBranch applies railyard's one branch-name rule (git
// check-ref-format --branch, restricted as gitops restricts it).
func validBranch(b string) bool { return refname.BranchProblem(b) == "" }
