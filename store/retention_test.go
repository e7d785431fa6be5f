package store

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recordRun stores a finished run of suite on target started at at, with
// n samples of three assertion results each.
func recordRun(t *testing.T, s *Store, suite, target string, at time.Time, n int) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := s.CreateRun(ctx, Run{Suite: suite, Target: target, Trigger: "schedule", StartedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	var samples []Sample
	for i := range n {
		samples = append(samples, Sample{CaseID: "c", CaseIndex: i, Output: strings.Repeat("answer ", 40), Pass: true, Score: 1,
			Results: []AssertionResult{{Type: "contains", Pass: true, Score: 1, Weight: 1}, {Type: "icontains", Pass: true, Score: 1, Weight: 1}, {Type: "levenshtein", Score: 0.2, Weight: 1, Reason: "too far"}}})
	}
	if err := s.AddSamples(ctx, id, samples); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, Run{ID: id, Status: StatusPassed, FinishedAt: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPruneSamples(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	day := 24 * time.Hour
	var ids []int64
	for i := range 8 { // runs 100, 99, ..., 93 days old
		ids = append(ids, recordRun(t, s, "faq", "prod", now.Add(-time.Duration(100-i)*day), 50))
	}
	other := recordRun(t, s, "faq", "staging", now.Add(-95*day), 50)
	recent := recordRun(t, s, "faq", "prod", now.Add(-10*day), 50)
	running, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: now.Add(-200 * day)})
	if err != nil {
		t.Fatal(err)
	}
	keep := Keep{Runs: []int64{ids[1]}, From: []KeepFrom{{Suite: "faq", Target: "prod", RunID: ids[6]}}}
	cutoff := now.Add(-90 * day)
	var total int
	for {
		n, err := s.PruneSamples(ctx, cutoff, keep, 2)
		if err != nil {
			t.Fatal(err)
		}
		if n > 2 {
			t.Fatalf("PruneSamples(batch 2) pruned %d runs", n)
		}
		total += n
		if n < 2 {
			break
		}
	}
	pruned := map[int64]bool{ids[0]: true, ids[2]: true, ids[3]: true, ids[4]: true, ids[5]: true, other: true}
	if got, want := total, len(pruned); got != want {
		t.Errorf("PruneSamples pruned %d runs in all, want %d", got, want)
	}
	for _, id := range append(append([]int64{}, ids...), other, recent, running) {
		r, err := s.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		samples, err := s.Samples(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case pruned[id] && (len(samples) != 0 || !r.SamplesPrunedAt.Equal(now)):
			t.Errorf("run %d: %d samples, pruned at %v; want none, pruned at %v", id, len(samples), r.SamplesPrunedAt, now)
		case pruned[id] && (r.Status != StatusPassed || r.Suite != "faq"):
			t.Errorf("pruned run %d lost its row: %+v", id, r)
		case !pruned[id] && id != running && (len(samples) != 50 || !r.SamplesPrunedAt.IsZero()):
			t.Errorf("kept run %d: %d samples, pruned at %v; want 50, not pruned", id, len(samples), r.SamplesPrunedAt)
		}
	}
	var orphans int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM assertion_results WHERE run_id NOT IN (SELECT run_id FROM samples)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d assertion results outlived their samples", orphans)
	}

	// The freed pages go back to the file system.
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	free, err := s.ReclaimSpace(ctx, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if free != 0 || after.Size() >= before.Size() {
		t.Errorf("after ReclaimSpace: %d free pages, file %d bytes (was %d); want 0 and a smaller file", free, after.Size(), before.Size())
	}
}

func TestNewDatabaseVacuumsIncrementally(t *testing.T) {
	_, path := openTest(t)
	if got := pragma(t, rawDB(t, path), "auto_vacuum"); got != "2" {
		t.Errorf("auto_vacuum of a new database = %s, want 2 (incremental)", got)
	}
}

// TestCompactResults: passing results with no reason are kept with their
// sample, the rest as rows, and they read back whole and in order.
func TestCompactResults(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	id, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Trigger: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	results := []AssertionResult{
		{Type: "contains", Pass: true, Score: 1, Weight: 1},
		{Type: "levenshtein", Pass: false, Score: 0.25, Weight: 2, Reason: "distance 12 > 10"},
		{Type: "llm-rubric", Pass: true, Score: 0.875, Weight: 0.5, Reason: "polite", Turn: 2},
		{Type: "not-icontains", Pass: true, Score: 1.0 / 3, Weight: 1e-9, Turn: 3},
		{Type: "javascript", Pass: true, Score: math.NaN(), Weight: 1},
		{Type: "a type", Pass: true, Score: 1, Weight: 1},
	}
	if err := s.AddSamples(ctx, id, []Sample{{CaseID: "c1", Pass: false, Results: results}, {CaseID: "c2", Pass: true}}); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM assertion_results`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 4 {
		t.Errorf("%d assertion result rows, want 4 (the two plain passes kept compactly)", rows)
	}
	got, err := s.Samples(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]AssertionResult{}, results...)
	want[4].Score = 0 // NaN reads back as 0
	if diff := cmp.Diff(want, got[0].Results); diff != "" {
		t.Errorf("results read back (-want +got):\n%s", diff)
	}
	if got[1].Results != nil {
		t.Errorf("a sample without results reads back %v, want nil", got[1].Results)
	}
}
