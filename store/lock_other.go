//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

import (
	"errors"
	"runtime"
)

// ErrLocked is wrapped by AcquireLock's error when another process holds
// the database's lock.
var ErrLocked = errors.New("another evald is using the database")

// AcquireLock is not supported on this system: it needs flock(2).
func AcquireLock(dbPath string) (release func() error, err error) {
	return nil, errors.New("single-instance lock: flock is not available on " + runtime.GOOS)
}
