package alerts

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestResolutionNamesTheRunThatCleared: a resolution carries the run that
// cleared the condition, and Slack and the webhook name it beside the last
// run the condition was seen in (issue 21: the resolve named the last open
// run only).
func TestResolutionNamesTheRunThatCleared(t *testing.T) {
	ev := sampleEvent()
	e := ev.Normalize()
	open := &Incident{ID: "inc-1", Key: ev.Key(), Severity: SeverityPage, OpenedAt: t0.Add(-time.Hour),
		LastNotifiedAt: t0.Add(-time.Hour), FirstEvent: &e, LastEvent: &e}
	p := &Planner{Sinks: []Sink{&Webhook{}}}
	out, err := p.Plan(open, nil, Decision{Action: ActionResolve, Reason: ReasonResolved, Run: ev.RunID + 3}, t0)
	if err != nil || len(out.Deliveries) != 1 {
		t.Fatalf("Plan = %+v, %v; want one delivery", out, err)
	}
	n, err := DecodeNotice(out.Deliveries[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n.ResolvedByRun, ev.RunID+3; got != want {
		t.Errorf("ResolvedByRun = %d, want %d", got, want)
	}
	raw, err := json.Marshal(SlackMessage(n))
	if err != nil {
		t.Fatal(err)
	}
	want := "cleared by run " + itoa(ev.RunID+3) + " (last seen in run " + itoa(ev.RunID) + ")"
	if !strings.Contains(string(raw), want) {
		t.Errorf("Slack resolution lacks %q: %s", want, raw)
	}
	if body := NewWebhookBody("d1", n); !strings.Contains(body.Text, "cleared by run "+itoa(ev.RunID+3)) {
		t.Errorf("webhook text = %q, want the run that cleared", body.Text)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
