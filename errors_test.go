package railyard_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard"
	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/gitops/github"
	"github.com/railyard-gitops/railyard/render"
	"github.com/railyard-gitops/railyard/sparse"
)

// retryCase is one exported error and the answer to "can a retry help?".
type retryCase struct {
	err       error
	retryable bool
}

// exportedErrors lists every exported error variable and error type of the
// public packages, keyed "<package dir>.<name>", with the retry answer
// railyard documents for it. TestEveryErrorAnswersRetry checks the list
// against the source, so a new error cannot ship without an answer.
func exportedErrors() map[string][]retryCase {
	no := func(errs ...error) []retryCase {
		var cs []retryCase
		for _, e := range errs {
			cs = append(cs, retryCase{e, false})
		}
		return cs
	}
	yes := func(e error) []retryCase { return []retryCase{{e, true}} }
	// Error types that wrap a cause answer as their cause does.
	wrapping := func(mk func(error) error) []retryCase {
		return []retryCase{
			{mk(fmt.Errorf("x: %w", freight.ErrUnavailable)), true},
			{mk(fmt.Errorf("x: %w", freight.ErrUnauthorized)), false},
		}
	}
	return map[string][]retryCase{
		"freight.ErrInvalid":         no(freight.ErrInvalid),
		"freight.ErrNotFound":        no(freight.ErrNotFound),
		"freight.ErrUnauthorized":    no(freight.ErrUnauthorized),
		"freight.ErrUnsafeContent":   no(freight.ErrUnsafeContent),
		"freight.ErrLimitExceeded":   no(freight.ErrLimitExceeded),
		"freight.ErrUnavailable":     yes(freight.ErrUnavailable),
		"freight.ErrBranchNotFound":  no(freight.ErrBranchNotFound),
		"freight.ErrInvalidCommitID": no(freight.ErrInvalidCommitID),
		"freight.ErrMovedTag":        no(freight.ErrMovedTag),
		"freight.ErrRefused":         no(freight.ErrRefused),
		"freight.ErrRejected":        no(freight.ErrRejected),
		"freight.CommitIDError":      no(&freight.CommitIDError{ID: "x"}),
		"freight.LimitError":         no(&freight.LimitError{Limit: "tags", Max: 1}),
		"freight.MovedTagError":      no(&freight.MovedTagError{}),
		"freight.RemoteError":        wrapping(func(e error) error { return &freight.RemoteError{Op: "list", URL: "u", Err: e} }),

		"gitops.ErrInvalid":            no(gitops.ErrInvalid),
		"gitops.ErrNotFound":           no(gitops.ErrNotFound),
		"gitops.ErrUnauthorized":       no(gitops.ErrUnauthorized),
		"gitops.ErrUnsafeContent":      no(gitops.ErrUnsafeContent),
		"gitops.ErrLimitExceeded":      no(gitops.ErrLimitExceeded),
		"gitops.ErrUnavailable":        yes(gitops.ErrUnavailable),
		"gitops.ErrBaseNotFound":       no(gitops.ErrBaseNotFound),
		"gitops.ErrClosed":             no(gitops.ErrClosed),
		"gitops.ErrConflict":           yes(gitops.ErrConflict),
		"gitops.ErrInvalidBranch":      no(gitops.ErrInvalidBranch),
		"gitops.ErrInvalidChange":      no(gitops.ErrInvalidChange),
		"gitops.ErrInvalidPath":        no(gitops.ErrInvalidPath),
		"gitops.ErrPathConflict":       no(gitops.ErrPathConflict),
		"gitops.ErrRepositoryNotFound": no(gitops.ErrRepositoryNotFound),
		"gitops.BranchError":           no(&gitops.BranchError{Name: "x", Reason: "y"}),
		"gitops.ClosedError":           no(&gitops.ClosedError{Number: 1}),
		"gitops.ConflictError":         yes(&gitops.ConflictError{Branch: "b", Attempts: 2, Err: errors.New("rejected")}),
		"gitops.LimitError":            no(&gitops.LimitError{Limit: "objects", Max: 1}),
		"gitops.PathError":             no(&gitops.PathError{Path: "x", Reason: "y"}),

		"gitea.Error": {
			{&gitea.Error{Op: "list", StatusCode: 503}, true},
			{&gitea.Error{Op: "list", StatusCode: 429}, true},
			{&gitea.Error{Op: "list", StatusCode: 401}, false},
			{&gitea.Error{Op: "list", StatusCode: 404}, false},
			{&gitea.Error{Op: "list", StatusCode: 422}, false},
		},
		"github.Error": {
			{&github.Error{Op: "list", StatusCode: 502}, true},
			{&github.Error{Op: "list", StatusCode: 429}, true},
			{&github.Error{Op: "list", StatusCode: 403}, false},
			{&github.Error{Op: "list", StatusCode: 404}, false},
			{&github.Error{Op: "list", StatusCode: 422}, false},
		},

		"render.ErrInvalid":              no(render.ErrInvalid),
		"render.ErrNotFound":             no(render.ErrNotFound),
		"render.ErrUnsafeContent":        no(render.ErrUnsafeContent),
		"render.ErrLimitExceeded":        no(render.ErrLimitExceeded),
		"render.ErrAbsolutePath":         no(render.ErrAbsolutePath),
		"render.ErrAliasBomb":            no(render.ErrAliasBomb),
		"render.ErrDuplicateObject":      no(render.ErrDuplicateObject),
		"render.ErrEscape":               no(render.ErrEscape),
		"render.ErrHelmRefused":          no(render.ErrHelmRefused),
		"render.ErrInvalidDeployment":    no(render.ErrInvalidDeployment),
		"render.ErrInvalidImage":         no(render.ErrInvalidImage),
		"render.ErrInvalidKustomization": no(render.ErrInvalidKustomization),
		"render.ErrInvalidMount":         no(render.ErrInvalidMount),
		"render.ErrInvalidOption":        no(render.ErrInvalidOption),
		"render.ErrInvalidWrapper":       no(render.ErrInvalidWrapper),
		"render.ErrInvalidYAML":          no(render.ErrInvalidYAML),
		"render.ErrKustomize":            no(render.ErrKustomize),
		"render.ErrOutputTooLarge":       no(render.ErrOutputTooLarge),
		"render.ErrPanic":                no(render.ErrPanic),
		"render.ErrPluginRefused":        no(render.ErrPluginRefused),
		"render.ErrRead":                 no(render.ErrRead),
		"render.ErrRemote":               no(render.ErrRemote),
		"render.ErrSymlink":              no(render.ErrSymlink),
		"render.ErrTooLarge":             no(render.ErrTooLarge),
		"render.FileError":               no(&render.FileError{Path: "x", Err: render.ErrSymlink}),
		"render.LimitError":              no(&render.LimitError{Option: "WithMaxOutputSize", Limit: 1, Err: render.ErrOutputTooLarge}),

		"sparse.ErrInvalid":           no(sparse.ErrInvalid),
		"sparse.ErrNotFound":          no(sparse.ErrNotFound),
		"sparse.ErrUnauthorized":      no(sparse.ErrUnauthorized),
		"sparse.ErrUnsafeContent":     no(sparse.ErrUnsafeContent),
		"sparse.ErrLimitExceeded":     no(sparse.ErrLimitExceeded),
		"sparse.ErrUnavailable":       yes(sparse.ErrUnavailable),
		"sparse.ErrTransfer":          yes(sparse.ErrTransfer),
		"sparse.ErrCommitNotFound":    no(sparse.ErrCommitNotFound),
		"sparse.ErrCorrupt":           yes(sparse.ErrCorrupt), // from the network a retry may help
		"sparse.ErrDestination":       no(sparse.ErrDestination),
		"sparse.ErrInvalidPath":       no(sparse.ErrInvalidPath),
		"sparse.ErrInvalidRequest":    no(sparse.ErrInvalidRequest),
		"sparse.ErrPathNotFound":      no(sparse.ErrPathNotFound),
		"sparse.ErrRefNotFound":       no(sparse.ErrRefNotFound),
		"sparse.ErrUnsupportedServer": no(sparse.ErrUnsupportedServer),
		"sparse.LimitError":           no(&sparse.LimitError{Limit: "files", Max: 1}),
		"sparse.PathError":            no(&sparse.PathError{Path: "x", Reason: "y", Err: sparse.ErrInvalidPath}),
	}
}

