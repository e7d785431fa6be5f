package store

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func fptr(f float64) *float64 { return &f }

var t0 = time.Date(2025, 6, 1, 9, 30, 0, 123456789, time.UTC)

func TestRunLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := t0.Add(time.Hour)
	s.now = func() time.Time { return now }

	start := Run{
		Suite: "faq", Target: "prod", Trigger: "schedule", Status: StatusRunning, Role: RoleProduction,
		StartedAt:    t0.In(time.FixedZone("CEST", 2*3600)),
		SuiteVersion: "sv1", PromptVersion: "pv1", TargetVersion: "tv1",
		ThresholdsJSON: `{"pass_rate":0.9}`, Cases: 12,
	}
	id, err := s.CreateRun(ctx, start)
	if err != nil {
		t.Fatalf("CreateRun = %v", err)
	}

	t.Run("created running", func(t *testing.T) {
		got, err := s.Run(ctx, id)
		if err != nil {
			t.Fatalf("Run(%d) = %v", id, err)
		}
		want := start
		want.ID = id
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Run(%d) after CreateRun mismatch (-want +got):\n%s", id, diff)
		}
		if got.StartedAt.Location() != time.UTC {
			t.Errorf("StartedAt location = %v, want UTC", got.StartedAt.Location())
		}
	})

	finish := start
	finish.ID = id
	finish.Status = "passed"
	finish.FinishedAt = t0.Add(90 * time.Second)
	finish.Samples, finish.Errors = 36, 2
	finish.PassRate, finish.MeanScore = fptr(0.9166), fptr(0.87)
	finish.PromptTokens, finish.CompletionTokens = 12000, 3400
	finish.CostUSD, finish.JudgeCostUSD = 0.0123, 0.0456
	finish.DurationMS = 90000
	finish.Detail = `{"models":{"gpt-4o-mini":36}}`
	finish.Verdict = "ignored by FinishRun"
	finish.Suite = "ignored too"

	t.Run("finish", func(t *testing.T) {
		if err := s.FinishRun(ctx, finish); err != nil {
			t.Fatalf("FinishRun = %v", err)
		}
		got, err := s.Run(ctx, id)
		if err != nil {
			t.Fatalf("Run(%d) = %v", id, err)
		}
		want := finish
		want.Verdict, want.Suite = "", "faq"
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Run(%d) after FinishRun mismatch (-want +got):\n%s", id, diff)
		}
	})

	t.Run("finish twice refused", func(t *testing.T) {
		err := s.FinishRun(ctx, finish)
		if err == nil || !strings.Contains(err.Error(), "is passed, not running") {
			t.Errorf("second FinishRun = %v, want an error saying the run is passed, not running", err)
		}
		if !errors.Is(err, ErrNotRunning) {
			t.Errorf("second FinishRun = %v, want it to wrap ErrNotRunning", err)
		}
	})

	t.Run("finish as running refused", func(t *testing.T) {
		r := finish
		r.Status = StatusRunning
		if err := s.FinishRun(ctx, r); err == nil {
			t.Errorf("FinishRun(status running) = nil, want an error")
		}
	})

	t.Run("finish missing run", func(t *testing.T) {
		r := finish
		r.ID = 9999
		if err := s.FinishRun(ctx, r); !errors.Is(err, ErrNotFound) {
			t.Errorf("FinishRun(missing) = %v, want ErrNotFound", err)
		}
	})

	t.Run("verdict", func(t *testing.T) {
		if err := s.SetVerdict(ctx, id, "regressed", `{"delta":-0.1}`); err != nil {
			t.Fatalf("SetVerdict = %v", err)
		}
		got, err := s.Run(ctx, id)
		if err != nil {
			t.Fatalf("Run(%d) = %v", id, err)
		}
		if got, want := got.Verdict, "regressed"; got != want {
			t.Errorf("Verdict = %q, want %q", got, want)
		}
		if got, want := got.VerdictDetail, `{"delta":-0.1}`; got != want {
			t.Errorf("VerdictDetail = %q, want %q", got, want)
		}
		if got, want := got.Detail, finish.Detail; got != want {
			t.Errorf("Detail after SetVerdict = %q, want %q (untouched)", got, want)
		}
		if err := s.SetVerdict(ctx, 9999, "ok", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetVerdict(missing) = %v, want ErrNotFound", err)
		}
	})

	t.Run("missing run", func(t *testing.T) {
		if _, err := s.Run(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Errorf("Run(9999) = %v, want ErrNotFound", err)
		}
	})

	t.Run("create refuses a final status", func(t *testing.T) {
		if _, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Status: "passed"}); err == nil {
			t.Errorf("CreateRun(status passed) = nil error, want one")
		}
	})

	t.Run("start time defaults to now", func(t *testing.T) {
		id, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Trigger: "manual"})
		if err != nil {
			t.Fatalf("CreateRun = %v", err)
		}
		r, err := s.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !r.StartedAt.Equal(now) || r.Status != StatusRunning {
			t.Errorf("Run = started %v status %q, want started %v status running", r.StartedAt, r.Status, now)
		}
	})
}

