package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
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

// LoadDeployment reads and validates the deployment.yaml at path (slash
// separated, as for [fs.FS]) of fsys. envType and namespace must be DNS
// labels and branch a valid git branch name; all three are required and no
// other key is allowed.
//
// Errors are a [*FileError] naming path and wrapping ErrNotFound (the file
// is missing), ErrTooLarge (over 64 KiB), ErrInvalidYAML, ErrAliasBomb,
// ErrInvalidDeployment, or ErrRead (wrapping fsys's error) when fsys fails
// to open or read it. Retrying helps only after ErrRead from a transient
// failure of fsys.
func LoadDeployment(fsys fs.FS, path string) (Deployment, error) {
	d, err := loadDeployment(fsys, path)
	if err != nil {
		return Deployment{}, &FileError{Path: path, Err: err}
	}
	return d, nil
}

func loadDeployment(fsys fs.FS, name string) (Deployment, error) {
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
	if _, err := scanYAML(data); err != nil {
		return Deployment{}, err
	}
	var d Deployment
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return Deployment{}, fmt.Errorf("%w: empty file", ErrInvalidDeployment)
		}
		return Deployment{}, fmt.Errorf("%w: %s", ErrInvalidDeployment, strings.Join(strings.Fields(err.Error()), " "))
	}
	if dir := path.Base(path.Dir(name)); dir != "." {
		d.Name = dir
	}
	switch {
	case !dnsLabelRE.MatchString(d.EnvType):
		return Deployment{}, fmt.Errorf("%w: envType %q is not a DNS label", ErrInvalidDeployment, d.EnvType)
	case !dnsLabelRE.MatchString(d.Namespace):
		return Deployment{}, fmt.Errorf("%w: namespace %q is not a DNS label", ErrInvalidDeployment, d.Namespace)
	case !validBranch(d.Branch):
		return Deployment{}, fmt.Errorf("%w: branch %q is not a valid branch name", ErrInvalidDeployment, d.Branch)
	}
	return d, nil
}

// validBranch applies railyard's one branch-name rule (git
// check-ref-format --branch, restricted as gitops restricts it).
func validBranch(b string) bool { return refname.BranchProblem(b) == "" }
