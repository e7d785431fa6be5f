package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
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

// rubricSuite asks n questions whose answers are facts of the system
// prompt, each graded by llm-rubric: the simulator's judge passes a right
// answer (it names the fact's number) and fails a wrong one.
func rubricSuite(t testing.TB, n int) *evals.Suite {
	t.Helper()
	s := factSuite(t, n)
	s.Name, s.Version, s.PromptVersion = "graded", "sv-graded", "pv-graded"
	for i := range s.Cases {
		a, err := scoring.Compile(scoring.Spec{Type: "llm-rubric", Value: fmt.Sprintf("says number%d", i), Weight: 1})
		if err != nil {
			t.Fatal(err)
		}
		s.Cases[i].Asserts = []scoring.Assertion{a}
	}
	return s
}

// TestJudgeDriftEndToEnd: the model under test stays the same while its
// judge silently updates (new model id and fingerprint, stricter verdicts).
// Each run is made by a new daemon on the same store, as after a restart,
// so grades are never served from the in-memory cache and the judge's
// identity baseline must come back from the stored drift state. The drop
// is attributed to the scorer, pages as a scorer change with the judge's
// identity change as evidence, and neither marks the runs regressed nor
// opens a regression (provider) incident.
func TestJudgeDriftEndToEnd(t *testing.T) {
	const cases, before = 60, 8
	h := sim.New(sim.Options{WrongRate: -1, JudgeDriftAfter: before * cases, JudgeDriftShare: 0.3, Seed: 11})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	proj := &configs.Project{
		Config: &configs.Config{
			Targets: []configs.Target{
				{Name: "prod", BaseURL: srv.URL + "/v1", Model: "sim-1", Concurrency: 8, Timeout: 10 * time.Second, Retries: 2},
				{Name: "grader", BaseURL: srv.URL + "/v1", Model: "sim-judge", Concurrency: 8, Timeout: 10 * time.Second, Retries: 2},
			},
			Judge:  "grader",
			Suites: []configs.SuiteRef{{File: "graded.yaml", Targets: []string{"prod"}, Schedule: "@hourly"}},
		},
		Suites: []*evals.Suite{rubricSuite(t, cases)},
	}
	signtest.Project(t, proj)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	evaluate := func(t *testing.T) *Result {
		t.Helper()
		now = now.Add(time.Hour)
		clock := now
		d, err := New(Options{Project: proj, Store: st, Registry: prometheus.NewRegistry(), Alerts: true,
			Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Evaluate(ctx, Request{Suite: "graded", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	openIncident := func(kind alerts.Kind) *alerts.Incident {
		t.Helper()
		row, err := st.OpenIncident(ctx, "graded", "prod", string(kind))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var in alerts.Incident
		if err := json.Unmarshal(row.Data, &in); err != nil {
			t.Fatal(err)
		}
		return &in
	}

	for i := 1; i <= before; i++ {
		res := evaluate(t)
		if res.Verdict.Page || res.Run.Status != store.StatusPassed {
			t.Fatalf("run %d (before the judge's update): %s, %s", i, res.Run.Status, res.Verdict.Message)
		}
		if res.Summary.JudgeCacheHits != 0 || res.Summary.JudgeModels["sim-1"] != cases {
			t.Fatalf("run %d: judge models %v, %d cache hits; want every sample graded by sim-1 afresh", i, res.Summary.JudgeModels, res.Summary.JudgeCacheHits)
		}
	}
	if h.Drifted() || h.JudgeDrifted() != true {
		t.Fatalf("simulator: model drifted %v, judge drifted %v; want only the judge", h.Drifted(), h.JudgeDrifted())
	}

	var page *drift.Verdict
	changeRun := int64(0)
	for i := 1; i <= 4 && page == nil; i++ {
		res := evaluate(t)
		v := res.Verdict
		if i == 1 {
			changeRun = res.Run.ID
			if v.Identity == nil || v.Identity.Source() != "judge" {
				t.Errorf("first run after the judge's update: identity change %+v, want one of the judge", v.Identity)
			}
			if res.Summary.Models["sim-1"] != cases {
				t.Errorf("the model under test answered as %v, want sim-1 throughout", res.Summary.Models)
			}
		}
		if res.Run.Status == store.StatusRegressed {
			t.Errorf("run %d after the judge's update is %s: the model under test did not regress", i, res.Run.Status)
		}
		if v.Page {
			page = v
		}
	}
	if page == nil {
		t.Fatal("no page within 4 runs of the judge's update")
	}
	if want := fmt.Sprintf("scorer (judge identity changed at run %d)", changeRun); page.Attribution != want {
		t.Errorf("attribution = %q, want %q", page.Attribution, want)
	}
	if page.Kind != drift.KindScorerChanged || strings.Contains(page.Message, "provider changed") || drift.Words(page.Kind) != "scorer changed grading" {
		t.Errorf("verdict %s: %q; want %s, saying the scorer changed", page.Kind, page.Message, drift.KindScorerChanged)
	}
	if page.Evidence == nil || page.Evidence.Pooled.Delta > -0.1 {
		t.Errorf("evidence = %+v, want a pooled drop of the pass rate", page.Evidence)
	}

	if in := openIncident(alerts.KindRegression); in != nil {
		t.Errorf("a regression incident is open (%s): a judge change must not page as the provider's", in.FirstEvent.Summary)
	}
	in := openIncident(alerts.KindScorerChanged)
	if in == nil {
		t.Fatal("no scorer_changed incident open")
	}
	ev := in.FirstEvent
	if in.Severity != alerts.SeverityPage || ev.Regression == nil || ev.Regression.Before == nil || ev.Regression.After == nil || ev.Regression.Attribution != page.Attribution {
		t.Errorf("scorer incident = %+v, first event %+v; want a page with the pooled before/after and the attribution", in, ev)
	}
	if ev.Identity == nil || len(ev.Identity.Changes) != 1 || ev.Identity.Changes[0].Source != "judge" || ev.Identity.Run != changeRun {
		t.Errorf("scorer incident identity = %+v, want the judge's change at run %d", ev.Identity, changeRun)
	}

	// The alarm is held on the next run under the same kind, still not a
	// regression of the model.
	res := evaluate(t)
	if res.Verdict.Kind != drift.KindScorerChanged || res.Run.Status == store.StatusRegressed || openIncident(alerts.KindRegression) != nil {
		t.Errorf("run after the page: verdict %s, status %s; want the scorer alarm held and no regression", res.Verdict.Kind, res.Run.Status)
	}
}
