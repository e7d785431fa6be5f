package alerts

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/evald/evald/drift"
)

// TestBehaviourNoticeRendered: a behaviour_changed notice is information,
// names each signal that moved and the cases that moved each way, and
// escapes case ids (user data) in Slack.
func TestBehaviourNoticeRendered(t *testing.T) {
	bs := &drift.BehaviourStatus{Runs: 5, FromRun: 21, RefRuns: 20, Alpha: 2.3e-5, Changed: true,
		Signals: []drift.SignalResult{{Name: drift.SignalCases, Before: 0.5, After: 0.5, P: 1e-9, N: 48, Moved: true},
			{Name: drift.SignalLatency, Before: 800, After: 810, P: 0.4, N: 5}},
		Up:   []drift.CaseMove{{Case: "<!channel> up", Before: 0.3, After: 1}},
		Down: []drift.CaseMove{{Case: "about-Ben-cat", Before: 0.7, After: 0}}}
	ev := Event{Kind: KindBehaviourChanged, Suite: "faq", Target: "prod", RunID: 25, At: t0, Summary: "cases moved both ways", Behaviour: bs}
	n := Notice{Version: NoticeVersion, Action: ActionOpen, Incident: IncidentRef{ID: "inc-1", Suite: "faq", Target: "prod", Kind: KindBehaviourChanged, Severity: KindBehaviourChanged.Severity()}, Event: &ev}
	if got := KindBehaviourChanged.Severity(); got != SeverityInfo {
		t.Errorf("severity = %q, want info", got)
	}
	raw, err := json.Marshal(SlackMessage(n))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, want := range []string{"Behaviour changed: faq on prod", "cases: 0.5 → 0.5 (p = 1e-09)", "Up most:", "about-Ben-cat", "Down most:"} {
		if !strings.Contains(text, want) {
			t.Errorf("Slack message lacks %q: %s", want, text)
		}
	}
	if strings.Contains(text, "latency") {
		t.Errorf("Slack message names a signal that did not move: %s", text)
	}
	if strings.Contains(text, "<!channel>") {
		t.Errorf("case id not escaped: %s", text)
	}
}
