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
