package gitea

import (
	"fmt"
	"net/http"
)

// Error is a refusal from the Gitea API.
type Error struct {
	Op         string // e.g. "create pull request"
	StatusCode int
	Message    string // Gitea's message, when it sent one
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("gitea: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}
