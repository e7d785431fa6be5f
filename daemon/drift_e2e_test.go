package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/configs"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/sim"
	"github.com/evald/evald/store"
)

// factSuite asks n questions whose answers are facts of the system prompt,
// so the simulator answers them right until its scripted update.
func factSuite(t testing.TB, n int) *evals.Suite {
	t.Helper()
	var sys strings.Builder
	sys.WriteString("Answer from these facts.\n")
	for i := range n {
		fmt.Fprintf(&sys, "topic%d item%d => the answer is number%d\n", i, i, i)
	}
	s := &evals.Suite{Name: "facts", Repeats: 1, Version: "sv-facts", PromptVersion: "pv-facts"}
	for i := range n {
		a, err := scoring.Compile(scoring.Spec{Type: "icontains", Value: fmt.Sprintf("number%d", i), Weight: 1})
		if err != nil {
			t.Fatal(err)
		}
		s.Cases = append(s.Cases, evals.Case{
			ID:       fmt.Sprintf("q%d", i),
			Messages: []evals.Message{{Role: "system", Content: sys.String()}, {Role: "user", Content: fmt.Sprintf("Tell me about topic%d item%d", i, i)}},
			Asserts:  []scoring.Assertion{a},
		})
	}
	return s
}

func simDaemon(t *testing.T, suite *evals.Suite, opts sim.Options) (*Daemon, *store.Store) {
	t.Helper()
	return simDaemonEvery(t, suite, opts, "@hourly", false)
}

// simDaemonEvery is simDaemon with the suite on schedule (which sets the
// detector's false-alarm budget in runs); with queue, alerts are planned
// for a webhook and written to the store's outbox (nothing is sent).
func simDaemonEvery(t *testing.T, suite *evals.Suite, opts sim.Options, schedule string, queue bool) (*Daemon, *store.Store) {
	t.Helper()
	h := sim.New(opts)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	proj := &configs.Project{
		Config: &configs.Config{
			Targets: []configs.Target{{Name: "prod", BaseURL: srv.URL + "/v1", Model: "sim-1", Concurrency: 8, Timeout: 10 * time.Second, Retries: 2}},
			Suites:  []configs.SuiteRef{{File: "facts.yaml", Targets: []string{"prod"}, Schedule: schedule}},
		},
		Suites: []*evals.Suite{suite},
	}
	signtest.Project(t, proj)
	o := Options{Project: proj, Store: st, Registry: prometheus.NewRegistry()}
	if queue {
		proj.Config.Alerts = configs.Alerts{Webhook: &configs.WebhookAlerts{URLEnv: "HOOK_URL"}}
		o.QueueAlerts, o.Getenv = true, func(string) string { return "" }
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return d, st
}

// TestDriftEndToEnd: noisy answers and a silent provider update behind the
// same model name, driven through the real provider, store and detector.
func TestDriftEndToEnd(t *testing.T) {
	const cases, before = 100, 12
	d, _ := simDaemon(t, factSuite(t, cases), sim.Options{Noise: 0.02, WrongRate: -1, DriftAfter: before * cases, DriftShare: 0.3, Seed: 7})
	ctx := context.Background()
	var firstAlarm int
	var attribution string
	for i := 1; i <= before+6; i++ {
		res, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		v := res.Verdict
		if i <= before && res.Run.Status == store.StatusRegressed {
			t.Fatalf("run %d (before the update) regressed: %s", i, v.Message)
		}
		if i > before && firstAlarm == 0 && v.Page {
			firstAlarm, attribution = i-before, v.Attribution
		}
	}
	if firstAlarm == 0 || firstAlarm > 3 {
		t.Fatalf("first page %d runs after the update, want within 3", firstAlarm)
	}
	if !strings.Contains(attribution, "provider") || !strings.Contains(attribution, "identity changed") {
		t.Errorf("attribution = %q, want the provider, with its identity change", attribution)
	}
}

// TestDriftModelSwapDuringWarmUp replays the incident of docs/drift.md §6
// end to end: a 24-case suite with 2 repeats on a 3 s schedule (H = 16.17),
// and after 5 runs, while the reference still grows, the server answers
// with another model under the same name and fingerprint. The daemon must
// page within 2 runs of the swap, as a silent provider change, measured
// against a reference of runs from before the swap only.
func TestDriftModelSwapDuringWarmUp(t *testing.T) {
	const cases, repeats, before = 24, 2, 5
	suite := factSuite(t, cases)
	suite.Repeats = repeats
	d, st := simDaemonEvery(t, suite, sim.Options{WrongRate: 0.15, Noise: 0.02, Seed: 11,
		DriftAfter: before * cases * repeats, DriftShare: 0.9, DriftSilent: true}, "@every 3s", true)
	ctx := context.Background()
	var swapRun int64
	for i := 1; i <= before+4; i++ {
		res, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		v := res.Verdict
		t.Logf("run %d (id %d): %s", i, res.Run.ID, v.Message)
		if i == before+1 {
			swapRun = res.Run.ID
		}
		if math.Abs(v.H-16.17) > 0.005 {
			t.Fatalf("H = %.3f at a 3 s cadence, want 16.17", v.H)
		}
		if !v.Page {
			continue
		}
		if i <= before || i > before+2 {
			t.Fatalf("run %d paged, want a page within 2 runs of the swap before run %d", i, before+1)
		}
		if v.Kind != drift.KindRegressed || v.Attribution != drift.AttributionSilent || v.Identity != nil {
			t.Errorf("page: kind %q, attribution %q, identity %+v; want a silent provider change", v.Kind, v.Attribution, v.Identity)
		}
		if v.Evidence == nil || len(v.Evidence.Reference) == 0 {
			t.Fatalf("page without its reference: %+v", v.Evidence)
		}
		for _, r := range v.Evidence.Reference {
			if r.Run >= swapRun || r.At.IsZero() {
				t.Errorf("page measured against run %d (at %v); the swap came at run %d", r.Run, r.At, swapRun)
			}
		}
		if !strings.Contains(v.Message, "measured against reference run") {
			t.Errorf("message %q does not name the reference", v.Message)
		}
		checkStoredIncident(t, st)
		return
	}
	t.Fatalf("no page within %d runs of the swap", 4)
}

// checkStoredIncident renders the regression incident as stored, the way
// Slack would show it: its interval comes from the same inference as its
// p-value (one-sided p < 0.025 exactly when the interval lies below 0) and
// it names the reference runs.
func checkStoredIncident(t *testing.T, st *store.Store) {
	t.Helper()
	incs, err := st.Incidents(context.Background(), true, 20)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, inc := range incs {
		var a alerts.Incident
		if err := json.Unmarshal(inc.Data, &a); err != nil {
			t.Fatalf("stored incident %s: %v", inc.ID, err)
		}
		ev := a.FirstEvent
		if ev == nil || ev.Kind != alerts.KindRegression || ev.Regression == nil {
			continue
		}
		found = true
		r := ev.Regression
		if got, want := r.DeltaHigh < 0, r.PValue < 0.025; got != want {
			t.Errorf("stored incident: one-sided p = %.3g but the 95%% CI is %.3f to %.3f", r.PValue, r.DeltaLow, r.DeltaHigh)
		}
		if !(r.DeltaLow < r.Delta && r.Delta < r.DeltaHigh) {
			t.Errorf("stored incident: interval %.3f to %.3f around Δ = %.3f", r.DeltaLow, r.DeltaHigh, r.Delta)
		}
		raw, err := json.Marshal(alerts.SlackMessage(alerts.Notice{Action: alerts.ActionOpen, Incident: alerts.IncidentRef{ID: a.ID}, Event: ev}))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"95% CI on these cases", "Measured against reference"} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("stored incident rendered for Slack lacks %q: %s", want, raw)
			}
		}
	}
	if !found {
		t.Errorf("no regression among %d stored incidents", len(incs))
	}
}

