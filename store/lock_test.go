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