// Every exported error of every package answers the retry question the
// same way through the package's IsRetryable and railyard.IsRetryable, also
// when wrapped, and the answer is the documented one.
func TestEveryErrorAnswersRetry(t *testing.T) {
	t.Parallel()
	table := exportedErrors()
	perPackage := map[string]func(error) bool{
		"freight": freight.IsRetryable, "gitops": gitops.IsRetryable, "render": render.IsRetryable,
		"sparse": sparse.IsRetryable, "gitea": gitops.IsRetryable, "github": gitops.IsRetryable,
	}
	for name, cases := range table {
		pkg, _, _ := strings.Cut(name, ".")
		for i, c := range cases {
			what := fmt.Sprintf("%s #%d (%v)", name, i, c.err)
			assert.Equal(t, c.retryable, railyard.IsRetryable(c.err), what)
			assert.Equal(t, c.retryable, perPackage[pkg](c.err), what)
			wrapped := fmt.Errorf("caller: %w", c.err)
			assert.Equal(t, c.retryable, railyard.IsRetryable(wrapped), "wrapped "+what)
			// The class decides: an error that is not retryable never
			// matches ErrUnavailable, and one that is does.
			var unavailable error
			switch pkg {
			case "freight":
				unavailable = freight.ErrUnavailable
			case "sparse":
				unavailable = sparse.ErrUnavailable
			case "gitops", "gitea", "github":
				unavailable = gitops.ErrUnavailable
			}
			if unavailable != nil {
				assert.Equal(t, c.retryable, errors.Is(c.err, unavailable), "%s matches ErrUnavailable iff retryable", what)
			}
		}
	}
	// The context's own errors: a deadline may pass next time, a
	// cancellation is the caller's decision.
	assert.True(t, railyard.IsRetryable(context.DeadlineExceeded))
	assert.False(t, railyard.IsRetryable(context.Canceled))
	assert.False(t, railyard.IsRetryable(nil))
	assert.False(t, railyard.IsRetryable(errors.New("unknown")))
}

// The table above is complete: every exported variable named Err* and
// every exported type named *Error (or Error) in the public packages has
// an entry, and no entry names something that is gone.
func TestEveryErrorIsListed(t *testing.T) {
	t.Parallel()
	var found []string
	for _, dir := range []string{"freight", "gitops", "gitops/gitea", "gitops/github", "render", "sparse"} {
		fset := token.NewFileSet()
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		short := filepath.Base(dir)
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			{
				for _, decl := range f.Decls {
					g, ok := decl.(*ast.GenDecl)
					if !ok {
						continue
					}
					for _, s := range g.Specs {
						switch s := s.(type) {
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if n.IsExported() && strings.HasPrefix(n.Name, "Err") && g.Tok == token.VAR {
									found = append(found, short+"."+n.Name)
								}
							}
						case *ast.TypeSpec:
							if s.Name.IsExported() && strings.HasSuffix(s.Name.Name, "Error") {
								found = append(found, short+"."+s.Name.Name)
							}
						}
					}
				}
			}
		}
	}
	var listed []string
	for name := range exportedErrors() {
		listed = append(listed, name)
	}
	sort.Strings(found)
	sort.Strings(listed)
	assert.Equal(t, found, listed, "exportedErrors must list every exported error, with its retry answer")
}
