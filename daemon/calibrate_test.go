package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/configs"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

// judgeDrift wraps the simulator as a judge: while drift is set it
// returns another system fingerprint, and while flip is set it turns its
// llm-rubric verdicts around.
type judgeDrift struct {
	next        http.Handler
	drift, flip atomic.Bool
	chats       atomic.Int64
	// hang, when set, is asked with each chat request's number whether
	// that request hangs until its context ends instead of being answered.
	hang func(n int64) bool
}

func (h *judgeDrift) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		h.next.ServeHTTP(w, r)
		return
	}
	if n := h.chats.Add(1); h.hang != nil && h.hang(n) {
		// The server notices the client going away only once the body
		// is read.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return
	}
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var resp map[string]any
	if rec.Code == http.StatusOK && json.Unmarshal(body, &resp) == nil {
		if h.drift.Load() {
			resp["system_fingerprint"] = "fp_judge_drifted"
		} else {
			resp["system_fingerprint"] = "fp_judge"
		}
		if h.flip.Load() {
			for _, c := range resp["choices"].([]any) {
				msg := c.(map[string]any)["message"].(map[string]any)
				var v map[string]any
				if json.Unmarshal([]byte(msg["content"].(string)), &v) == nil {
					v["pass"], v["score"] = !v["pass"].(bool), 1-v["score"].(float64)
					b, _ := json.Marshal(v)
					msg["content"] = string(b)
				}
			}
		}
		body, _ = json.Marshal(resp)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// calibratedProject is judgeProject's suite with a calibration set whose
// expected verdicts are the simulator's, graded by a judge behind jd.
func calibratedProject(t testing.TB, jd *judgeDrift) *configs.Project {
	t.Helper()
	answerURL := simURL(t, nil)
	judgeURL := simURL(t, func(next http.Handler) http.Handler { jd.next = next; return jd })
	dir := t.TempDir()
	write := func(name, body string) { testfiles.Write(t, dir, name, body) }
	targets := testfiles.JudgeTargets{ProdURL: answerURL, GraderURL: judgeURL, Grader: "retries: 1"}
	write("evald.yaml", targets.YAML()+`suites:
  - file: suites/refunds.yaml
    targets: [prod]
`)
	write("suites/refunds.yaml", `name: refunds
prompt:
`+testfiles.RefundPrompt+`tests:
  - id: window
    vars: {question: "What is the refund window to return an item?"}
    assert:
      - type: llm-rubric
        value: mentions the days to return
  - id: warranty
    vars: {question: "How long do I have to return an item?"}
    assert:
      - type: llm-rubric
        value: mentions warranty coverage terms
calibration:
  max_disagreement: 0.2
  items:
    - case: window
      output: "You have 30 days to return an item."
      expect: pass
    - case: warranty
      output: "You have 30 days to return an item."
      expect: fail
    - vars: {question: "Is there a warranty?"}
      assert: [{type: llm-rubric, value: warranty coverage}]
      output: "Two years of warranty coverage."
      expect: pass
`)
	proj, err := configs.Load(filepath.Join(dir, "evald.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return proj
}

// calibrationAlerts returns the incidents and pending deliveries of kind
// judge_calibration_failed.
func calibrationAlerts(t testing.TB, st *store.Store) (incidents []store.Incident, deliveries []store.Delivery) {
	t.Helper()
	ctx := context.Background()
	all, err := st.Incidents(ctx, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, in := range all {
		if in.Kind == string(alerts.KindJudgeCalibrationFailed) {
			incidents = append(incidents, in)
			ids[in.ID] = true
		}
	}
	pending, err := st.PendingDeliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, dl := range pending {
		if ids[dl.IncidentID] {
			deliveries = append(deliveries, dl)
		}
	}
	return incidents, deliveries
}

func TestCalibrationAfterRuns(t *testing.T) {
	ctx := context.Background()
	jd := &judgeDrift{}
	proj := calibratedProject(t, jd)
	st := testStore(t)
	d := testDaemon(t, Options{Project: proj, Store: st, Alerts: true})
	evaluate := func(t *testing.T) *Result {
		t.Helper()
		res, err := d.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatalf("Evaluate: %v", err)
		}
		return res
	}
	calibrations := func(t *testing.T) []store.Calibration {
		t.Helper()
		list, err := st.Calibrations(ctx, "refunds", 0)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	// forgetGrades empties the grade cache, as a restart does, or new
	// outputs: cached grades are the old judge's answers and show its
	// identity, so a changed judge shows in runs once it is asked again.
	forgetGrades := func() { d.grades = runner.NewGradeCache(0) }

	t.Run("first run calibrates", func(t *testing.T) {
		res := evaluate(t)
		list := calibrations(t)
		if len(list) != 1 {
			t.Fatalf("calibrations after the first run = %d, want 1", len(list))
		}
		c := list[0]
		// The run's result carries it, for the demo to print.
		if out := res.Calibration; out == nil || out.ID != c.ID || out.Result.Status != c.Status || out.Identity.Model != c.JudgeModel {
			t.Errorf("Result.Calibration = %+v, want calibration %d (%s, %s)", out, c.ID, c.Status, c.JudgeModel)
		}
		if c.Status != runner.CalibrationOK || c.Items != 3 || c.Agreements != 3 || c.Trigger != store.CalibrationAfterRun || c.RunID == 0 {
			t.Errorf("first calibration = %+v, want ok, 3 of 3 agreeing, after run", c)
		}
		if c.JudgeTarget != "grader" || c.JudgeModel != "sim-1" || c.JudgeFingerprint != "fp_judge" || c.JudgeVersion == "" ||
			c.SetHash != proj.Suites[0].Calibration.Hash {
			t.Errorf("calibration keyed on %s/%s/%s/%s, set %s; want grader's identity (sim-1, fp_judge) and the set's hash",
				c.JudgeTarget, c.JudgeModel, c.JudgeFingerprint, c.JudgeVersion, c.SetHash)
		}
		var det calibrationDetail
		if err := json.Unmarshal([]byte(c.Detail), &det); err != nil || len(det.Results) != 3 || det.CostUSD <= 0 {
			t.Errorf("calibration detail = %+v, %v; want 3 results and the judge's cost", det, err)
		}
		if in, dl := calibrationAlerts(t, st); len(in)+len(dl) != 0 {
			t.Errorf("a passing first calibration wrote %d incidents, %d deliveries; want none", len(in), len(dl))
		}
	})

	t.Run("same judge, no calibration", func(t *testing.T) {
		before := jd.chats.Load()
		evaluate(t) // graded from the cache: no judge request at all
		forgetGrades()
		if res := evaluate(t); res.Calibration != nil { // graded again by the same judge
			t.Errorf("Result.Calibration = %+v after a run with the calibrated judge, want nil", res.Calibration)
		}
		if got := len(calibrations(t)); got != 1 {
			t.Errorf("calibrations after two runs with the same judge = %d, want still 1", got)
		}
		if got, want := jd.chats.Load()-before, int64(2); got != want {
			t.Errorf("judge requests = %d, want %d (the second run's grades; no calibration)", got, want)
		}
	})

	t.Run("new fingerprint that still agrees", func(t *testing.T) {
		jd.drift.Store(true)
		forgetGrades()
		evaluate(t)
		list := calibrations(t)
		if len(list) != 2 || list[0].Status != runner.CalibrationOK || list[0].JudgeFingerprint != "fp_judge_drifted" {
			t.Fatalf("calibrations = %d, newest %+v; want a second, ok, for fp_judge_drifted", len(list), list[0])
		}
		if in, _ := calibrationAlerts(t, st); len(in) != 0 {
			t.Errorf("incidents = %d, want none", len(in))
		}
	})

	t.Run("changed judge that disagrees alerts once", func(t *testing.T) {
		jd.drift.Store(false)
		jd.flip.Store(true)
		forgetGrades()
		evaluate(t)
		list := calibrations(t)
		c := list[0]
		if len(list) != 3 || c.Status != runner.CalibrationFailed || c.Disagreements != 3 || c.Rate == nil || *c.Rate != 1 {
			t.Fatalf("calibrations = %d, newest %+v; want a third, failed, 3 of 3 disagreeing", len(list), c)
		}
		in, dl := calibrationAlerts(t, st)
		if len(in) != 1 || len(dl) != 1 {
			t.Fatalf("calibration alerts: %d incidents, %d deliveries; want exactly one of each", len(in), len(dl))
		}
		if in[0].Target != "grader" || !in[0].ResolvedAt.IsZero() {
			t.Errorf("incident = %+v, want an open one on the judge target", in[0])
		}
		n, err := alerts.DecodeNotice(dl[0].Payload)
		if err != nil {
			t.Fatal(err)
		}
		cal := n.Event.Calibration
		if n.Action != alerts.ActionOpen || cal == nil || cal.Before == nil ||
			cal.Before.Fingerprint != "fp_judge_drifted" || cal.After.Fingerprint != "fp_judge" ||
			cal.Rate != 1 || cal.MaxDisagreement != 0.2 || len(cal.Disagreeing) != 3 || cal.Disagreeing[0].Output == "" || cal.Disagreeing[0].Reason == "" {
			t.Errorf("notice = %s %+v, want an opening with the identities before and after, the rate and the items", n.Action, cal)
		}

		// The same judge again: no new calibration, no new alert.
		forgetGrades()
		evaluate(t)
		if got := len(calibrations(t)); got != 3 {
			t.Errorf("calibrations after a run with the same failing judge = %d, want still 3", got)
		}
		if in, dl := calibrationAlerts(t, st); len(in) != 1 || len(dl) != 1 {
			t.Errorf("calibration alerts after a repeat: %d incidents, %d deliveries; want still one of each", len(in), len(dl))
		}
	})

	t.Run("a good calibration resolves it", func(t *testing.T) {
		jd.flip.Store(false)
		jd.drift.Store(true)
		forgetGrades()
		evaluate(t)
		list := calibrations(t)
		if len(list) != 4 || list[0].Status != runner.CalibrationOK {
			t.Fatalf("calibrations = %d, newest %+v; want a fourth, ok", len(list), list[0])
		}
		in, dl := calibrationAlerts(t, st)
		if len(in) != 1 || in[0].ResolvedAt.IsZero() {
			t.Fatalf("incidents = %+v, want the one incident resolved", in)
		}
		if len(dl) != 2 || dl[1].Action != string(alerts.ActionResolve) {
			t.Errorf("deliveries = %d (last %q), want the opening and a resolution", len(dl), dl[len(dl)-1].Action)
		}
	})

	t.Run("editing the set calibrates again", func(t *testing.T) {
		cal := *proj.Suites[0].Calibration
		cal.MaxDisagreement, cal.Hash = 0.5, "hash-of-the-edited-set"
		proj.Suites[0].Calibration = &cal
		evaluate(t) // the same judge as the last calibration
		list := calibrations(t)
		if len(list) != 5 || list[0].SetHash != cal.Hash || list[0].MaxDisagreement != 0.5 {
			t.Errorf("calibrations = %d, newest set %q; want a fifth for the edited set", len(list), list[0].SetHash)
		}
	})
}

func TestCalibrateOnDemand(t *testing.T) {
	ctx := context.Background()
	jd := &judgeDrift{}
	proj := calibratedProject(t, jd)
	d, st := gateDaemon(t, proj) // no alerts, as in evald calibrate
	jd.flip.Store(true)
	out, err := d.Calibrate(ctx, "refunds")
	if err != nil {
		t.Fatalf("Calibrate: %v", err)
	}
	if out.Result.Status != runner.CalibrationFailed || out.ID == 0 || out.Identity.Fingerprint != "fp_judge" || out.Identity.Model != "sim-1" {
		t.Errorf("Calibrate = %+v, want a stored failed calibration keyed on the judge it saw", out)
	}
	c, err := st.LastCalibration(ctx, store.CalibrationQuery{Suite: "refunds", JudgeTarget: "grader"})
	if err != nil || c.Trigger != store.CalibrationManual || c.RunID != 0 {
		t.Errorf("stored = %+v, %v; want a manual calibration", c, err)
	}
	if in, dl := calibrationAlerts(t, st); len(in)+len(dl) != 0 {
		t.Errorf("evald calibrate wrote %d incidents, %d deliveries; want none (it never alerts)", len(in), len(dl))
	}
	// Runs without alerting (evald run) do not calibrate.
	if _, err := d.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerCI}); err != nil {
		t.Fatal(err)
	}
	if list, _ := st.Calibrations(ctx, "refunds", 0); len(list) != 1 {
		t.Errorf("calibrations after evald run = %d, want 1 (the manual one)", len(list))
	}
	if _, err := d.Calibrate(ctx, "nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Calibrate(unknown suite) = %v, want ErrUnknown", err)
	}
	proj.Suites[0].Calibration = nil
	if _, err := d.Calibrate(ctx, "refunds"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Calibrate(suite without a set) = %v, want ErrInvalid", err)
	}
}

// A silence on the judge target mutes the calibration's page; the incident
// is still recorded.
func TestCalibrationSilenced(t *testing.T) {
	ctx := context.Background()
	jd := &judgeDrift{}
	proj := calibratedProject(t, jd)
	st := testStore(t)
	d := testDaemon(t, Options{Project: proj, Store: st, Alerts: true})
	if _, err := d.Silence(ctx, "refunds", "grader", "ana", "judge model upgrade under way", time.Hour); err != nil {
		t.Fatal(err)
	}
	jd.flip.Store(true)
	if _, err := d.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerSchedule}); err != nil {
		t.Fatal(err)
	}
	in, dl := calibrationAlerts(t, st)
	if len(in) != 1 || len(dl) != 1 || dl[0].Action != string(alerts.ActionSuppress) || dl[0].Sink != "log" {
		t.Errorf("silenced calibration alert: %d incidents, deliveries %+v; want one incident and one suppressed log line", len(in), dl)
	}
}

