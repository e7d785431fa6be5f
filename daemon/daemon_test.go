package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
)

// yesAssert passes outputs containing "yes".
type yesAssert struct{}

func (yesAssert) Spec() scoring.Spec { return scoring.Spec{Type: "contains", Value: "yes", Weight: 1} }
func (yesAssert) Check(out scoring.Output) scoring.Result {
	ok := strings.Contains(out.Text, "yes")
	r := scoring.Result{Type: "contains", Pass: ok, Weight: 1}
	if ok {
		r.Score = 1
	}
	return r
}

// fakeProvider answers in-process; block, when set, holds every request
// until it is closed or the request's context ends.
type fakeProvider struct {
	answer func(msgs []evals.Message) (string, error)
	block  chan struct{}

	mu       sync.Mutex
	inFlight int
	peak     int
	perSuite map[string]int // requests in flight per suite
	calls    int
}

func (f *fakeProvider) Complete(ctx context.Context, msgs []evals.Message) (runner.Response, error) {
	suite := msgs[0].Content
	f.mu.Lock()
	f.calls++
	f.inFlight++
	f.peak = max(f.peak, f.inFlight)
	if f.perSuite == nil {
		f.perSuite = map[string]int{}
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return runner.Response{}, ctx.Err()
		}
	}
	text := "yes"
	if f.answer != nil {
		var err error
		if text, err = f.answer(msgs); err != nil {
			return runner.Response{}, err
		}
	}
	_ = suite
	return runner.Response{Text: text, Model: "fake-1", Fingerprint: "fp_a", PromptTokens: 10, CompletionTokens: 2, FinishReason: "stop"}, nil
}

func testSuite(name string, cases int) *evals.Suite {
	pr := 0.9
	s := &evals.Suite{Name: name, Repeats: 1, Version: "sv-" + name, PromptVersion: "pv-" + name, Thresholds: evals.Thresholds{PassRate: &pr}}
	for i := range cases {
		s.Cases = append(s.Cases, evals.Case{
			ID:       fmt.Sprintf("c%d", i),
			Messages: []evals.Message{{Role: "system", Content: name}, {Role: "user", Content: fmt.Sprintf("q%d", i)}},
			Asserts:  []scoring.Assertion{yesAssert{}},
		})
	}
	return s
}

func testProject(suites []*evals.Suite, targets []string, schedule string) *configs.Project {
	cfg := &configs.Config{}
	for _, t := range targets {
		cfg.Targets = append(cfg.Targets, configs.Target{Name: t, BaseURL: "http://127.0.0.1:1/v1", Model: "m", Concurrency: 2, Timeout: time.Minute, Retries: 0})
	}
	for _, s := range suites {
		cfg.Suites = append(cfg.Suites, configs.SuiteRef{File: s.Name + ".yaml", Targets: targets, Schedule: schedule})
	}
	return signtest.Signed(&configs.Project{Config: cfg, Suites: suites})
}

type harness struct {
	d     *Daemon
	st    *store.Store
	reg   *prometheus.Registry
	provs map[string]*fakeProvider
}

func newHarness(t testing.TB, proj *configs.Project, mk func(target string) *fakeProvider, mod func(*Options)) *harness {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	signtest.Project(t, proj) // every suite run here has a sign-off
	h := &harness{st: st, reg: prometheus.NewRegistry(), provs: map[string]*fakeProvider{}}
	var mu sync.Mutex
	opts := Options{
		Project:  proj,
		Store:    st,
		Registry: h.reg,
		Runner:   runner.Options{BackoffBase: time.Millisecond, BackoffMax: time.Millisecond},
		NewProvider: func(t configs.Target, key string) (runner.Provider, error) {
			mu.Lock()
			defer mu.Unlock()
			p := mk(t.Name)
			h.provs[t.Name] = p
			return p, nil
		},
	}
	if mod != nil {
		mod(&opts)
	}
	d, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.d = d
	return h
}

func (h *harness) runs(t *testing.T, f store.RunFilter) []store.Run {
	t.Helper()
	runs, err := h.st.Runs(context.Background(), f)
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	return runs
}

