package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/store"
)

// A database that cannot be locked or opened is exit 5, not a usage error.
func TestStoreFailuresExit5(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	db := filepath.Join(t.TempDir(), "evald.db")
	release, err := store.AcquireLock(db)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	code, _, errOut := evald(t, "serve", "--config", cfg, "--db", db, "--addr", "127.0.0.1:0")
	if code != exitStore || !strings.Contains(errOut, store.ErrLocked.Error()) {
		t.Errorf("serve on a locked database = exit %d %q, want %d saying it is locked", code, errOut, exitStore)
	}
	notADB := t.TempDir() // a folder
	for _, args := range [][]string{
		{"history", "--db", notADB},
		{"run", "--config", cfg, "--db", notADB},
		{"signoff", "--config", cfg, "--db", notADB, "--by", "alice", "--reason", "r", "faq"},
	} {
		if code, _, errOut := evald(t, args...); code != exitStore || !strings.Contains(errOut, "open "+notADB) {
			t.Errorf("evald %v = exit %d %q, want %d naming the file", args, code, errOut, exitStore)
		}
	}
}

func TestCleanupsRunLastFirst(t *testing.T) {
	var (
		c     cleanups
		order []string
	)
	for _, name := range []string{"first", "second", "third"} {
		c.add(name, func(context.Context) error {
			order = append(order, name)
			if name == "second" {
				return errors.New("boom")
			}
			return nil
		})
	}
	err := c.run(context.Background())
	if got, want := strings.Join(order, " "), "third second first"; got != want {
		t.Errorf("cleanups ran %q, want %q", got, want)
	}
	if err == nil || err.Error() != "second: boom" {
		t.Errorf("cleanups.run() = %v, want the named failure \"second: boom\"", err)
	}
	if err := c.run(context.Background()); err != nil || len(order) != 3 {
		t.Errorf("cleanups ran again: %v, %d calls", err, len(order))
	}
}
