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

// HoldRuns does nothing on this system: without flock, serve cannot tell a
// live `evald run` from a dead one, and [ExcludeRuns] always says held.
func HoldRuns(dbPath string) (release func() error, err error) {
	return func() error { return nil }, nil
}

// ExcludeRuns cannot tell on this system and says held, so that serve
// never marks a live `evald run`'s runs as interrupted.
func ExcludeRuns(dbPath string) (release func() error, held bool, err error) {
	return func() error { return nil }, true, nil
}
