package giteatest

import (
	"errors"
	"fmt"
)

// ErrNoBinary is returned by [Start] when the path of the gitea binary is
// empty, and by [New] when the environment variable [EnvBinary] is unset.
// Build the binary with .ci/tools; retrying does not help.
var ErrNoBinary = errors.New("giteatest: no gitea binary (set " + EnvBinary + ", see .ci/tools)")

// CommandError reports a gitea command that failed or exited early. Output
// holds the last lines Gitea wrote (stdout and stderr), which name the
// cause; it never holds the admin password or token.
type CommandError struct {
	// Command is the gitea sub-command, e.g. "migrate" or "web".
	Command string
	// Output is the tail of the command's combined output.
	Output string
	// Err is the underlying error (an *exec.ExitError, a start error, …).
	Err error
}

// Error implements error.
func (e *CommandError) Error() string {
	msg := fmt.Sprintf("giteatest: gitea %s: %v", e.Command, e.Err)
	if e.Output != "" {
		msg += "\n" + e.Output
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *CommandError) Unwrap() error { return e.Err }

// APIError reports a Gitea REST call that answered with an unexpected
// status. Retrying helps only for 5xx statuses.
type APIError struct {
	// Method and Path name the call, e.g. "POST" "/api/v1/user/repos".
	Method, Path string
	// StatusCode is the HTTP status Gitea answered with.
	StatusCode int
	// Body is the start of Gitea's answer (its JSON error message).
	Body string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("giteatest: %s %s: status %d: %s", e.Method, e.Path, e.StatusCode, e.Body)
}
