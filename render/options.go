package render

import (
	"fmt"
	"log/slog"
	"sync"
)

// Option configures Build. Options are sealed: only this package implements
// them, through the WithX constructors. A nil Option is ignored.
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

type options struct {
	logger        *slog.Logger
	maxInputSize  int64
	maxOutputSize int64
	naming        FileNaming
	locker        sync.Locker // nil: the package-wide slot
}

const (
	// DefaultMaxInputSize is the default limit on the bytes Build reads
	// from its mounts, summed over every file of one build.
	DefaultMaxInputSize = 32 << 20
	// DefaultMaxOutputSize is the default limit on the bytes of one
	// build's output, Result.YAML. kustomize holds about eight times the
	// output in memory while it builds: a build of 8 MiB peaks near 100
	// MiB of resident memory (measured), within the 128 MiB every railyard
	// package keeps to under default limits.
	DefaultMaxOutputSize = 8 << 20
)

func newOptions(opts []Option) (*options, error) {
	o := &options{
		logger:        slog.New(slog.DiscardHandler),
		maxInputSize:  DefaultMaxInputSize,
		maxOutputSize: DefaultMaxOutputSize,
		naming:        NamingKustomize,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(o); err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
	}
	return o, nil
}

// WithLogger sets the logger Build reports to: at Debug, the files read and
// the duration of each phase; nothing above Debug. A nil logger is refused.
// The default is a logger that discards everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		o.logger = l
		return nil
	})
}

// WithMaxInputSize limits the bytes Build reads from its mounts, summed
// over every file it reads; a build needing more fails with a
// [*LimitError] wrapping ErrTooLarge that names the file crossing the
// limit. n must be positive.
// The default is DefaultMaxInputSize (32 MiB).
func WithMaxInputSize(n int64) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("%w: max input size %d", ErrInvalidOption, n)
		}
		o.maxInputSize = n
		return nil
	})
}

// WithMaxOutputSize limits the bytes of the output of one build
// ([Result.YAML]). Before kustomize runs, Build estimates the output from
// the walked input (every inclusion of a file or kustomization counted
// again, YAML aliases expanded, patches, labels and replacements counted
// once per object they may reach), and refuses a build whose estimate is
// beyond n, so that a small kustomization that multiplies big objects
// costs no memory; after, it checks the real output. Either fails with a
// [*LimitError] wrapping ErrOutputTooLarge. n must be positive.
// The default is DefaultMaxOutputSize (8 MiB).
func WithMaxOutputSize(n int64) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("%w: max output size %d", ErrInvalidOption, n)
		}
		o.maxOutputSize = n
		return nil
	})
}

// WithFileNaming chooses how [Result.Files] names the file of each object.
// The default is NamingKustomize.
func WithFileNaming(n FileNaming) Option {
	return optionFunc(func(o *options) error {
		switch n {
		case NamingKustomize, NamingKargo:
			o.naming = n
			return nil
		}
		return fmt.Errorf("%w: file naming %d", ErrInvalidOption, n)
	})
}

// WithLocker makes Build serialize its kustomize phase on l instead of the
// package-wide lock, for a program that runs kustomize itself too (Kargo's
// kustomize-build step serializes behind its own mutex): passing that
// mutex keeps the two from running kustomize, which keeps global state,
// at the same time. Build waits for l in a goroutine, so that it still
// returns when ctx ends; a lock acquired after that is released at once.
// l must be a lock that any goroutine may unlock (sync.Mutex is). A nil l
// is refused.
// The default is the package-wide lock, shared by every Build without
// this option.
func WithLocker(l sync.Locker) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil locker", ErrInvalidOption)
		}
		o.locker = l
		return nil
	})
}
