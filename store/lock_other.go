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

// lockNewFile does nothing on this system: without flock, no process can
// tell a live run from a dead one.
func lockNewFile(name string) (release func(remove bool) error, err error) {
	return func(bool) error { return nil }, nil
}

// tryLockFile says held on this system, so that no live run is ever taken
// for a dead one.
func tryLockFile(name string) (release func() error, ok bool, err error) {
	return nil, false, nil
}
