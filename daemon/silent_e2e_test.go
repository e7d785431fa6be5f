package daemon

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/sim"
)

// TestFlippedExcerptsPairPassWithFail: the regression's flipped-case
// excerpts show a passing reference answer beside a failing current one
// (issue 21: each side's first sample was shown, and the "baseline"
// excerpt had often failed too). With 2 repeats and 15 % wrong answers
// before the swap, a side's first sample is often the wrong kind.
func TestFlippedExcerptsPairPassWithFail(t *testing.T) {
	const cases, repeats, before = 24, 2, 5
	suite := factSuite(t, cases)
	suite.Repeats = repeats
	d, st := simDaemonEvery(t, suite, sim.Options{WrongRate: 0.3, Noise: 0.02, Seed: 11,
		DriftAfter: before * cases * repeats, DriftShare: 0.9, DriftSilent: true}, "@every 3s", true)
	ctx := context.Background()
	paged := false
	for i := 1; i <= before+4 && !paged; i++ {
		res, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		paged = res.Verdict.Page
	}
	if !paged {
		t.Fatal("no page after the swap")
	}
	incs, err := st.Incidents(ctx, true, 20)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, inc := range incs {
		var a alerts.Incident
		if err := json.Unmarshal(inc.Data, &a); err != nil {
			t.Fatal(err)
		}
		if a.FirstEvent == nil || a.FirstEvent.Kind != alerts.KindRegression {
			continue
		}
		for _, f := range a.FirstEvent.Flipped {
			answer := "number" + strings.TrimPrefix(f.ID, "q")
			if !strings.Contains(f.Baseline, answer) {
				t.Errorf("case %s: reference excerpt %q does not pass (no %q)", f.ID, f.Baseline, answer)
			}
			if f.Current == "" || strings.Contains(f.Current, answer) {
				t.Errorf("case %s: current excerpt %q does not fail", f.ID, f.Current)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("the regression incident lists no flipped cases")
	}
}

// TestTemplateChangeIsAnIdentityChange: a server whose chat template
// changes reports fewer prompt tokens for the same requests and gives the
// same answers, with the same model and fingerprints. The daemon records an
// identity change within 3 runs, with the token reason, and raises the
// identity notice (no page).
func TestTemplateChangeIsAnIdentityChange(t *testing.T) {
	const cases, before = 30, 6
	d, st := simDaemonEvery(t, factSuite(t, cases), sim.Options{Noise: 0.02, WrongRate: -1, Seed: 5,
		TemplateAfter: before * cases}, "@hourly", true)
	ctx := context.Background()
	for i := 1; i <= before+3; i++ {
		res, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		v := res.Verdict
		if v.Page {
			t.Fatalf("run %d paged: %s", i, v.Message)
		}
		if v.Identity == nil {
			if i > before {
				t.Logf("run %d: %s: %s", i, v.Kind, v.Message)
			}
			continue
		}
		if i <= before {
			t.Fatalf("run %d, before the template change: identity changed: %s", i, v.Message)
		}
		reason := v.Identity.Changes[0].Reason
		if !strings.Contains(reason, "prompt tokens for identical requests changed (") || !strings.Contains(v.Message, reason) {
			t.Errorf("identity change at run %d: reason %q, message %q; want the token reason", i, reason, v.Message)
		}
		incs, err := st.Incidents(ctx, true, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, inc := range incs {
			if inc.Kind == string(alerts.KindIdentityChanged) {
				return
			}
		}
		t.Fatalf("no identity_changed incident among %d", len(incs))
	}
	t.Fatalf("no identity change within 3 runs of the template change")
}

// TestGreedyDecodingOpensBehaviourChanged replays issue 21's greedy
// decoding against a local OpenAI-compatible server: after the switch each
// question's answer is fixed, flipped with the old noise's probability, so
// the pass rate stays put while cases move both ways. The daemon raises a
// behaviour_changed notice (information, through the usual sinks) naming
// the signal that moved (the cases, or the distinct-answer share, which
// often sees it first) and the cases that moved each way, and pages
// nobody.
func TestGreedyDecodingOpensBehaviourChanged(t *testing.T) {
	const cases, repeats, before = 40, 2, 22
	suite := factSuite(t, cases)
	suite.Repeats = repeats
	d, st := simDaemonEvery(t, suite, sim.Options{Noise: 0.3, WrongRate: 0.2, Seed: 21,
		GreedyAfter: before * cases * repeats}, "@hourly", true)
	ctx := context.Background()
	for i := 1; i <= before+drift.BehaviourBlock+2; i++ {
		res, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		v := res.Verdict
		if v.Page {
			t.Fatalf("run %d paged: %s", i, v.Message)
		}
		if v.Kind != drift.KindBehaviourChanged {
			continue
		}
		if i <= before {
			t.Fatalf("run %d, before greedy decoding: %s", i, v.Message)
		}
		incs, err := st.Incidents(ctx, true, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, inc := range incs {
			var a alerts.Incident
			if err := json.Unmarshal(inc.Data, &a); err != nil {
				t.Fatal(err)
			}
			if a.Key.Kind != alerts.KindBehaviourChanged {
				continue
			}
			if a.Severity != alerts.SeverityInfo || a.FirstEvent.Behaviour == nil {
				t.Errorf("behaviour incident: severity %q, evidence %v; want info with its evidence", a.Severity, a.FirstEvent.Behaviour)
			}
			b := a.FirstEvent.Behaviour
			sum := a.FirstEvent.Summary
			named := strings.Contains(sum, "cases moved both ways") || strings.Contains(sum, "distinct-answer share")
			if !named {
				t.Errorf("behaviour incident %q names neither the cases nor the distinct-answer share", sum)
			}
			// The cases that moved most are listed only as the evidence of
			// the cases signal; without it, the notice says they did not.
			if strings.Contains(sum, "cases moved both ways") {
				if len(b.Up) == 0 || len(b.Down) == 0 || !strings.Contains(sum, "up most: ") || !strings.Contains(sum, "down most: ") {
					t.Errorf("behaviour incident %q: up %v, down %v; want the cases that moved each way", sum, b.Up, b.Down)
				}
			} else if len(b.Up)+len(b.Down) > 0 || strings.Contains(sum, "most: ") || !strings.Contains(sum, "the cases did not move") {
				t.Errorf("behaviour incident %q: up %v, down %v; the cases signal did not move, want no case listed", sum, b.Up, b.Down)
			}
			t.Logf("run %d: %s", i, a.FirstEvent.Summary)
			return
		}
		t.Fatalf("no behaviour_changed incident among %d", len(incs))
	}
	t.Fatal("no behaviour_changed verdict after greedy decoding")
}