func TestEvaluateRecordsRun(t *testing.T) {
	answer := func(msgs []evals.Message) (string, error) {
		if msgs[1].Content == "q0" {
			return "no", nil
		}
		return "yes", nil
	}
	h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 10)}, []string{"prod"}, ""),
		func(string) *fakeProvider { return &fakeProvider{answer: answer} }, nil)
	res, err := h.d.Evaluate(context.Background(), Request{Suite: "faq", Target: "prod", Trigger: TriggerManual})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	if got, want := res.Run.Status, store.StatusPassed; got != want {
		t.Errorf("status = %q, want %q (pass rate 0.9 meets 0.9)", got, want)
	}
	run, err := h.st.Run(context.Background(), res.Run.ID)
	if err != nil {
		t.Fatalf("Run(%d): %v", res.Run.ID, err)
	}
	if run.PassRate == nil || *run.PassRate != 0.9 || run.Samples != 10 || run.Status != store.StatusPassed || run.FinishedAt.IsZero() {
		t.Errorf("stored run = %+v, want passed with pass rate 0.9 over 10 samples", run)
	}
	samples, err := h.st.Samples(context.Background(), res.Run.ID)
	if err != nil {
		t.Fatalf("Samples: %v", err)
	}
	if got, want := len(samples), 10; got != want {
		t.Fatalf("stored samples = %d, want %d", got, want)
	}
	if s := samples[0]; s.CaseID != "c0" || s.Pass || s.Output != "no" || s.Model != "fake-1" || len(s.Results) != 1 {
		t.Errorf("sample 0 = %+v, want the failing answer of c0 with its assertion result", s)
	}
	if got, want := len(res.FailedCases), 1; got != want {
		t.Errorf("FailedCases = %v, want one (c0)", res.FailedCases)
	}
	if got := testutil.ToFloat64(h.d.metrics.runs.WithLabelValues("faq", "prod", string(store.StatusPassed))); got != 1 {
		t.Errorf("evald_runs_total{status=passed} = %v, want 1", got)
	}
}

func TestEvaluateEndpointDownIsErrored(t *testing.T) {
	down := func([]evals.Message) (string, error) {
		return "", &runner.CallError{Class: runner.ClassServer, Status: 503, Err: errors.New("unavailable")}
	}
	h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 5)}, []string{"prod"}, ""),
		func(string) *fakeProvider { return &fakeProvider{answer: down} }, nil)
	res, err := h.d.Evaluate(context.Background(), Request{Suite: "faq", Target: "prod", Trigger: TriggerManual})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	if got, want := res.Run.Status, store.StatusErrored; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if res.Run.PassRate != nil {
		t.Errorf("pass rate = %v, want none: nothing was measured, and errors are not failures", *res.Run.PassRate)
	}
	if len(res.ThresholdFailures) != 0 {
		t.Errorf("threshold failures = %v, want none for an errored run", res.ThresholdFailures)
	}
}

