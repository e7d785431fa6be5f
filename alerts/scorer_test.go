package alerts

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/evald/evald/drift"
)

// judgeChange is a change of the judge's identity alone at run 41.
func judgeChange() *drift.IdentityChange {
	return &drift.IdentityChange{Run: 41, Changes: []drift.SourceChange{{
		Source: "judge", Reason: `new model "gpt-4o-2026-02-01"`,
		Before: drift.Distribution{Models: map[string]int{"gpt-4o-2024-08-06": 600}},
		After:  drift.Distribution{Models: map[string]int{"gpt-4o-2026-02-01": 600}},
	}}}
}

// TestScorerChangeAlert: an alarm attributed to the judge pages as a
// scorer change, with the evidence and the judge's side, and never says
// the provider changed.
func TestScorerChangeAlert(t *testing.T) {
	v := sampleVerdict()
	v.Kind = drift.KindScorerChanged
	v.Attribution = "scorer (judge identity changed at run 41)"
	v.Message = "pass rate -14.0 pp since run 41; scorer (judge identity changed at run 41)"
	ev := NewScorerChange("faq", "prod", v, judgeChange(), t0)
	if ev.Kind != KindScorerChanged || ev.Normalize().Severity != SeverityPage || ev.Regression == nil || ev.Identity == nil {
		t.Fatalf("NewScorerChange = kind %s, severity %s, regression %v, identity %v; want a scorer_changed page with evidence and identity",
			ev.Kind, ev.Normalize().Severity, ev.Regression, ev.Identity)
	}
	n, _ := notice(t, nil, &ev, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)
	raw, err := json.Marshal(SlackMessage(n))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, want := range []string{"Scorer changed: faq on prod", "*Judge side:* identity changed at run 41", "judge: new model", "the judge changed, not the model under test"} {
		if !strings.Contains(text, want) {
			t.Errorf("Slack message lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"Provider side", "Regression:", "provider changed"} {
		if strings.Contains(text, bad) {
			t.Errorf("Slack message of a scorer change says %q:\n%s", bad, text)
		}
	}
	checkBlockKit(t, SlackMessage(n).Blocks.BlockSet)
}

// TestJudgeIdentityTitle: an identity change of the judge alone is titled
// as the judge's; one of the provider keeps its title.
func TestJudgeIdentityTitle(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change *drift.IdentityChange
		want   string
	}{
		{"judge", judgeChange(), "Judge identity changed: faq on prod"},
		{"provider", identityEventChange(), "Provider identity changed: faq on prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := Event{Kind: KindIdentityChanged, Suite: "faq", Target: "prod", RunID: 41, At: t0, Summary: "identity changed", Identity: NewIdentity(tc.change)}
			n, _ := notice(t, nil, &ev, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)
			if got := SlackMessage(n).Text; !strings.HasPrefix(got, tc.want) {
				t.Errorf("fallback text = %q, want it to start with %q", got, tc.want)
			}
		})
	}
}

// identityEventChange is the provider model update of identityEvent.
func identityEventChange() *drift.IdentityChange {
	return &drift.IdentityChange{Run: 41, Changes: []drift.SourceChange{{Source: "target", Reason: `new model "m-2"`}}}
}
