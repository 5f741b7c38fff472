//go:build unix

package sparse

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// noFollow makes OpenFile fail on a symbolic link instead of following it.
const noFollow = syscall.O_NOFOLLOW

// lockFile takes an exclusive flock(2) on f, polling so that ctx can cancel
// the wait. The lock is released when f is closed, also if the process dies.
func lockFile(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// renameDir renames the directory from to to, replacing to if it is an
// empty directory (rename(2) semantics; os.Rename refuses that case).
func renameDir(from, to string) error {
	if err := syscall.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
