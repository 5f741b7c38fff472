package render

import (
	"fmt"

	"github.com/railyard-gitops/railyard/internal/errs"
)

// The general sentinels, the same in every railyard package (see
// CONTRIBUTING.md). Every error Build, LoadDeployment and Diff return
// matches exactly one of them with [errors.Is], besides ctx errors.
//
// render has no ErrUnavailable: it never touches the network, so nothing
// it does is transient. The one failure a retry might cure, a mount whose
// own FS fails ([ErrRead]), answers [IsRetryable] from the FS's error.
var (
	// ErrInvalid reports a bad argument, option or input: a Mount, Wrapper,
	// Image or Option that cannot be used, a kustomization or YAML file
	// kustomize would reject, or a build kustomize fails. A retry cannot
	// help.
	ErrInvalid error = errs.New("invalid input", false)
	// ErrNotFound reports a referenced file, resource, component or
	// kustomization that does not exist in its mount. A retry cannot help
	// until someone adds it.
	ErrNotFound error = errs.New("not found", false)
	// ErrUnsafeContent reports input Build refuses to process: a reference
	// kustomize would fetch over the network, an absolute path, a path
	// leaving the mounts, a symbolic link, a Helm chart, a plugin or
	// function, or plugin configuration Build cannot check. A retry cannot
	// help.
	ErrUnsafeContent error = errs.New("unsafe content refused", false)
	// ErrLimitExceeded reports input or output beyond a limit of Build: a
	// [*LimitError] says which. A retry with the same limits cannot help.
	ErrLimitExceeded error = errs.New("limit exceeded", false)
)

// Specific sentinels. Each matches one general sentinel too (noted in
// brackets), so callers branch on whichever is precise enough for them.
// A retry cannot help any of them (the same input gives the same error),
// except ErrRead, which says.
var (
	// ErrInvalidMount [ErrInvalid] reports a Mount whose At is empty,
	// absolute, not clean, escapes the tree or overlaps another mount, or
	// whose FS is nil.
	ErrInvalidMount error = specific("invalid mount", ErrInvalid)
	// ErrInvalidWrapper [ErrInvalid] reports a Wrapper whose Dir or
	// Template is not a clean relative path, whose Dir lies inside a mount,
	// or whose Namespace is not a DNS label.
	ErrInvalidWrapper error = specific("invalid wrapper", ErrInvalid)
	// ErrInvalidImage [ErrInvalid] reports an Image without Name, with
	// neither Tag nor Digest, or with a malformed Name, NewName, Tag or
	// Digest.
	ErrInvalidImage error = specific("invalid image", ErrInvalid)
	// ErrInvalidOption [ErrInvalid] reports an Option given an unusable
	// value.
	ErrInvalidOption error = specific("invalid option", ErrInvalid)
	// ErrInvalidKustomization [ErrInvalid] reports a kustomization file
	// kustomize would reject (unknown fields, wrong types, several
	// kustomization files in one directory, a Kustomization where a
	// Component is required), wrapped targets that disagree (two sortOptions),
	// or one Build refuses to build because its output could not be
	// reproduced (buildMetadata managedByLabel, whose value names the
	// program kustomize runs in).
	ErrInvalidKustomization error = specific("invalid kustomization", ErrInvalid)
	// ErrInvalidYAML [ErrInvalid] reports a file that is not well-formed
	// YAML, or holds a recursive alias.
	ErrInvalidYAML error = specific("invalid YAML", ErrInvalid)
	// ErrDuplicateObject [ErrInvalid] reports two objects with the same
	// group, version, kind, namespace and name (an empty namespace is
	// "default") in the resources of one kustomization, which kustomize
	// refuses too.
	ErrDuplicateObject error = specific("duplicate object", ErrInvalid)
	// ErrKustomize [ErrInvalid] reports a failure of the kustomize build
	// itself (a patch that does not apply, a name conflict across bases,
	// ...).
	ErrKustomize error = specific("kustomize build failed", ErrInvalid)
	// ErrPanic [ErrInvalid] reports a panic inside kustomize, recovered by
	// Build: the input triggers a kustomize bug.
	ErrPanic error = specific("kustomize panicked", ErrInvalid)
	// ErrInvalidDeployment [ErrInvalid] reports a deployment.yaml with a
	// missing, unknown or malformed field.
	ErrInvalidDeployment error = specific("invalid deployment", ErrInvalid)
	// ErrRead [ErrInvalid] reports a mount whose FS failed to stat, open or
	// read a file, or whose file held a different number of bytes than its
	// size said (a truncated read). The FS's error is wrapped, and
	// [IsRetryable] answers from it: a retry helps only if the FS says its
	// failure is transient (or it is context.DeadlineExceeded).
	ErrRead error = &readError{}

	// ErrRemote [ErrUnsafeContent] reports a reference kustomize would
	// fetch over the network: an http(s) URL where it loads a file, a git
	// repository spec (https://, ssh://, file://, user@host:path,
	// github.com/...) where it loads a directory.
	ErrRemote error = specific("remote reference refused", ErrUnsafeContent)
	// ErrAbsolutePath [ErrUnsafeContent] reports a reference that is an
	// absolute path.
	ErrAbsolutePath error = specific("absolute path refused", ErrUnsafeContent)
	// ErrEscape [ErrUnsafeContent] reports a reference that resolves
	// outside every mount, including ".." paths climbing out of the tree.
	ErrEscape error = specific("path escapes the mounts", ErrUnsafeContent)
	// ErrSymlink [ErrUnsafeContent] reports a referenced path that is, or
	// goes through, a symbolic link.
	ErrSymlink error = specific("symbolic link refused", ErrUnsafeContent)
	// ErrHelmRefused [ErrUnsafeContent] reports a kustomization using Helm
	// chart inflation (helmCharts, helmGlobals, helmChartInflationGenerator
	// or a HelmChartInflationGenerator config), which needs a helm binary,
	// the network and the disk and is never run by Build.
	ErrHelmRefused error = specific("helm charts refused", ErrUnsafeContent)
	// ErrPluginRefused [ErrUnsafeContent] reports a generator, transformer
	// or validator that is not one of kustomize's builtins (a Go, exec or
	// container plugin, a KRM function), or a builtin's configuration that
	// its own kustomization could rewrite (patches, replacements,
	// configurations, ... in a directory listed under generators,
	// transformers or validators), so that the files it names cannot be
	// checked before kustomize runs.
	ErrPluginRefused error = specific("plugin refused", ErrUnsafeContent)

	// ErrTooLarge [ErrLimitExceeded] reports input beyond the limit set
	// with WithMaxInputSize.
	ErrTooLarge error = specific("input too large", ErrLimitExceeded)
	// ErrOutputTooLarge [ErrLimitExceeded] reports a build whose output,
	// estimated before kustomize runs or counted after, is beyond the limit
	// set with WithMaxOutputSize.
	ErrOutputTooLarge error = specific("output too large", ErrLimitExceeded)
	// ErrAliasBomb [ErrLimitExceeded] reports YAML whose aliases expand to
	// far more bytes than the document holds (a "billion laughs" document).
	ErrAliasBomb error = specific("YAML alias expansion too large", ErrLimitExceeded)
)