// A passing `evald calibrate` resolves the open judge_calibration_failed
// incident; a failing one never raises it.
func TestManualCalibrationResolves(t *testing.T) {
	ctx := context.Background()
	jd := &judgeDrift{}
	proj := calibratedProject(t, jd)
	st := testStore(t)
	serving := testDaemon(t, Options{Project: proj, Store: st, Alerts: true})
	cli := testDaemon(t, Options{Project: proj, Store: st, QueueAlerts: true, Getenv: func(string) string { return "" }}) // as evald calibrate builds it

	jd.flip.Store(true)
	if out, err := cli.Calibrate(ctx, "refunds"); err != nil || out.Result.Status != runner.CalibrationFailed {
		t.Fatalf("manual Calibrate = %+v, %v; want a failed calibration", out.Result.Status, err)
	}
	if in, dl := calibrationAlerts(t, st); len(in)+len(dl) != 0 {
		t.Fatalf("a failing manual calibration wrote %d incidents, %d deliveries; want none", len(in), len(dl))
	}
	if _, err := serving.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerSchedule}); err != nil {
		t.Fatal(err)
	}
	if in, dl := calibrationAlerts(t, st); len(in) != 1 || !in[0].ResolvedAt.IsZero() || len(dl) != 1 {
		t.Fatalf("after the serving daemon's failed calibration: %d incidents, %d deliveries; want one open incident, one delivery", len(in), len(dl))
	}

	// A pass by another judge (here another fingerprint) says nothing
	// about the one that failed.
	jd.flip.Store(false)
	jd.drift.Store(true)
	if out, err := cli.Calibrate(ctx, "refunds"); err != nil || out.Result.Status != runner.CalibrationOK {
		t.Fatalf("manual Calibrate by another judge = %+v, %v; want ok", out.Result.Status, err)
	}
	if in, dl := calibrationAlerts(t, st); len(in) != 1 || !in[0].ResolvedAt.IsZero() || len(dl) != 1 {
		t.Fatalf("after a pass by another judge: %d incidents (resolved %v), %d deliveries; want the incident still open", len(in), !in[0].ResolvedAt.IsZero(), len(dl))
	}

	jd.drift.Store(false) // the judge that failed, agreeing again
	out, err := cli.Calibrate(ctx, "refunds")
	if err != nil || out.Result.Status != runner.CalibrationOK {
		t.Fatalf("manual Calibrate = %+v, %v; want ok", out.Result.Status, err)
	}
	in, dl := calibrationAlerts(t, st)
	if len(in) != 1 || in[0].ResolvedAt.IsZero() {
		t.Fatalf("incidents = %+v, want the incident resolved by the manual calibration", in)
	}
	if len(dl) != 2 || dl[1].Action != string(alerts.ActionResolve) {
		t.Fatalf("deliveries = %d, want the opening and a queued resolution", len(dl))
	}
	n, err := alerts.DecodeNotice(dl[1].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a manual calibration (evald calibrate) passed again"; !strings.Contains(n.Note, want) {
		t.Errorf("resolution note = %q, want it to say %q", n.Note, want)
	}
	// The daemon's own comparison is unchanged: the next run with the same
	// judge does not calibrate again.
	before := len(mustCalibrations(t, st))
	if _, err := serving.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerSchedule}); err != nil {
		t.Fatal(err)
	}
	if got := len(mustCalibrations(t, st)); got != before {
		t.Errorf("calibrations after a run with the same judge = %d, want still %d", got, before)
	}
}

