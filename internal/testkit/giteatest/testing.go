package giteatest

import (
	"context"
	"os"
	"testing"
	"time"
)

// StartTimeout bounds how long [New] waits for a server to start.
const StartTimeout = 3 * time.Minute

// New starts a Gitea for the test t from the binary named by the
// environment variable [EnvBinary] and stops it when the test ends. It
// fails the test (never skips it) when the variable is unset or the server
// does not start within [StartTimeout]; Gitea's output is then part of the
// failure message.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin := os.Getenv(EnvBinary)
	if bin == "" {
		t.Fatal(ErrNoBinary)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	s, err := Start(ctx, bin, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}
