//go:build !unix

package sparse

import (
	"context"
	"errors"
	"os"
)

const noFollow = 0

func lockFile(context.Context, *os.File) error {
	return errors.New("cache locking is not supported on this platform")
}

// renameDir renames the directory from to to; to must not exist.
func renameDir(from, to string) error { return os.Rename(from, to) }
