package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/evald/evald/store"
)

// The wiring run, serve and the governance commands share: the database
// lock each takes, the store, and the cleanups that close them in reverse.

// storeErr is a database that could not be locked or opened (exit 5).
func storeErr(format string, args ...any) error {
	return &exitError{code: exitStore, err: fmt.Errorf(format, args...)}
}

// cleanups is a stack of named cleanups, run last first.
type cleanups struct {
	names []string
	fns   []func(context.Context) error
}

// add pushes a cleanup; name says what it closes, in its error.
func (c *cleanups) add(name string, fn func(context.Context) error) {
	c.names = append(c.names, name)
	c.fns = append(c.fns, fn)
}

// run runs every cleanup, last added first, and joins their errors. It
// empties the stack.
func (c *cleanups) run(ctx context.Context) error {
	var errs []error
	for i := len(c.fns) - 1; i >= 0; i-- {
		if err := c.fns[i](ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.names[i], err))
		}
	}
	c.names, c.fns = nil, nil
	return errors.Join(errs...)
}

// dbLock is the lock a command takes on its database before opening it.
type dbLock int

const (
	// lockNone: the governance commands and the readers share the file
	// with whoever else uses it.
	lockNone dbLock = iota
	// lockRuns: `evald run` records runs outside a daemon, so a serve
	// starting on the same file must not take them for a crash's
	// leftovers (store.HoldRuns).
	lockRuns
	// lockServe: one serving process per database (store.AcquireLock).
	lockServe
)

// openDB takes lock on the database at path and opens it, pushing their
// cleanups on c. A failure is a store error (exit 5); what was taken
// before it is on c.
func openDB(ctx context.Context, path string, lock dbLock, c *cleanups) (*store.Store, error) {
	var (
		release func() error
		err     error
	)
	switch lock {
	case lockRuns:
		release, err = store.HoldRuns(path)
	case lockServe:
		release, err = store.AcquireLock(path)
	}
	if err != nil {
		return nil, storeErr("%w", err)
	}
	if release != nil {
		c.add("release the database lock", func(context.Context) error { return release() })
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, storeErr("open %s: %w", path, err)
	}
	c.add("close the store", func(context.Context) error { return st.Close() })
	return st, nil
}
