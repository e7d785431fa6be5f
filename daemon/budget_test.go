package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestBudgetCountsJudge: the daily budget of a suite counts what its judge
// spent grading, not only the model under test: a budget the tested model
// alone stays under is spent once grading is added.
func TestBudgetCountsJudge(t *testing.T) {
	proj := judgeProject(t, simURL(t, nil))
	d, _ := gateDaemon(t, proj)
	res, err := d.Evaluate(context.Background(), Request{Suite: "refunds", Target: "prod", Trigger: TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	tested, judged := res.Summary.CostUSD, res.Summary.JudgeCostUSD
	if tested <= 0 || judged <= 0 {
		t.Fatalf("run cost %v, judge cost %v; want both positive", tested, judged)
	}
	k := runKey{suite: "refunds", target: "prod"}
	proj.Config.Suites[0].BudgetUSDPerDay = tested + judged/2
	if !d.overBudget(k) {
		t.Errorf("budget $%v with $%v spent on the model and $%v on its judge: not over, want over", tested+judged/2, tested, judged)
	}
	proj.Config.Suites[0].BudgetUSDPerDay = 2 * (tested + judged)
	if d.overBudget(k) {
		t.Errorf("budget $%v with $%v spent in all: over, want not", 2*(tested+judged), tested+judged)
	}
}

// TestBudgetCountsCalibrations: what the judge is paid to grade the
// calibration set, after a run or on demand, counts toward the suite's
// daily budget: a budget the run alone stays under skips the next
// scheduled run once the calibration is added, until the UTC day ends.
func TestBudgetCountsCalibrations(t *testing.T) {
	ctx := context.Background()
	proj := calibratedProject(t, &judgeDrift{})
	st := testStore(t)
	now := time.Date(2026, 3, 2, 21, 0, 0, 0, time.UTC)
	d := testDaemon(t, Options{Project: proj, Store: st, Alerts: true, Now: func() time.Time { return now }})
	res, err := d.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	run := res.Summary.CostUSD + res.Summary.JudgeCostUSD
	list, err := st.Calibrations(ctx, "refunds", 0)
	if err != nil || len(list) != 1 {
		t.Fatalf("calibrations after the run = %d, %v; want 1", len(list), err)
	}
	cal := list[0].CostUSD
	var det calibrationDetail
	if err := json.Unmarshal([]byte(list[0].Detail), &det); err != nil || cal <= 0 || cal != det.CostUSD {
		t.Fatalf("calibration cost %v, detail's %v (%v); want the same positive cost in both", cal, det.CostUSD, err)
	}

	k := runKey{suite: "refunds", target: "prod"}
	skipped := func() float64 {
		return testutil.ToFloat64(d.metrics.skipped.WithLabelValues("refunds", "prod", "budget"))
	}
	budget := func(usd float64) { proj.Config.Suites[0].BudgetUSDPerDay = usd }
	budget(run + cal/2)
	if !d.overBudget(k) || skipped() != 1 {
		t.Errorf("budget $%v, spent $%v on the run and $%v calibrating after it: over %v, skips %v; want over, 1 skip",
			run+cal/2, run, cal, d.overBudget(k), skipped())
	}
	budget(run + 2*cal)
	if d.overBudget(k) {
		t.Errorf("budget $%v with $%v spent: over, want not yet", run+2*cal, run+cal)
	}

	// evald calibrate is paid for too.
	out, err := d.Calibrate(ctx, "refunds")
	if err != nil {
		t.Fatal(err)
	}
	manual := out.Result.CostUSD
	if manual <= 0 {
		t.Fatalf("manual calibration cost %v, want positive", manual)
	}
	budget(run + cal + manual/2)
	if !d.overBudget(k) {
		t.Errorf("budget $%v with $%v spent on the run, $%v and $%v calibrating: not over, want over", run+cal+manual/2, run, cal, manual)
	}

	// A new UTC day starts from nothing.
	now = now.Add(4 * time.Hour)
	if d.overBudget(k) {
		t.Errorf("the next UTC day, with yesterday's $%v spent: over, want not", run+cal+manual)
	}
}

// TestBudgetCountsRegrades: a regrade pays the judge again for every
// output and leaves the run as it was; its spend is recorded apart and
// counts toward the daily budget, a regrade stopped halfway included.
func TestBudgetCountsRegrades(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		stop   atomic.Bool  // cancel the regrade at its second judge request
		judged atomic.Int64 // judge requests while stop is set
	)
	url := simURL(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if stop.Load() && bytes.Contains(body, []byte(`"model":"sim-judge"`)) && judged.Add(1) == 2 {
				cancel()
				<-r.Context().Done()
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	proj := judgeProject(t, url)
	// One judge request at a time, so the first is answered and read
	// before the second cancels.
	proj.Config.Targets[1].Concurrency = 1
	d, st := gateDaemon(t, proj)
	res, err := d.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	run := res.Summary.CostUSD + res.Summary.JudgeCostUSD
	rep, err := d.Regrade(ctx, res.Run.ID, "refunds", RegradeOptions{})
	if err != nil {
		t.Fatalf("Regrade: %v", err)
	}
	if rep.CostUSD <= 0 {
		t.Fatalf("regrade cost %v, want positive", rep.CostUSD)
	}
	k := runKey{suite: "refunds", target: "prod"}
	proj.Config.Suites[0].BudgetUSDPerDay = run + rep.CostUSD/2
	if !d.overBudget(k) {
		t.Errorf("budget $%v with $%v spent on the run and $%v regrading it: not over, want over", run+rep.CostUSD/2, run, rep.CostUSD)
	}

	stop.Store(true)
	part, err := d.Regrade(ctx, res.Run.ID, "refunds", RegradeOptions{})
	if err != nil {
		t.Fatalf("interrupted Regrade: %v", err)
	}
	if part.Status != RegradeInterrupted || part.CostUSD <= 0 || part.CostUSD >= rep.CostUSD {
		t.Fatalf("interrupted regrade: status %s, cost %v; want interrupted, paid for part of the $%v", part.Status, part.CostUSD, rep.CostUSD)
	}
	spent, err := st.CostSince(context.Background(), "refunds", time.Now().UTC().Add(-time.Hour))
	if want := run + rep.CostUSD + part.CostUSD; err != nil || math.Abs(spent-want) > 1e-12 {
		t.Errorf("spent = %v, %v; want $%v: the run, the regrade and the interrupted one, recorded after its context ended",
			spent, err, want)
	}
}
