//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func exists(t *testing.T, name string) bool {
	t.Helper()
	_, err := os.Stat(name)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// TestLockFilesRemovedByTheLastHolder: a clean exit leaves no X.db.lock or
// X.db.runs.lock behind; while another process still holds a runs lock the
// file stays, and serve still sees it.
func TestLockFilesRemovedByTheLastHolder(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	release, err := AcquireLock(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if exists(t, db+".lock") {
		t.Errorf("%s.lock left behind after release", db)
	}

	r1, err := HoldRuns(db)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := HoldRuns(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := r1(); err != nil {
		t.Fatal(err)
	}
	if !exists(t, db+".runs.lock") {
		t.Fatal("runs lock removed while another evald run still holds it")
	}
	if _, held, err := ExcludeRuns(db); err != nil || !held {
		t.Errorf("ExcludeRuns = held %t, %v; want the remaining holder seen", held, err)
	}
	if err := r2(); err != nil {
		t.Fatal(err)
	}
	if exists(t, db+".runs.lock") {
		t.Error("runs lock left behind after its last holder released it")
	}
	rel, held, err := ExcludeRuns(db)
	if err != nil || held {
		t.Fatalf("ExcludeRuns after all released = held %t, %v", held, err)
	}
	rel()
}

// TestLockAfterRemovalStartsOver: a process that opened the lock file and
// locks it only after its last holder removed it must not hold a lock on a
// file nobody else can see.
func TestLockAfterRemovalStartsOver(t *testing.T) {
	name := filepath.Join(t.TempDir(), "x.db.runs.lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !stillNamed(f, name) {
		t.Fatal("stillNamed of the file just opened = false")
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if stillNamed(f, name) {
		t.Error("stillNamed of a removed file = true")
	}
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if stillNamed(f, name) {
		t.Error("stillNamed of a file replaced by another = true")
	}
	// The real lock now goes to the file under the name, which serve
	// then sees held.
	release, err := HoldRuns(filepath.Join(filepath.Dir(name), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, held, err := ExcludeRuns(filepath.Join(filepath.Dir(name), "x.db")); err != nil || !held {
		t.Errorf("ExcludeRuns = held %t, %v; want held", held, err)
	}
}