func TestEvaluateUnknownAndSecret(t *testing.T) {
	proj := testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "")
	proj.Config.Targets[0].APIKeyEnv = "EVALD_TEST_KEY_UNSET"
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := New(Options{Project: proj, Store: st, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Evaluate(context.Background(), Request{Suite: "nope", Target: "prod"}); !errors.Is(err, ErrUnknown) {
		t.Errorf("Evaluate(unknown suite) = %v, want ErrUnknown", err)
	}
	_, err = d.Evaluate(context.Background(), Request{Suite: "faq", Target: "prod"})
	if !errors.Is(err, ErrSecret) || !strings.Contains(err.Error(), "EVALD_TEST_KEY_UNSET") {
		t.Errorf("Evaluate(unset key) = %v, want ErrSecret naming the variable", err)
	}
	// Placed like every other configuration problem: the field that names it.
	var fe *configs.FieldError
	if !errors.As(err, &fe) || fe.Field != "targets[0].api_key_env" {
		t.Errorf("Evaluate(unset key) = %v, want a FieldError at targets[0].api_key_env", err)
	}
}

func TestScheduleSkipsWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 2)}, []string{"prod"}, "@every 1s"),
			func(string) *fakeProvider { return &fakeProvider{block: block} }, nil)
		ctx := context.Background()
		if err := h.d.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		// No run yet: Start launches one at once (never ran), then ticks every second.
		time.Sleep(5500 * time.Millisecond)
		synctest.Wait()
		if got := testutil.ToFloat64(h.d.metrics.skipped.WithLabelValues("faq", "prod", "still_running")); got != 5 {
			t.Errorf("skipped ticks = %v, want 5 (one run in flight, five ticks)", got)
		}
		if got, want := len(h.runs(t, store.RunFilter{})), 1; got != want {
			t.Errorf("runs = %d, want %d (never stacked)", got, want)
		}
		close(block)
		synctest.Wait()
		if err := h.d.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		runs := h.runs(t, store.RunFilter{})
		if got, want := runs[len(runs)-1].Status, store.StatusPassed; got != want {
			t.Errorf("first run status = %q, want %q", got, want)
		}
	})
}

func TestStartRunsOverdueOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testProject([]*evals.Suite{testSuite("fresh", 1), testSuite("stale", 1), testSuite("gated", 1)}, []string{"prod"}, "@every 1h"),
			func(string) *fakeProvider { return &fakeProvider{} }, nil)
		ctx := context.Background()
		// "fresh" ran 10 minutes ago, "stale" 2 hours ago; "gated" too, but
		// a CI gate's candidate and baseline arms ran 5 minutes ago: they
		// measured another prompt or model, not the scheduled pair.
		for _, r := range []struct {
			suite, detail string
			role          store.Role
			ago           time.Duration
		}{
			{"fresh", "", "", 10 * time.Minute}, {"stale", "", "", 2 * time.Hour}, {"gated", "", "", 2 * time.Hour},
			{"gated", `{"candidate":true,"gate_role":"candidate"}`, store.RoleCandidate, 5 * time.Minute},
			{"gated", `{"gate_role":"baseline"}`, store.RoleReference, 5 * time.Minute},
		} {
			id, err := h.st.CreateRun(ctx, store.Run{Suite: r.suite, Target: "prod", Trigger: TriggerSchedule, Status: store.StatusRunning, Role: r.role, StartedAt: time.Now().Add(-r.ago)})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.st.FinishRun(ctx, store.Run{ID: id, Suite: r.suite, Target: "prod", Trigger: TriggerSchedule, Status: store.StatusPassed, StartedAt: time.Now().Add(-r.ago), FinishedAt: time.Now().Add(-r.ago), Detail: r.detail}); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.d.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		synctest.Wait()
		if err := h.d.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if got, want := len(h.runs(t, store.RunFilter{Suite: "stale"})), 2; got != want {
			t.Errorf("stale runs = %d, want %d (one catch-up run at start)", got, want)
		}
		if got, want := len(h.runs(t, store.RunFilter{Suite: "fresh"})), 1; got != want {
			t.Errorf("fresh runs = %d, want %d (not due yet)", got, want)
		}
		if got, want := len(h.runs(t, store.RunFilter{Suite: "gated"})), 4; got != want {
			t.Errorf("gated runs = %d, want %d (gate runs do not stand in for the scheduled one)", got, want)
		}
	})
}

// A gate arm is marked as one from the row that starts it, so that serve's
// catch-up never takes a running (or crashed) arm for the pair's last run.
func TestGateArmMarkedWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@every 1h"),
			func(string) *fakeProvider { return &fakeProvider{block: block} }, nil)
		ctx := context.Background()
		done := make(chan error, 1)
		go func() {
			_, err := h.d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerCI, Candidate: true, Model: "m-next"})
			done <- err
		}()
		synctest.Wait() // the arm is recorded and waits on the endpoint
		runs := h.runs(t, store.RunFilter{})
		if len(runs) != 1 || runs[0].Status != store.StatusRunning || !strings.Contains(runs[0].Detail, `"gate_role":"candidate"`) {
			t.Errorf("runs while the arm runs = %+v, want one running row marked as the candidate", runs)
		}
		if _, ok, err := h.d.lastStart(ctx, runKey{"faq", "prod"}); err != nil || ok {
			t.Errorf("lastStart with only a running candidate = ok %v, %v; want no production run", ok, err)
		}
		close(block)
		if err := <-done; err != nil {
			t.Fatalf("Evaluate: %v", err)
		}
	})
}

func TestStopInterruptsAfterGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{}) // never closed: the endpoint hangs
		h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 3)}, []string{"prod"}, "@every 1h"),
			func(string) *fakeProvider { return &fakeProvider{block: block} },
			func(o *Options) { o.Grace = 2 * time.Second })
		ctx := context.Background()
		// A run a crash left behind is interrupted at start.
		if _, err := h.st.CreateRun(ctx, store.Run{Suite: "faq", Target: "prod", Trigger: TriggerSchedule, Status: store.StatusRunning, StartedAt: time.Now().Add(-3 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := h.d.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		synctest.Wait()
		start := time.Now()
		if err := h.d.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if got, want := time.Since(start), 2*time.Second; got != want {
			t.Errorf("Stop took %v, want the grace period %v", got, want)
		}
		runs := h.runs(t, store.RunFilter{})
		if got, want := len(runs), 2; got != want {
			t.Fatalf("runs = %d, want %d", got, want)
		}
		for _, r := range runs {
			if r.Status != store.StatusInterrupted {
				t.Errorf("run %d status = %q, want %q", r.ID, r.Status, store.StatusInterrupted)
			}
		}
		if err := h.d.Trigger("faq", "prod", TriggerManual); !errors.Is(err, ErrStopped) {
			t.Errorf("Trigger after Stop = %v, want ErrStopped", err)
		}
	})
}

// A scheduled run still waiting out its jitter when Stop begins never
// starts, and does not hold Stop for the grace period.
func TestStopDuringJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@every 2h"),
			func(string) *fakeProvider { return &fakeProvider{} },
			func(o *Options) { o.Jitter, o.Grace = time.Hour, 10*time.Minute })
		ctx := context.Background()
		if err := h.d.Start(ctx); err != nil { // no run yet: one is due at once
			t.Fatalf("Start: %v", err)
		}
		synctest.Wait() // the due run now waits out its jitter
		start := time.Now()
		if err := h.d.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("Stop took %v, want 0 (nothing was running)", got)
		}
		if runs := h.runs(t, store.RunFilter{}); len(runs) != 0 {
			t.Errorf("runs after Stop = %d, want 0 (a run waiting for its jitter must not start)", len(runs))
		}
	})
}

// Start closes the runs a crash left running, but with LiveCIRuns it
// leaves alone the ci runs a live `evald run` may still be recording.
func TestStartSparesLiveCIRuns(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("live=%v", live), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@every 1h"),
					func(string) *fakeProvider { return &fakeProvider{} },
					func(o *Options) { o.LiveCIRuns = live })
				ctx := context.Background()
				ids := map[string]int64{}
				for _, trig := range []string{TriggerSchedule, TriggerCI} {
					id, err := h.st.CreateRun(ctx, store.Run{Suite: "faq", Target: "prod", Trigger: trig, Status: store.StatusRunning, StartedAt: time.Now().Add(-time.Minute)})
					if err != nil {
						t.Fatal(err)
					}
					ids[trig] = id
				}
				if err := h.d.Start(ctx); err != nil {
					t.Fatalf("Start: %v", err)
				}
				synctest.Wait()
				if err := h.d.Stop(ctx); err != nil {
					t.Fatalf("Stop: %v", err)
				}
				wantCI := store.StatusInterrupted
				if live {
					wantCI = store.StatusRunning
				}
				for trig, want := range map[string]store.Status{TriggerSchedule: store.StatusInterrupted, TriggerCI: wantCI} {
					r, err := h.st.Run(ctx, ids[trig])
					if err != nil {
						t.Fatal(err)
					}
					if r.Status != want {
						t.Errorf("%s run status = %q, want %q", trig, r.Status, want)
					}
				}
			})
		})
	}
}

func TestManySuitesRespectLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var suites []*evals.Suite
		for i := range 20 {
			suites = append(suites, testSuite(fmt.Sprintf("s%02d", i), 5))
		}
		slow := func([]evals.Message) (string, error) {
			time.Sleep(300 * time.Millisecond) // fake time: makes runs overlap ticks
			return "yes", nil
		}
		h := newHarness(t, testProject(suites, []string{"a", "b", "c"}, "@every 1s"),
			func(string) *fakeProvider { return &fakeProvider{answer: slow} }, nil)
		ctx := context.Background()
		if err := h.d.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		time.Sleep(30 * time.Second)
		if err := h.d.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		for name, p := range h.provs {
			if p.peak > 2 {
				t.Errorf("target %s: peak concurrent requests %d, want <= 2 (its concurrency, shared by 20 suites)", name, p.peak)
			}
		}
		runs := h.runs(t, store.RunFilter{Limit: 100000})
		if len(runs) < 60 {
			t.Errorf("runs = %d, want at least one per (suite, target)", len(runs))
		}
		// No stacking: runs of one pair never overlap in time.
		last := map[string]store.Run{}
		for i := len(runs) - 1; i >= 0; i-- {
			r := runs[i]
			k := r.Suite + "/" + r.Target
			if prev, ok := last[k]; ok && !prev.FinishedAt.IsZero() && r.StartedAt.Before(prev.FinishedAt) {
				t.Errorf("%s: run %d started at %v before run %d finished at %v", k, r.ID, r.StartedAt, prev.ID, prev.FinishedAt)
			}
			last[k] = r
		}
	})
}

func TestEndpointDownThenBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		down := true
		answer := func([]evals.Message) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			if down {
				return "", &runner.CallError{Class: runner.ClassServer, Status: 502, Err: errors.New("bad gateway")}
			}
			return "yes", nil
		}
		h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 4)}, []string{"prod"}, "@every 10s"),
			func(string) *fakeProvider { return &fakeProvider{answer: answer} }, nil)
		ctx := context.Background()
		if err := h.d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(35 * time.Second) // runs at 0, 10, 20, 30 s: all errored
		synctest.Wait()
		mu.Lock()
		down = false
		mu.Unlock()
		time.Sleep(20 * time.Second) // runs at 40, 50 s
		synctest.Wait()
		if err := h.d.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		var statuses []string
		runs := h.runs(t, store.RunFilter{})
		for i := len(runs) - 1; i >= 0; i-- {
			statuses = append(statuses, string(runs[i].Status))
			if runs[i].Status == store.StatusErrored && runs[i].PassRate != nil {
				t.Errorf("errored run %d has a pass rate: errors must not be scored as failures", runs[i].ID)
			}
		}
		if got, want := strings.Join(statuses, ","), "errored,errored,errored,errored,passed,passed"; got != want {
			t.Errorf("statuses = %s, want %s (the schedule keeps going through the outage)", got, want)
		}
		if got := testutil.ToFloat64(h.d.metrics.providerErrs.WithLabelValues("prod", runner.ClassServer)); got != 16 {
			t.Errorf("provider errors counted = %v, want 16 (4 runs x 4 cases)", got)
		}
	})
}

func TestReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		proj := testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@every 1h")
		h := newHarness(t, proj, func(string) *fakeProvider { return &fakeProvider{} }, nil)
		ctx := context.Background()
		if err := h.d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the first run, at start
		faster := testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@every 1m")
		if err := h.d.Reload(ctx, faster); err != nil {
			t.Fatalf("Reload: %v", err)
		}
		time.Sleep(150 * time.Second)
		synctest.Wait()
		if got, want := len(h.runs(t, store.RunFilter{})), 3; got != want {
			t.Errorf("runs = %d, want %d (one at start, then every minute after the reload)", got, want)
		}
		h.d.ReloadFailed(errors.New("evald.yaml:3: targets: bad"))
		if got := testutil.ToFloat64(h.d.metrics.reloadOK); got != 0 {
			t.Errorf("evald_config_last_reload_successful = %v after a failed reload, want 0", got)
		}
		time.Sleep(60 * time.Second) // the old config keeps running
		synctest.Wait()
		if got, want := len(h.runs(t, store.RunFilter{})), 4; got != want {
			t.Errorf("runs = %d, want %d (a failed reload keeps the schedule in force)", got, want)
		}
		bad := testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "every now and then")
		if err := h.d.Reload(ctx, bad); err == nil {
			t.Errorf("Reload accepted an unparsable schedule")
		}
		if err := h.d.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTriggerBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, ""),
			func(string) *fakeProvider { return &fakeProvider{block: block} }, nil)
		ctx := context.Background()
		if err := h.d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := h.d.Trigger("faq", "prod", TriggerManual); err != nil {
			t.Fatalf("Trigger: %v", err)
		}
		synctest.Wait()
		if err := h.d.Trigger("faq", "prod", TriggerManual); !errors.Is(err, ErrBusy) {
			t.Errorf("second Trigger = %v, want ErrBusy", err)
		}
		if err := h.d.Trigger("nope", "prod", TriggerManual); !errors.Is(err, ErrUnknown) {
			t.Errorf("Trigger(unknown) = %v, want ErrUnknown", err)
		}
		close(block)
		synctest.Wait()
		if err := h.d.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		runs := h.runs(t, store.RunFilter{})
		if len(runs) != 1 || runs[0].Trigger != TriggerManual || runs[0].Status != store.StatusPassed {
			t.Errorf("runs = %+v, want one passed manual run", runs)
		}
	})
}

func TestServeEnforcesSignedThresholds(t *testing.T) {
	ctx := context.Background()
	// 7 of 10 cases pass.
	answer := func(msgs []evals.Message) (string, error) {
		if msgs[1].Content < "q3" {
			return "no", nil
		}
		return "yes", nil
	}
	strict := testSuite("faq", 10) // pass_rate 0.9, signed off
	signed := testProject([]*evals.Suite{strict}, []string{"prod"}, "")
	h := newHarness(t, signed,
		func(string) *fakeProvider { return &fakeProvider{answer: answer} }, nil)
	res, err := h.d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Status != store.StatusFailed {
		t.Fatalf("status = %q, want failed (0.7 < 0.9)", res.Run.Status)
	}

	// Someone lowers the bar in the file without a sign-off.
	loose := testSuite("faq", 10)
	low := 0.5
	loose.Thresholds.PassRate = &low
	looseProj := &configs.Project{Config: signed.Config, Suites: []*evals.Suite{loose}, Record: signed.Record}
	if err := h.d.Reload(ctx, looseProj); err != nil {
		t.Fatal(err)
	}
	res, err = h.d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Run.Status, store.StatusFailed; got != want {
		t.Errorf("status = %q, want %q: the signed-off 0.9 stays in force", got, want)
	}
	if !res.Governance.Pending() || !strings.Contains(res.Run.Detail, `"pending_signoff"`) {
		t.Errorf("run not marked pending sign-off: governance %+v, detail %s", res.Governance, res.Run.Detail)
	}
	// evald run (trigger ci) refuses outright.
	res, err = h.d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerCI})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Run.Status, store.StatusRefused; got != want {
		t.Errorf("ci status = %q, want %q", got, want)
	}
	// After the sign-off the new bar applies.
	if _, err := h.d.Signoff(ctx, "faq", "alice", "agreed in review"); err != nil {
		t.Fatalf("Signoff: %v", err)
	}
	res, err = h.d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Run.Status, store.StatusPassed; got != want {
		t.Errorf("status after sign-off = %q, want %q", got, want)
	}
	log, err := h.st.AuditLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action+":"+e.Actor)
	}
	if got, want := strings.Join(actions, ","), "thresholds.signed_off:test,config.reloaded:config reload,thresholds.signed_off:alice"; got != want {
		t.Errorf("audit = %s, want %s", got, want)
	}
}

