package store

import (
	"context"
	"os"
	"testing"
	"time"
)

// BenchmarkSuitePageYear times the 365-day suite page's queries on a year
// of history: EVALD_YEAR_DB=$PWD/bench/out/year/year.db (built by
// bench/year.sh). RunPoints is what the page read before it bucketed.
func BenchmarkSuitePageYear(b *testing.B) {
	path := os.Getenv("EVALD_YEAR_DB")
	if path == "" {
		b.Skip("EVALD_YEAR_DB is not set")
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var ls string
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(started_at) FROM runs`).Scan(&ls); err != nil {
		b.Fatal(err)
	}
	last, err := parseTime(ls)
	if err != nil {
		b.Fatal(err)
	}
	since := last.Add(-365 * 24 * time.Hour)
	b.Run("RunPoints", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.RunPoints(ctx, "faq", "prod", since); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RunSpan", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.RunSpan(ctx, "faq", "prod", since); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RunBuckets", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.RunBuckets(ctx, "faq", "prod", since, since, 365*24*time.Hour/120); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RunChanges", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.RunChanges(ctx, "faq", "prod", since); err != nil {
				b.Fatal(err)
			}
		}
	})
}
