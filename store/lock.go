//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// ErrLocked is wrapped by AcquireLock's error when another process holds
// the database's lock.
var ErrLocked = errors.New("another evald is using the database")

// held keeps the files of held locks reachable: were a lock file's only
// reference a dropped release func, the garbage collector would close it
// and silently drop the lock.
var held sync.Map // *os.File -> struct{}

// AcquireLock takes the single-instance lock of the database at dbPath: an
// exclusive flock on dbPath+".lock", which the kernel drops when the
// process dies, however it dies. When another process holds it, the error
// wraps [ErrLocked] and names the lock file. release unlocks; it is safe
// to call more than once. The lock is held until release is called or the
// process ends, even if release is dropped. The last holder to release
// removes the lock file (see lockFile for why that is safe); one left by a
// killed process is reused.
func AcquireLock(dbPath string) (release func() error, err error) {
	return lockFile(dbPath+".lock", syscall.LOCK_EX|syscall.LOCK_NB)
}

// HoldRuns tells other processes that this one records runs outside the
// daemon (`evald run`): a shared flock on dbPath+".runs.lock", held until
// release or the process ends. Any number of processes may hold it at
// once.
func HoldRuns(dbPath string) (release func() error, err error) {
	// Blocking: the only exclusive holder is a serve start probing the
	// lock, which lets go at once.
	return lockFile(dbPath+".runs.lock", syscall.LOCK_SH)
}

// ExcludeRuns is serve's side of [HoldRuns], taken at start before it marks
// the runs a crash left "running" as interrupted. When another process
// holds HoldRuns, held is true and nothing is locked. Otherwise it holds an
// exclusive lock until release, so no `evald run` can start recording
// (HoldRuns waits) between the check and the interrupting.
func ExcludeRuns(dbPath string) (release func() error, held bool, err error) {
	release, err = lockFile(dbPath+".runs.lock", syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, ErrLocked) {
		return func() error { return nil }, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return release, false, nil
}

// lockFile takes a flock of kind how on name; see AcquireLock.
//
// The last holder removes the file when it lets go, so a database leaves
// no lock files behind after a clean exit. That stays race-free because
// removal happens only under an exclusive lock, and a process that locked
// the file checks afterwards that the name still leads to the file it
// locked: if a releaser removed it in between, it starts over on a new file.
func lockFile(name string, how int) (release func() error, err error) {
	var f *os.File
	for {
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open lock file: %w", err)
		}
		if err := control(f, how); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("lock %s: %w", name, ErrLocked)
			}
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if stillNamed(f, name) {
			break
		}
		f.Close() // removed by its last holder while we waited: start over
	}
	held.Store(f, struct{}{})
	var once sync.Once
	var rerr error
	return func() error {
		once.Do(func() {
			defer held.Delete(f)
			// Only a holder that can take the file exclusively at once (no
			// one else holds it) removes it; a process that opened it
			// meanwhile and locks it later finds the name gone and starts
			// over (stillNamed).
			if control(f, syscall.LOCK_EX|syscall.LOCK_NB) == nil && stillNamed(f, name) {
				if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
					rerr = err
				}
			}
			// Closing the only descriptor drops the lock; unlocking first
			// says so explicitly.
			rerr = errors.Join(rerr, funlock(f), f.Close())
			if rerr != nil {
				rerr = fmt.Errorf("release %s: %w", name, rerr)
			}
		})
		return rerr
	}, nil
}

// stillNamed reports whether name leads to the open file f.
func stillNamed(f *os.File, name string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(name)
	return err == nil && os.SameFile(a, b)
}

func funlock(f *os.File) error {
	return control(f, syscall.LOCK_UN)
}

func control(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), how)
			if !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}

// lockNewFile creates name holding an exclusive flock on it from the
// moment it appears: a temporary file beside it is locked, then renamed to
// name (the lock stays with the file). release unlocks it, and removes it
// first when remove is set.
func lockNewFile(name string) (release func(remove bool) error, err error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	f, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := control(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	held.Store(f, struct{}{})
	var once sync.Once
	var rerr error
	return func(remove bool) error {
		once.Do(func() {
			defer held.Delete(f)
			if remove {
				// Removed while still locked, so that nobody takes a
				// lock on a file about to disappear.
				rerr = os.Remove(name)
			}
			rerr = errors.Join(rerr, funlock(f), f.Close())
		})
		return rerr
	}, nil
}

// tryLockFile takes an exclusive flock on the existing file name without
// waiting: ok is false when another open file holds it. A missing file is
// an error wrapping fs.ErrNotExist.
func tryLockFile(name string) (release func() error, ok bool, err error) {
	release, err = lockExisting(name)
	if errors.Is(err, ErrLocked) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return release, true, nil
}

func lockExisting(name string) (release func() error, err error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if err := control(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", name, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() error { return errors.Join(funlock(f), f.Close()) }, nil
}
