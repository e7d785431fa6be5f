package store

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return now }
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("Probe() = %v, want nil", err)
	}
	var got string
	if err := s.r.QueryRowContext(ctx, "SELECT checked_at FROM health_probe WHERE id = 1").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := formatTime(now); got != want {
		t.Errorf("probe checked_at = %q, want %q (Probe must write)", got, want)
	}
	if _, err := s.w.ExecContext(ctx, "DELETE FROM health_probe"); err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(ctx); err == nil || !strings.Contains(err.Error(), "probe") {
		t.Errorf("Probe() without a probe row = %v, want a probe error", err)
	}
}

func TestQuickCheck(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	for i := range 300 {
		if _, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Trigger: "manual", Detail: strings.Repeat("x", 200), SuiteVersion: string(rune('a' + i%26))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.QuickCheck(ctx); err != nil {
		t.Fatalf("QuickCheck() of a healthy database = %v, want nil", err)
	}
	var root, pageSize int64
	if err := s.r.QueryRowContext(ctx, "SELECT rootpage FROM sqlite_schema WHERE name = 'runs'").Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The runs table's root page gets an invalid page type.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff, 0xff, 0xff, 0xff}, (root-1)*pageSize); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.QuickCheck(ctx); err == nil || !strings.Contains(err.Error(), "runs") {
		t.Errorf("QuickCheck() of a database with a broken runs table = %v, want an error naming runs", err)
	}
	if err := s2.Probe(ctx); err != nil {
		t.Errorf("Probe() = %v: readiness does not read the runs table", err)
	}
}
