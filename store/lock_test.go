//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestAcquireLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "evald.db")

	release, err := AcquireLock(path)
	if err != nil {
		t.Fatalf("AcquireLock(%q) = %v", path, err)
	}

	t.Run("held", func(t *testing.T) {
		_, err := AcquireLock(path)
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second AcquireLock = %v, want ErrLocked", err)
		}
		for _, want := range []string{path + ".lock", "another evald is using the database"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("AcquireLock error = %q, want it to contain %q", err, want)
			}
		}
	})

	t.Run("released", func(t *testing.T) {
		if err := release(); err != nil {
			t.Fatalf("release() = %v", err)
		}
		if err := release(); err != nil {
			t.Errorf("second release() = %v, want nil", err)
		}
		again, err := AcquireLock(path)
		if err != nil {
			t.Fatalf("AcquireLock after release = %v", err)
		}
		if err := again(); err != nil {
			t.Errorf("release() = %v", err)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		_, err := AcquireLock(filepath.Join(t.TempDir(), "no", "such", "evald.db"))
		if err == nil || errors.Is(err, ErrLocked) {
			t.Errorf("AcquireLock in a missing directory = %v, want an error other than ErrLocked", err)
		}
	})
}

// HoldRuns is shared: any number of `evald run` processes hold it, and a
// serve start sees them until the last lets go; while serve excludes runs,
// none can start.
func TestRunsLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "evald.db")
	held := func() bool {
		t.Helper()
		release, ok, err := ExcludeRuns(path)
		if err != nil {
			t.Fatalf("ExcludeRuns = %v", err)
		}
		if err := release(); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if held() {
		t.Fatal("ExcludeRuns says held before anyone holds the lock")
	}
	r1, err := HoldRuns(path)
	if err != nil {
		t.Fatalf("HoldRuns = %v", err)
	}
	r2, err := HoldRuns(path)
	if err != nil {
		t.Fatalf("second HoldRuns = %v, want a shared lock", err)
	}
	if !held() {
		t.Error("ExcludeRuns says not held while two processes hold it")
	}
	if err := r1(); err != nil {
		t.Fatal(err)
	}
	if !held() {
		t.Error("ExcludeRuns says not held while one still holds it")
	}
	if err := r2(); err != nil {
		t.Fatal(err)
	}
	excl, ok, err := ExcludeRuns(path)
	if err != nil || ok {
		t.Fatalf("ExcludeRuns after all released = %v, %v", ok, err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := HoldRuns(path) // waits for serve's exclusive lock
		if err == nil {
			err = r()
		}
		got <- err
	}()
	if err := excl(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("HoldRuns after serve let go = %v", err)
	}
}
