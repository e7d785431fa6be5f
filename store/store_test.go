package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openTest opens a store on a fresh file in t's temp dir and closes it at
// the end of the test.
func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "evald.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return s, path
}

// rawDB opens path without the store, for poking at the file directly.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func pragma(t testing.TB, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(context.Background(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

// latestSchema is the schema version of the newest embedded migration.
func latestSchema(t testing.TB) string {
	t.Helper()
	ms, err := loadMigrations(migrations)
	if err != nil {
		t.Fatalf("loadMigrations(embedded) = %v", err)
	}
	return strconv.Itoa(len(ms))
}

func TestOpen(t *testing.T) {
	ctx := context.Background()

	t.Run("writer pragmas", func(t *testing.T) {
		s, _ := openTest(t)
		for _, c := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"busy_timeout", "10000"},
			{"foreign_keys", "1"},
			{"synchronous", "1"}, // NORMAL
			{"user_version", latestSchema(t)},
		} {
			if got := pragma(t, s.w, c.pragma); got != c.want {
				t.Errorf("writer PRAGMA %s = %q, want %q", c.pragma, got, c.want)
			}
		}
	})

	t.Run("readers are read-only", func(t *testing.T) {
		s, _ := openTest(t)
		if got, want := pragma(t, s.r, "query_only"), "1"; got != want {
			t.Errorf("reader PRAGMA query_only = %q, want %q", got, want)
		}
		if _, err := s.r.ExecContext(ctx, "UPDATE health_probe SET checked_at = 'x'"); err == nil {
			t.Errorf("write through the read pool succeeded, want an error")
		}
	})

	t.Run("reopen keeps data", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "evald.db")
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("Open = %v", err)
		}
		id, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Trigger: "manual"})
		if err != nil {
			t.Fatalf("CreateRun = %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
		s, err = Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen: Open = %v", err)
		}
		defer s.Close()
		r, err := s.Run(ctx, id)
		if err != nil {
			t.Fatalf("Run(%d) after reopen = %v", id, err)
		}
		if got, want := r.Suite, "faq"; got != want {
			t.Errorf("Run(%d).Suite = %q, want %q", id, got, want)
		}
		if got, want := pragma(t, s.w, "user_version"), latestSchema(t); got != want {
			t.Errorf("user_version after reopen = %q, want %q", got, want)
		}
	})

	t.Run("path needing escapes", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "odd name?#%.db")
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("Open(%q) = %v", path, err)
		}
		defer s.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("database file %q not created: %v", path, err)
		}
	})

	t.Run("not WAL is refused", func(t *testing.T) {
		_, err := Open(ctx, ":memory:")
		if err == nil || !strings.Contains(err.Error(), "want wal") {
			t.Errorf("Open(:memory:) = %v, want an error about WAL", err)
		}
	})

	t.Run("empty path", func(t *testing.T) {
		if _, err := Open(ctx, ""); err == nil {
			t.Errorf(`Open("") = nil error, want an error`)
		}
	})
}

// TestOpenFailureClosesEverything: a half-done Open releases every file it
// opened.
func TestOpenFailureClosesEverything(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc/self/fd")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evald.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	db := rawDB(t, path)
	if _, err := db.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	before := openFDs(t)
	if _, err := Open(ctx, path); err == nil {
		t.Fatalf("Open of a newer database = nil error, want one")
	}
	if got, want := openFDs(t), before; got != want {
		t.Errorf("open files after a failed Open = %d, want %d (as before)", got, want)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return now }
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check() = %v, want nil", err)
	}
	var got string
	if err := s.r.QueryRowContext(ctx, "SELECT checked_at FROM health_probe WHERE id = 1").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := formatTime(now); got != want {
		t.Errorf("probe checked_at = %q, want %q (Check must write)", got, want)
	}

	t.Run("write fails", func(t *testing.T) {
		if _, err := s.w.ExecContext(ctx, "DELETE FROM health_probe"); err != nil {
			t.Fatal(err)
		}
		if err := s.Check(ctx); err == nil || !strings.Contains(err.Error(), "write probe") {
			t.Errorf("Check() without a probe row = %v, want a write probe error", err)
		}
	})
}

func TestTimeFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   time.Time
	}{
		{"utc", time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"nanos", time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)},
		{"other zone", time.Date(2025, 3, 1, 12, 0, 0, 5, time.FixedZone("x", 3600))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := formatTime(tc.in)
			if got, want := len(s), len(timeLayout); got != want {
				t.Errorf("len(formatTime(%v)) = %d, want %d (fixed width sorts as text)", tc.in, got, want)
			}
			got, err := parseTime(s)
			if err != nil {
				t.Fatalf("parseTime(%q) = %v", s, err)
			}
			if !got.Equal(tc.in) || got.Location() != time.UTC {
				t.Errorf("parseTime(formatTime(%v)) = %v, want the same instant in UTC", tc.in, got)
			}
		})
	}
}