func TestRunNoValidSamples(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for _, tc := range []struct {
		name     string
		passRate *float64
		cost     float64
	}{
		{"nil", nil, 0},
		{"NaN", fptr(math.NaN()), math.NaN()},
		{"Inf", fptr(math.Inf(1)), math.Inf(-1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Trigger: "ci"})
			if err != nil {
				t.Fatal(err)
			}
			err = s.FinishRun(ctx, Run{ID: id, Status: "errored", PassRate: tc.passRate, MeanScore: tc.passRate, CostUSD: tc.cost, ErrorText: "all samples errored"})
			if err != nil {
				t.Fatalf("FinishRun = %v", err)
			}
			r, err := s.Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.PassRate != nil || r.MeanScore != nil {
				t.Errorf("PassRate, MeanScore = %v, %v, want nil, nil", r.PassRate, r.MeanScore)
			}
			if got, want := r.CostUSD, 0.0; got != want {
				t.Errorf("CostUSD = %v, want %v", got, want)
			}
			if got, want := r.ErrorText, "all samples errored"; got != want {
				t.Errorf("ErrorText = %q, want %q", got, want)
			}
		})
	}
}

// seedRuns creates runs and returns their IDs in creation order.
func seedRuns(t *testing.T, s *Store, runs []Run) []int64 {
	t.Helper()
	var ids []int64
	for _, r := range runs {
		id, err := s.CreateRun(context.Background(), r)
		if err != nil {
			t.Fatalf("CreateRun(%+v) = %v", r, err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestRunsFilterAndOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ids := seedRuns(t, s, []Run{
		{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: t0},
		{Suite: "faq", Target: "staging", Trigger: "manual", StartedAt: t0.Add(time.Minute)},
		{Suite: "chat", Target: "prod", Trigger: "ci", StartedAt: t0.Add(2 * time.Minute)},
		{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: t0.Add(3 * time.Minute)},
		{Suite: "faq", Target: "prod", Trigger: "manual", StartedAt: t0.Add(4 * time.Minute)},
		{Suite: "faq", Target: "prod", Trigger: "ci", StartedAt: t0.Add(5 * time.Minute), Role: RoleCandidate, Detail: `{"candidate":true,"gate_role":"candidate"}`},
		{Suite: "faq", Target: "prod", Trigger: "ci", StartedAt: t0.Add(6 * time.Minute), Role: RoleReference, Detail: `{"gate_role":"reference"}`},
	})
	gates := ids[5:]
	ids = ids[:5]
	// Run 0 passed, run 3 failed, the rest still running.
	for i, status := range map[int]Status{0: "passed", 3: "failed"} {
		if err := s.FinishRun(ctx, Run{ID: ids[i], Status: status}); err != nil {
			t.Fatal(err)
		}
	}

	idsOf := func(runs []Run) []int64 {
		out := []int64{}
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		f       RunFilter
		history bool
		want    []int64
	}{
		{"all newest first", RunFilter{}, false, []int64{gates[1], gates[0], ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"production", RunFilter{Suite: "faq", Target: "prod", Production: true, Limit: 2}, false, []int64{ids[4], ids[3]}},
		{"completed production", RunFilter{Suite: "faq", Target: "prod", Production: true, Completed: true}, false, []int64{ids[3], ids[0]}},
		{"suite", RunFilter{Suite: "faq"}, false, []int64{gates[1], gates[0], ids[4], ids[3], ids[1], ids[0]}},
		{"suite and target", RunFilter{Suite: "faq", Target: "prod"}, false, []int64{gates[1], gates[0], ids[4], ids[3], ids[0]}},
		{"latest of pair", RunFilter{Suite: "faq", Target: "prod", Limit: 1}, false, []int64{gates[1]}},
		{"trigger", RunFilter{Trigger: "schedule"}, false, []int64{ids[3], ids[0]}},
		{"status", RunFilter{Status: StatusRunning}, false, []int64{gates[1], gates[0], ids[4], ids[2], ids[1]}},
		{"before id", RunFilter{BeforeID: ids[3], Limit: 2}, false, []int64{ids[2], ids[1]}},
		{"no match", RunFilter{Suite: "nope"}, false, []int64{}},
		{"history oldest first", RunFilter{}, true, []int64{ids[0], ids[1], ids[2], ids[3], ids[4], gates[0], gates[1]}},
		{"history newest two, oldest first", RunFilter{Suite: "faq", Limit: 2}, true, []int64{gates[0], gates[1]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs []Run
			var err error
			if tc.history {
				runs, err = s.History(ctx, tc.f)
			} else {
				runs, err = s.Runs(ctx, tc.f)
			}
			if err != nil {
				t.Fatalf("Runs/History(%+v) = %v", tc.f, err)
			}
			if diff := cmp.Diff(tc.want, idsOf(runs)); diff != "" {
				t.Errorf("Runs/History(%+v) IDs mismatch (-want +got):\n%s", tc.f, diff)
			}
		})
	}

	t.Run("default limit", func(t *testing.T) {
		for range DefaultRunsLimit {
			if _, err := s.CreateRun(ctx, Run{Suite: "bulk", Target: "prod", Trigger: "ci"}); err != nil {
				t.Fatal(err)
			}
		}
		runs, err := s.Runs(ctx, RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(runs), DefaultRunsLimit; got != want {
			t.Errorf("len(Runs(no limit)) = %d, want %d", got, want)
		}
		all, err := s.History(ctx, RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(all), DefaultRunsLimit+len(ids)+len(gates); got != want {
			t.Errorf("len(History(no limit)) = %d, want %d (all)", got, want)
		}
	})
}

func TestInterruptRunning(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := t0.Add(time.Hour)
	s.now = func() time.Time { return now }
	ids := seedRuns(t, s, []Run{
		{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: t0},
		{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: t0},
		{Suite: "chat", Target: "prod", Trigger: "manual", StartedAt: t0},
	})
	if err := s.FinishRun(ctx, Run{ID: ids[1], Status: "passed", FinishedAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}

	n, err := s.InterruptRunning(ctx, "evald stopped before the run finished")
	if err != nil {
		t.Fatalf("InterruptRunning = %v", err)
	}
	if got, want := n, 2; got != want {
		t.Errorf("InterruptRunning = %d, want %d", got, want)
	}
	for i, want := range []struct {
		status   Status
		finished time.Time
		errText  string
	}{
		{StatusInterrupted, now, "evald stopped before the run finished"},
		{"passed", t0.Add(time.Minute), ""},
		{StatusInterrupted, now, "evald stopped before the run finished"},
	} {
		r, err := s.Run(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != want.status || !r.FinishedAt.Equal(want.finished) || r.ErrorText != want.errText {
			t.Errorf("run %d = (%q, %v, %q), want (%q, %v, %q)", i, r.Status, r.FinishedAt, r.ErrorText, want.status, want.finished, want.errText)
		}
	}

	n, err = s.InterruptRunning(ctx, "again")
	if err != nil || n != 0 {
		t.Errorf("second InterruptRunning = %d, %v, want 0, nil", n, err)
	}
	if err := s.FinishRun(ctx, Run{ID: ids[0], Status: "passed"}); err == nil {
		t.Errorf("FinishRun of an interrupted run = nil error, want one")
	}
}

// TestCostSince: a suite's spend since a time is its runs' (the tested
// model and the judge grading them) plus what its judge was paid outside
// runs, for calibrations and regrades, each by its own time; other
// suites' and earlier spend is left out.
func TestCostSince(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	day := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []struct {
		suite, target string
		start         time.Time
		cost, judge   float64
	}{
		{"faq", "prod", day.Add(-time.Nanosecond), 100, 7}, // yesterday
		{"faq", "prod", day, 1.5, 0.125},
		{"faq", "staging", day.Add(5 * time.Hour), 2.25, 0},
		{"chat", "prod", day.Add(time.Hour), 50, 0},
	} {
		id, err := s.CreateRun(ctx, Run{Suite: r.suite, Target: r.target, Trigger: "schedule", StartedAt: r.start})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRun(ctx, Run{ID: id, Status: "passed", CostUSD: r.cost, JudgeCostUSD: r.judge}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		suite string
		at    time.Time
		cost  float64
	}{
		{"faq", day.Add(-time.Nanosecond), 30}, // yesterday
		{"faq", day.Add(time.Hour), 0.5},
		{"faq", day.Add(2 * time.Hour), math.NaN()}, // unknown: counts as 0
		{"chat", day.Add(time.Hour), 40},
	} {
		if _, err := s.SaveCalibration(ctx, Calibration{Suite: c.suite, JudgeTarget: "grader", JudgeVersion: "v1", SetHash: "h",
			Trigger: CalibrationManual, At: c.at, Items: 1, Agreements: 1, Status: "ok", CostUSD: c.cost, Detail: `{}`}, AlertWrites{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []struct {
		suite string
		at    time.Time
		cost  float64
	}{
		{"faq", day.Add(-time.Hour), 20}, // yesterday
		{"faq", day.Add(3 * time.Hour), 0.25},
		{"chat", day.Add(time.Hour), 60},
	} {
		if _, err := s.SaveRegrade(ctx, Regrade{Suite: r.suite, Target: "prod", RunID: 1, JudgeTarget: "grader", JudgeVersion: "v1",
			At: r.at, Status: "agree", Graded: 4, Compared: 4, PromptTokens: 100, CompletionTokens: 10, CostUSD: r.cost}); err != nil {
			t.Fatalf("SaveRegrade: %v", err)
		}
	}
	for _, tc := range []struct {
		suite string
		want  float64
	}{
		// Runs 1.5 + 0.125 + 2.25, a calibration 0.5, a regrade 0.25.
		{"faq", 4.625},
		{"chat", 150},
		{"none", 0},
	} {
		t.Run(tc.suite, func(t *testing.T) {
			got, err := s.CostSince(ctx, tc.suite, day)
			if err != nil {
				t.Fatalf("CostSince = %v", err)
			}
			if got != tc.want {
				t.Errorf("CostSince(%q, %v) = %v, want %v", tc.suite, day, got, tc.want)
			}
		})
	}
	// Yesterday's spend counts from yesterday on: 100 + 7, 30 and 20 more.
	if got, err := s.CostSince(ctx, "faq", day.AddDate(0, 0, -1)); err != nil || got != 161.625 {
		t.Errorf("CostSince(faq, the day before) = %v, %v, want 161.625", got, err)
	}
}

func TestVersionsAndSuites(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := t0
	s.now = func() time.Time { return now }

	sv := SuiteVersion{Suite: "faq", Version: "sv1", PromptVersion: "pv1", Canonical: []byte(`{"cases":3}`)}
	if err := s.SaveSuiteVersion(ctx, sv); err != nil {
		t.Fatalf("SaveSuiteVersion = %v", err)
	}
	now = t0.Add(time.Hour)
	again := sv
	again.Canonical = []byte(`{"cases":4}`)
	if err := s.SaveSuiteVersion(ctx, again); err != nil {
		t.Fatalf("SaveSuiteVersion again = %v, want nil (idempotent)", err)
	}
	got, err := s.SuiteVersion(ctx, "faq", "sv1")
	if err != nil {
		t.Fatalf("SuiteVersion = %v", err)
	}
	want := sv
	want.CreatedAt = t0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SuiteVersion mismatch, the first save wins (-want +got):\n%s", diff)
	}
	if _, err := s.SuiteVersion(ctx, "faq", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SuiteVersion(missing) = %v, want ErrNotFound", err)
	}

	tv := TargetVersion{Target: "prod", Version: "tv1", Canonical: []byte(`{"model":"m"}`), CreatedAt: t0}
	for range 2 {
		if err := s.SaveTargetVersion(ctx, tv); err != nil {
			t.Fatalf("SaveTargetVersion = %v", err)
		}
	}
	gotT, err := s.TargetVersion(ctx, "prod", "tv1")
	if err != nil {
		t.Fatalf("TargetVersion = %v", err)
	}
	if diff := cmp.Diff(tv, gotT); diff != "" {
		t.Errorf("TargetVersion mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.TargetVersion(ctx, "prod", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("TargetVersion(missing) = %v, want ErrNotFound", err)
	}

	if _, err := s.CreateRun(ctx, Run{Suite: "chat", Target: "prod", Trigger: "ci"}); err != nil {
		t.Fatal(err)
	}
	suites, err := s.Suites(ctx)
	if err != nil {
		t.Fatalf("Suites = %v", err)
	}
	if diff := cmp.Diff([]string{"chat", "faq"}, suites); diff != "" {
		t.Errorf("Suites mismatch (-want +got):\n%s", diff)
	}
}
