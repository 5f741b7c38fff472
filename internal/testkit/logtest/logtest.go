// Package logtest is a log sink for railyard's tests that read back what a
// package logged, for example to check that no credential reaches a log
// line at any level.
//
// It is internal test infrastructure: the railyard packages never import
// it outside their tests.
package logtest

import (
	"bytes"
	"log/slog"
	"sync"
)

// Buffer keeps everything written to it. It is safe for concurrent use;
// the zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger returns a logger that writes text records of every level, Debug
// included, to l.
func (l *Buffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
