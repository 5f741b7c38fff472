package render

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers branch with [errors.Is]; errors about one input file are
// also a [*FileError] carrying the file's path in the assembled tree.
var (
	// ErrInvalidMount reports a Mount whose At is empty, absolute, not clean,
	// escapes the tree or overlaps another mount, or whose FS is nil.
	ErrInvalidMount = errors.New("invalid mount")
	// ErrInvalidWrapper reports a Wrapper whose Dir or Template is not a clean
	// relative path, whose Dir lies inside a mount, or whose Namespace is not
	// a DNS label.
	ErrInvalidWrapper = errors.New("invalid wrapper")
	// ErrInvalidImage reports an Image without Name, with neither Tag nor
	// Digest, or with a malformed Name, NewName, Tag or Digest.
	ErrInvalidImage = errors.New("invalid image")
	// ErrRemote reports a reference kustomize would fetch over the network
	// (https://, ssh://, git@host:, github.com/...). It is refused before
	// anything is built.
	ErrRemote = errors.New("remote reference refused")
	// ErrAbsolutePath reports a reference that is an absolute path.
	ErrAbsolutePath = errors.New("absolute path refused")
	// ErrEscape reports a reference that resolves outside every mount,
	// including ".." paths climbing out of the tree.
	ErrEscape = errors.New("path escapes the mounts")
	// ErrSymlink reports a referenced path that is, or goes through, a
	// symbolic link.
	ErrSymlink = errors.New("symbolic link refused")
	// ErrNotFound reports a referenced file, resource, component or
	// kustomization that does not exist in its mount.
	ErrNotFound = errors.New("not found")
	// ErrRead reports a mount whose FS failed to stat, open or read a
	// file, or whose file held a different number of bytes than its size
	// said (a truncated read). The FS's error is wrapped. Retrying may help
	// if the FS's failure is transient.
	ErrRead = errors.New("read failed")
	// ErrInvalidKustomization reports a kustomization file that is not valid
	// (unknown fields, wrong types, several kustomization files in one
	// directory, a Kustomization where a Component is required).
	ErrInvalidKustomization = errors.New("invalid kustomization")
	// ErrInvalidYAML reports a file that is not well-formed YAML.
	ErrInvalidYAML = errors.New("invalid YAML")
	// ErrAliasBomb reports YAML whose aliases expand to far more nodes than
	// the document holds (a "billion laughs" document).
	ErrAliasBomb = errors.New("YAML alias expansion too large")
	// ErrTooLarge reports input beyond the limit set with WithMaxInputBytes.
	ErrTooLarge = errors.New("input too large")
	// ErrDuplicateObject reports two objects with the same group, kind,
	// namespace and name in the resources of one kustomization.
	ErrDuplicateObject = errors.New("duplicate object")
	// ErrHelmRefused reports a kustomization using Helm chart inflation,
	// which needs a helm binary and the disk and is never run by Build.
	ErrHelmRefused = errors.New("helm charts refused")
	// ErrKustomize reports a failure of the kustomize build itself (a patch
	// that does not apply, a name conflict across bases, ...).
	ErrKustomize = errors.New("kustomize build failed")
	// ErrPanic reports a panic inside kustomize, recovered by Build.
	ErrPanic = errors.New("kustomize panicked")
	// ErrInvalidDeployment reports a deployment.yaml with a missing, unknown
	// or malformed field.
	ErrInvalidDeployment = errors.New("invalid deployment")
	// ErrInvalid reports an Option given an unusable value.
	ErrInvalid = errors.New("invalid option")
)

// FileError is an error about one input file or directory. Path is slash
// separated and relative to the assembled tree (a mount's At joined with the
// path inside its FS), never a path on the disk. Err wraps one of the
// package's sentinel errors. A FileError is not modified after it is
// returned and is safe to share.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return "render: " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }
