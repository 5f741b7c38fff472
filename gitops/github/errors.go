package github

import (
	"fmt"
	"net/http"
)

// Error is a refusal from the GitHub API.
type Error struct {
	Op         string // e.g. "create pull request"
	StatusCode int
	Message    string // GitHub's message, when it sent one
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("github: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}