// IsRetryable reports whether retrying the call that returned err may
// succeed. For render that is only a ctx deadline, or an [ErrRead] whose
// FS error says it is transient: every other error of this package comes
// back the same for the same input. It follows the rule every railyard
// package shares (internal/errs): the first error in err's chain that
// knows answers.
func IsRetryable(err error) bool { return errs.IsRetryable(err) }

// kindError is a specific sentinel that also matches its general one.
type kindError struct {
	msg     string
	general error
}

func specific(msg string, general error) *kindError { return &kindError{msg: msg, general: general} }

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.general }
func (e *kindError) Retryable() bool      { return errs.IsRetryable(e.general) }

// readError is ErrRead. It has no Retryable method, so that IsRetryable
// answers from the FS error that comes with it.
type readError struct{}

func (e *readError) Error() string        { return "read failed" }
func (e *readError) Is(target error) bool { return target == ErrInvalid }

// LimitError reports a limit of Build that input or output crossed. Err
// is the specific sentinel (ErrTooLarge, ErrOutputTooLarge or
// ErrAliasBomb), Limit the limit's value in bytes, Option the option that
// sets it and Detail what crossed it. It matches ErrLimitExceeded and Err.
// A LimitError is not modified after it is returned and is safe to share.
type LimitError struct {
	Err    error
	Limit  int64
	Option string
	Detail string
}

// Error returns the sentinel's message, what crossed the limit, the limit
// and its option.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%v: %s (limit %d bytes, %s)", e.Err, e.Detail, e.Limit, e.Option)
}

// Unwrap returns Err.
func (e *LimitError) Unwrap() error { return e.Err }

// FileError is an error about one input file or directory. Path is slash
// separated and relative to the assembled tree (a mount's At joined with the
// path inside its FS), never a path on the disk. Err wraps one of the
// package's sentinel errors. A FileError is not modified after it is
// returned and is safe to share.
type FileError struct {
	Path string
	Err  error
}

// Error returns "render: <path>: <error>".
func (e *FileError) Error() string { return "render: " + e.Path + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }
