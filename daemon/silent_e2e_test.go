package daemon

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/evald/evald/alerts"
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