func TestEnforceRewritesAssertionThresholds(t *testing.T) {
	mk := func(th float64) *evals.Suite {
		s := testSuite("lev", 1)
		a, err := scoring.Compile(scoring.Spec{Type: "levenshtein", Value: "yes", Threshold: &th, Weight: 1})
		if err != nil {
			t.Fatal(err)
		}
		s.Cases[0].Asserts = []scoring.Assertion{a}
		return s
	}
	signed := governance.FromSuite(mk(0), nil)
	got, err := enforce(mk(10), &signed)
	if err != nil {
		t.Fatal(err)
	}
	if th := got.Cases[0].Asserts[0].Spec().Threshold; th == nil || *th != 0 {
		t.Errorf("enforced threshold = %v, want the signed-off 0", th)
	}
	if r := got.Cases[0].Asserts[0].Check(scoring.Output{Text: "yes!"}); r.Pass {
		t.Errorf("an answer 1 edit away passed under the signed-off max distance 0")
	}
}

// TestUnsignedSuite: a suite with no sign-off in the record is not adopted:
// evald run (trigger ci) is refused, and serve runs it with its files' bar,
// marked pending sign-off, until a sign-off is recorded.
func TestUnsignedSuite(t *testing.T) {
	ctx := context.Background()
	proj := &configs.Project{Config: testProject(nil, []string{"prod"}, "").Config, Suites: []*evals.Suite{testSuite("faq", 2)}, Record: &governance.Record{}}
	proj.Config.Suites = []configs.SuiteRef{{File: "faq.yaml", Targets: []string{"prod"}}}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var logs bytes.Buffer
	d, err := New(Options{Project: proj, Store: st, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		NewProvider: func(configs.Target, string) (runner.Provider, error) { return &fakeProvider{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	// A reload (as a start) says at once which suites are unsigned.
	if err := d.Reload(ctx, proj); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `msg="suite has no sign-off in the record: its runs use its files' bar, pending sign-off" suite=faq`) {
		t.Errorf("reload log = %s, want the unsigned suite named", logs.String())
	}
	res, err := d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerCI})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Status != store.StatusRefused || res.Governance.Kind != governance.Unsigned {
		t.Errorf("ci run of an unsigned suite = %s (%v), want refused", res.Run.Status, res.Governance.Kind)
	}
	res, err = d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Status != store.StatusPassed || !res.Governance.Pending() || !strings.Contains(res.Run.Detail, "none recorded for suite faq") {
		t.Errorf("scheduled run = %s, governance %+v, detail %s; want passed on the files' bar, pending sign-off", res.Run.Status, res.Governance, res.Run.Detail)
	}
	if _, err := d.Signoff(ctx, "faq", "alice", "first bar"); err != nil {
		t.Fatal(err)
	}
	if e, known := d.SignedOff("faq"); !known || e == nil || e.By != "alice" {
		t.Errorf("SignedOff(faq) = %+v, %v; want alice's entry", e, known)
	}
	res, err = d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerCI})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Status != store.StatusPassed || res.Governance.Kind != governance.InForce {
		t.Errorf("ci run after the sign-off = %s (%v), want passed, in force", res.Run.Status, res.Governance.Kind)
	}
}

// TestEnforceKeepsSignedCases: serve, facing cases added without a
// sign-off (which dilute the rates), runs the signed-off cases only; a
// deleted case cannot be run and is left out.
func TestEnforceKeepsSignedCases(t *testing.T) {
	signed := governance.FromSuite(testSuite("faq", 3), nil)
	file := testSuite("faq", 5) // c3 and c4 added
	file.Cases = file.Cases[1:] // c0 deleted
	got, err := enforce(file, &signed)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got.Cases {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "c1,c2" {
		t.Errorf("enforced cases = %v, want the signed-off ones still in the files (c1, c2)", ids)
	}
}