func mustCalibrations(t *testing.T, st *store.Store) []store.Calibration {
	t.Helper()
	list, err := st.Calibrations(context.Background(), "refunds", 0)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// A calibration cut short records what its judge calls cost, with no
// verdict: it counts toward the daily budget and is never the calibration
// the daemon compares with.
func TestCalibrationInterruptedKeepsSpend(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jd := &judgeDrift{}
	proj := calibratedProject(t, jd)
	proj.Config.Targets[1].Concurrency = 1 // the first request is answered before the second hangs
	jd.hang = func(n int64) bool {
		if n == 2 {
			cancel()
			return true
		}
		return false
	}
	d, st := gateDaemon(t, proj)
	if _, err := d.Calibrate(ctx, "refunds"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Calibrate cut short = %v, want context.Canceled", err)
	}
	list := mustCalibrations(t, st)
	if len(list) != 1 || list[0].Status != runner.CalibrationInterrupted || list[0].CostUSD <= 0 || list[0].Rate != nil {
		t.Fatalf("calibrations = %+v, want one interrupted, with its cost and no rate", list)
	}
	spent, err := st.CostSince(context.Background(), "refunds", time.Now().UTC().Add(-time.Hour))
	if err != nil || spent != list[0].CostUSD {
		t.Errorf("spent = %v, %v; want the interrupted calibration's $%v", spent, err, list[0].CostUSD)
	}
	if _, err := st.LastCalibration(context.Background(), store.CalibrationQuery{Suite: "refunds", JudgeTarget: "grader", SkipStatus: undecided}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LastCalibration skipping undecided ones = %v, want ErrNotFound", err)
	}
}

// A provider's fingerprints vary between requests: the manual pass counts
// as the failing judge's when either calibration saw the other's identity.
func TestSameJudgeAsLast(t *testing.T) {
	ctx := context.Background()
	d, st := gateDaemon(t, calibratedProject(t, &judgeDrift{}))
	detail := `{"models":{"m1":3},"fingerprints":{"fp_a":1,"fp_b":2}}`
	if _, err := st.SaveCalibration(ctx, store.Calibration{Suite: "refunds", JudgeTarget: "grader", JudgeVersion: "v1", JudgeModel: "m1",
		JudgeFingerprint: "fp_a", SetHash: "h1", Trigger: store.CalibrationAfterRun, RunID: 1, At: time.Now(), Items: 3,
		Status: runner.CalibrationFailed, Detail: detail}, store.AlertWrites{}); err != nil {
		t.Fatal(err)
	}
	manual := func(version, model, fp, hash string) store.Calibration {
		return store.Calibration{Suite: "refunds", JudgeTarget: "grader", JudgeVersion: version, JudgeModel: model, JudgeFingerprint: fp, SetHash: hash}
	}
	saw := func(model string, fps ...string) runner.CalibrationResult {
		r := runner.CalibrationResult{Models: map[string]int{model: 3}, Fingerprints: map[string]int{}}
		for _, f := range fps {
			r.Fingerprints[f]++
		}
		return r
	}
	for _, tc := range []struct {
		name string
		c    store.Calibration
		res  runner.CalibrationResult
		want bool
	}{
		{"same key", manual("v1", "m1", "fp_a", "h1"), saw("m1", "fp_a"), true},
		{"a fingerprint the failed one saw", manual("v1", "m1", "fp_b", "h1"), saw("m1", "fp_b"), true},
		{"the manual one saw the failed key", manual("v1", "m1", "fp_c", "h1"), saw("m1", "fp_c", "fp_c", "fp_a"), true},
		{"another fingerprint altogether", manual("v1", "m1", "fp_c", "h1"), saw("m1", "fp_c"), false},
		{"another model", manual("v1", "m2", "fp_a", "h1"), saw("m2", "fp_a"), false},
		{"another target version", manual("v2", "m1", "fp_a", "h1"), saw("m1", "fp_a"), false},
		{"another set", manual("v1", "m1", "fp_a", "h2"), saw("m1", "fp_a"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.sameJudgeAsLast(ctx, tc.c, tc.res)
			if err != nil || got != tc.want {
				t.Errorf("sameJudgeAsLast = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
