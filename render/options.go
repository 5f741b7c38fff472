package render

import (
	"fmt"
	"log/slog"
)

// Option configures Build. Options are sealed: only this package implements
// them, through the WithX constructors.
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

type options struct {
	logger        *slog.Logger
	maxInputBytes int64
	naming        FileNaming
}

// DefaultMaxInputBytes is the default limit on the bytes Build reads from
// its mounts, summed over every file of one build.
const DefaultMaxInputBytes = 32 << 20

func newOptions(opts []Option) (*options, error) {
	o := &options{
		logger:        slog.New(slog.DiscardHandler),
		maxInputBytes: DefaultMaxInputBytes,
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
			return fmt.Errorf("%w: nil logger", ErrInvalid)
		}
		o.logger = l
		return nil
	})
}

// WithMaxInputBytes limits the bytes Build reads from its mounts, summed
// over every file it reads; a build needing more fails with ErrTooLarge
// naming the file that crossed the limit. n must be positive.
// The default is DefaultMaxInputBytes (32 MiB).
func WithMaxInputBytes(n int64) Option {
	return optionFunc(func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("%w: max input bytes %d", ErrInvalid, n)
		}
		o.maxInputBytes = n
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
		return fmt.Errorf("%w: file naming %d", ErrInvalid, n)
	})
}