// TestDriftNoFalseAlarms: hundreds of noisy runs without an update page nobody.
func TestDriftNoFalseAlarms(t *testing.T) {
	if testing.Short() {
		t.Skip("hundreds of runs")
	}
	d, st := simDaemon(t, factSuite(t, 40), sim.Options{Noise: 0.05, WrongRate: -1, Seed: 3})
	ctx := context.Background()
	for i := 1; i <= 300; i++ {
		res, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		if res.Run.Status == store.StatusRegressed || res.Verdict.Page {
			t.Fatalf("run %d paged without any change: %s", i, res.Verdict.Message)
		}
	}
	raw, last, err := st.LoadDriftState(ctx, "facts", "prod")
	if err != nil || last != 300 || len(raw) > 64<<10 {
		t.Errorf("drift state after 300 runs: last run %d, %d bytes, %v; want run 300 and O(cases) size", last, len(raw), err)
	}
}

// TestRetentionKeepsVerdicts: deleting the samples of every run retention
// may delete, after each run, changes no drift verdict, and leaves the
// samples of the reference runs and of the open incident's runs.
func TestRetentionKeepsVerdicts(t *testing.T) {
	const cases, before = 40, 10
	opts := sim.Options{Noise: 0.02, WrongRate: -1, DriftAfter: before * cases, DriftShare: 0.3, Seed: 5}
	plain, _ := simDaemonEvery(t, factSuite(t, cases), opts, "@hourly", true)
	pruned, st := simDaemonEvery(t, factSuite(t, cases), opts, "@hourly", true)
	// One request at a time: both simulators then answer alike.
	plain.project.Config.Targets[0].Concurrency = 1
	pruned.project.Config.Targets[0].Concurrency = 1
	ctx := context.Background()
	var paged bool
	for i := 1; i <= before+8; i++ {
		a, err := plain.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		b, err := pruned.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pruned.Retain(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		va, vb := a.Verdict, b.Verdict
		// The two daemons ran at different instants: the reference runs'
		// dates in their messages may differ by a second, and nothing else.
		ma, mb := clockTimes.ReplaceAllString(va.Message, "T"), clockTimes.ReplaceAllString(vb.Message, "T")
		if va.Kind != vb.Kind || va.Page != vb.Page || ma != mb || a.Run.Status != b.Run.Status {
			t.Fatalf("run %d: verdict with retention %q (%s, page %v), without %q (%s, page %v)", i, vb.Kind, vb.Message, vb.Page, va.Kind, va.Message, va.Page)
		}
		paged = paged || va.Page
	}
	if !paged {
		t.Fatal("the provider update never paged: the test compares nothing that matters")
	}
	runs, err := st.Runs(ctx, store.RunFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := st.LoadDriftState(ctx, "facts", "prod")
	if err != nil {
		t.Fatal(err)
	}
	var state drift.State
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	needed := map[int64]bool{}
	for _, id := range stateRuns(state) {
		needed[id] = true
	}
	prunedRuns := 0
	for _, r := range runs {
		samples, err := st.Samples(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !r.SamplesPrunedAt.IsZero() {
			prunedRuns++
		}
		if needed[r.ID] && len(samples) == 0 {
			t.Errorf("run %d, which the drift state refers to, lost its samples", r.ID)
		}
	}
	if prunedRuns == 0 {
		t.Error("retention pruned no run")
	}
}

// clockTimes matches the times drift.DescribeRuns prints.
var clockTimes = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`)
