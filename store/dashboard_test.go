package store

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// importAt builds a finished run of faq on prod started at t.
func importAt(t time.Time, status Status, pass float64) Run {
	r := Run{
		Suite: "faq", Target: "prod", Trigger: "schedule", Status: status,
		StartedAt: t, FinishedAt: t.Add(time.Minute),
		SuiteVersion: "sv1", PromptVersion: "pv1", TargetVersion: "tv1",
		ThresholdsJSON: `{"pass_rate":0.8}`, Cases: 20, Samples: 40, CostUSD: 0.5,
		Verdict: "ok", VerdictDetail: `{"kind":"ok","s":1.5}`, Detail: `{}`,
	}
	if !math.IsNaN(pass) {
		r.PassRate, r.MeanScore = fptr(pass), fptr(pass/2+0.5)
	}
	return r
}

func TestImportRuns(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	in := []Run{importAt(t0, "passed", 0.9), importAt(t0.Add(time.Hour), "regressed", 0.4)}
	in[1].ID = 100
	in[1].JudgeCostUSD = 0.75
	if err := s.ImportRuns(ctx, in); err != nil {
		t.Fatalf("ImportRuns = %v", err)
	}
	runs, err := s.History(ctx, RunFilter{Suite: "faq"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(runs), 2; got != want {
		t.Fatalf("History after ImportRuns = %d runs, want %d", got, want)
	}
	if got, want := runs[1].ID, int64(100); got != want {
		t.Errorf("imported run ID = %d, want %d (kept)", got, want)
	}
	if got, want := runs[1].JudgeCostUSD, 0.75; got != want {
		t.Errorf("imported run judge cost = %v, want %v", got, want)
	}
	if got, want := runs[1].VerdictDetail, in[1].VerdictDetail; got != want {
		t.Errorf("imported verdict detail = %q, want %q", got, want)
	}
	if got, want := runs[0].FinishedAt, in[0].FinishedAt; !got.Equal(want) {
		t.Errorf("imported finish time = %v, want %v", got, want)
	}
	if names, err := s.Suites(ctx); err != nil || len(names) != 1 || names[0] != "faq" {
		t.Errorf("Suites after ImportRuns = %v, %v, want [faq]", names, err)
	}

	for name, bad := range map[string]Run{
		"running":   {Suite: "faq", Target: "prod", Status: StatusRunning, StartedAt: t0, FinishedAt: t0},
		"no target": {Suite: "faq", Status: "passed", StartedAt: t0, FinishedAt: t0},
		"no finish": {Suite: "faq", Target: "prod", Status: "passed", StartedAt: t0},
	} {
		if err := s.ImportRuns(ctx, []Run{importAt(t0, "passed", 1), bad}); err == nil {
			t.Errorf("ImportRuns(%s) = nil, want an error", name)
		}
	}
	if err := s.ImportRuns(ctx, []Run{in[1]}); err == nil {
		t.Errorf("ImportRuns of a taken ID = nil, want an error")
	}
	if runs, _ := s.Runs(ctx, RunFilter{}); len(runs) != 2 {
		t.Errorf("failed imports left %d runs, want 2 (all or nothing)", len(runs))
	}
}

func TestTrend(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var runs []Run
	// Four days of four runs a day; day 2 has a regression and an errored
	// run without a pass rate.
	for d := range 4 {
		for h := range 4 {
			at := day.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*6*time.Hour)
			r := importAt(at, "passed", 0.8)
			if d == 2 && h == 1 {
				r = importAt(at, "regressed", 0.4)
			}
			if d == 2 && h == 2 {
				r = importAt(at, "errored", math.NaN())
			}
			if d == 3 && h == 3 {
				r.Errors = 5 // 20 cases, 5 errored samples: at least 15 measured
			}
			runs = append(runs, r)
		}
	}
	other := importAt(day, "passed", 0.1)
	other.Target = "staging"
	runs = append(runs, other)
	if err := s.ImportRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	// A run in flight is never a point.
	if _, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", StartedAt: day.Add(100 * time.Hour)}); err != nil {
		t.Fatal(err)
	}

	t.Run("one point per run when they fit", func(t *testing.T) {
		pts, err := s.Trend(ctx, "faq", "prod", day.Add(24*time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(pts), 12; got != want {
			t.Fatalf("Trend = %d points, want %d (days 1-3, one per run)", got, want)
		}
		if got, want := pts[5].Runs["regressed"], 1; got != want {
			t.Errorf("point 5 regressed runs = %d, want %d", got, want)
		}
		if got, want := pts[5].PassRate, 0.4; math.Abs(got-want) > 1e-9 {
			t.Errorf("point 5 pass rate = %v, want %v", got, want)
		}
		if got := pts[6]; got.Measured != 0 || got.Runs["errored"] != 1 {
			t.Errorf("errored run's point = %+v, want 1 errored run and nothing measured", got)
		}
		if got, want := pts[11].Cases, 15.0; got != want {
			t.Errorf("cases of a run with 5 errored samples = %v, want %v", got, want)
		}
		if got, want := pts[0].Cases, 20.0; got != want {
			t.Errorf("cases of a run without errors = %v, want %v", got, want)
		}
	})

	t.Run("grouped", func(t *testing.T) {
		// 16 runs over 90 hours in at most 4 points: 22.5-hour buckets,
		// which here hold one day each.
		pts, err := s.Trend(ctx, "faq", "prod", day, 4)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(pts), 4; got != want {
			t.Fatalf("Trend = %d points, want %d (one a day)", got, want)
		}
		if got, want := pts[3].Total(), 4; got != want {
			t.Errorf("last bucket holds %d runs, want %d (the last run is in it)", got, want)
		}
		p := pts[2]
		if got, want := p.Total(), 4; got != want {
			t.Errorf("day 2 runs = %d, want %d", got, want)
		}
		if got, want := p.Measured, 3; got != want {
			t.Errorf("day 2 measured = %d, want %d", got, want)
		}
		if got, want := p.PassRate, (0.8+0.4+0.8)/3; math.Abs(got-want) > 1e-9 {
			t.Errorf("day 2 pass rate = %v, want %v", got, want)
		}
		if p.MinPass != 0.4 || p.MaxPass != 0.8 {
			t.Errorf("day 2 pass range = [%v, %v], want [0.4, 0.8]", p.MinPass, p.MaxPass)
		}
		if got, want := p.From, day.Add(48*time.Hour); !got.Equal(want) {
			t.Errorf("day 2 from = %v, want %v", got, want)
		}
		if got, want := p.To, day.Add(66*time.Hour); !got.Equal(want) {
			t.Errorf("day 2 to = %v, want %v", got, want)
		}
		if p.LastRunID == 0 {
			t.Errorf("day 2 has no last run ID")
		}
	})

	t.Run("none", func(t *testing.T) {
		pts, err := s.Trend(ctx, "faq", "nowhere", day, 8)
		if err != nil || len(pts) != 0 {
			t.Errorf("Trend of an unknown pair = %v, %v, want no points", pts, err)
		}
	})
}

func TestRunPointsAndPrevious(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	var runs []Run
	for i := range 6 {
		r := importAt(t0.Add(time.Duration(i)*time.Hour), "passed", 0.9)
		r.ID = int64(i + 1)
		runs = append(runs, r)
	}
	runs[2].Status = "errored"
	runs[4].SuiteVersion = "sv2" // runs 5 and 6 are a new segment
	runs[5].SuiteVersion = "sv2"
	if err := s.ImportRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}

	pts, err := s.RunPoints(ctx, "faq", "prod", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(pts), 5; got != want {
		t.Fatalf("RunPoints = %d, want %d", got, want)
	}
	if got, want := pts[0].ID, int64(2); got != want {
		t.Errorf("first point = run %d, want run %d (oldest first, since honoured)", got, want)
	}
	if got, want := pts[0].VerdictDetail, runs[1].VerdictDetail; got != want {
		t.Errorf("point verdict detail = %q, want %q", got, want)
	}

	cur, err := s.Run(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := s.PreviousRun(ctx, cur, cur.ID, "passed", "failed")
	if err != nil || prev.ID != 2 {
		t.Errorf("PreviousRun(4, completed) = run %d, %v, want run 2 (run 3 errored)", prev.ID, err)
	}
	if prev, err := s.PreviousRun(ctx, cur, cur.ID); err != nil || prev.ID != 3 {
		t.Errorf("PreviousRun(4, any status) = run %d, %v, want run 3", prev.ID, err)
	}
	seg, _ := s.Run(ctx, 5)
	if _, err := s.PreviousRun(ctx, seg, seg.ID, "passed"); !errors.Is(err, ErrNotFound) {
		t.Errorf("PreviousRun(first run of a segment) = %v, want ErrNotFound", err)
	}

}

func TestAuditEntries(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i, action := range []string{"suite.adopted", "drift.accepted", "silence.created", "drift.accepted"} {
		if _, err := s.AppendAudit(ctx, testSeal("alice", action, `{"n":`+string(rune('0'+i))+`}`)); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func(es []AuditEntry) string {
		var b strings.Builder
		for _, e := range es {
			b.WriteString(string(rune('0' + e.Seq)))
		}
		return b.String()
	}
	tests := []struct {
		name string
		f    AuditFilter
		want string
	}{
		{"all, newest first", AuditFilter{}, "4321"},
		{"by action", AuditFilter{Actions: []string{"drift.accepted"}}, "42"},
		{"two actions", AuditFilter{Actions: []string{"drift.accepted", "suite.adopted"}}, "421"},
		{"page", AuditFilter{BeforeSeq: 4, Limit: 2}, "32"},
		{"since", AuditFilter{Since: t0.Add(3 * time.Second)}, "43"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := s.AuditEntries(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(es); got != tt.want {
				t.Errorf("AuditEntries(%+v) = seqs %s, want %s", tt.f, got, tt.want)
			}
		})
	}
}

// TestDashboardQueriesUseIndexes keeps the dashboard's reads on the indexes
// made for them (0003, the trend's remade with the role by 0008), and in
// index order (no sort).
func TestDashboardQueriesUseIndexes(t *testing.T) {
	s, _ := openTest(t)
	for _, q := range []struct {
		sql   string
		args  []any
		index string
	}{
		{trendQuery, []any{"a", "b", "", StatusRunning}, "INDEX runs_pair_started"},
		{`SELECT COALESCE(SUM(cost_usd), 0) FROM runs WHERE suite = 'a' AND started_at >= ''`, nil, "COVERING INDEX runs_suite_started_cost"},
	} {
		if got := queryPlan(t, s, q.sql, q.args...); !strings.Contains(got, q.index) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("plan of %q = %q, want it to use %s and no sort", q.sql, got, q.index)
		}
	}
}
