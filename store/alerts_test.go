package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAlertOutbox(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	id, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	in := Incident{ID: "inc-1", Suite: "faq", Target: "prod", Kind: "regression", OpenedAt: t0, Data: []byte(`{"id":"inc-1"}`)}
	writes := AlertWrites{
		Incidents: []Incident{in},
		Deliveries: []Delivery{
			{ID: "d-1", Sink: "slack", IncidentID: "inc-1", Action: "open", Payload: []byte(`{"a":1}`), CreatedAt: t0},
			{ID: "d-2", Sink: "log", IncidentID: "inc-1", Action: "open", Payload: []byte(`{"a":1}`), CreatedAt: t0.Add(time.Millisecond)},
		},
	}
	if err := s.SaveRunOutcome(ctx, id, "faq", "prod", []byte(`{}`), "regressed", `{}`, writes); err != nil {
		t.Fatalf("SaveRunOutcome: %v", err)
	}
	// A failing verdict write takes its alerts with it.
	if err := s.SaveRunOutcome(ctx, 999, "faq", "prod", []byte(`{}`), "regressed", `{}`,
		AlertWrites{Deliveries: []Delivery{{ID: "d-x", Sink: "log", IncidentID: "inc-1", Action: "open", Payload: []byte(`{}`), CreatedAt: t0}}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SaveRunOutcome(unknown run) = %v, want ErrNotFound", err)
	}
	open, err := s.OpenIncident(ctx, "faq", "prod", "regression")
	if err != nil || open.ID != "inc-1" {
		t.Fatalf("OpenIncident = %+v, %v", open, err)
	}
	pending, err := s.PendingDeliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 || pending[0].ID != "d-1" || pending[1].ID != "d-2" {
		t.Fatalf("pending = %+v, want d-1 then d-2 (and not d-x)", pending)
	}
	if err := s.MarkDeliverySent(ctx, "d-1", t0, []byte(`{"ts":"1.2"}`), "C1", "1.2"); err != nil {
		t.Fatal(err)
	}
	// Sent once: a second mark (a replay after a crash) changes nothing.
	if err := s.MarkDeliverySent(ctx, "d-1", t0.Add(time.Hour), nil, "C9", "9.9"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeliveryAttempt(ctx, "d-2", t0.Add(time.Minute), "503 from sink"); err != nil {
		t.Fatal(err)
	}
	pending, _ = s.PendingDeliveries(ctx)
	if len(pending) != 1 || pending[0].ID != "d-2" || pending[0].Attempts != 1 || pending[0].LastError != "503 from sink" ||
		pending[0].ThreadChannel != "C1" || pending[0].ThreadTS != "1.2" {
		t.Fatalf("pending after send = %+v, want d-2 with one attempt and the incident's thread C1/1.2", pending)
	}
	if err := s.MarkDeliveryFailed(ctx, "d-2", "channel_not_found"); err != nil {
		t.Fatal(err)
	}
	all, err := s.Deliveries(ctx, 10)
	if err != nil || len(all) != 2 {
		t.Fatalf("Deliveries = %v, %v", all, err)
	}
	for _, d := range all {
		want := map[string]string{"d-1": DeliverySent, "d-2": DeliveryFailed}[d.ID]
		if d.Status != want {
			t.Errorf("delivery %s status = %q, want %q", d.ID, d.Status, want)
		}
	}
	// Resolving keeps the thread.
	in.ResolvedAt = t0.Add(2 * time.Hour)
	if err := s.SaveAlerts(ctx, AlertWrites{Incidents: []Incident{in}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenIncident(ctx, "faq", "prod", "regression"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenIncident after resolution = %v, want ErrNotFound", err)
	}
	list, err := s.Incidents(ctx, false, 10)
	if err != nil || len(list) != 1 || list[0].ThreadTS != "1.2" || list[0].ResolvedAt.IsZero() {
		t.Errorf("Incidents = %+v, %v; want the resolved incident with its thread", list, err)
	}
}

// FinishRunOutcome ends a run with its verdict, state and alerts at once;
// when any part fails, none is written and the run stays running.
func TestFinishRunOutcome(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	id, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Trigger: "schedule", Status: StatusRunning, StartedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	writes := AlertWrites{
		Incidents:  []Incident{{ID: "inc-1", Suite: "faq", Target: "prod", Kind: "regression", OpenedAt: t0, Data: []byte(`{}`)}},
		Deliveries: []Delivery{{ID: "d-1", Sink: "log", IncidentID: "inc-1", Action: "open", Payload: []byte(`{}`), CreatedAt: t0}},
	}
	bad := Run{ID: id, Suite: "faq", Target: "staging", Status: "regressed", FinishedAt: t0.Add(time.Minute)}
	if err := s.FinishRunOutcome(ctx, bad, []byte(`{}`), "regressed", `{}`, writes); err == nil {
		t.Fatal("FinishRunOutcome with the wrong target succeeded")
	}
	r, err := s.Run(ctx, id)
	if err != nil || r.Status != StatusRunning || r.Verdict != "" {
		t.Fatalf("after a failed FinishRunOutcome: run = %+v, %v; want still running, no verdict", r, err)
	}
	if pending, err := s.PendingDeliveries(ctx); err != nil || len(pending) != 0 {
		t.Fatalf("after a failed FinishRunOutcome: deliveries = %d, %v; want none", len(pending), err)
	}
	good := bad
	good.Target = "prod"
	if err := s.FinishRunOutcome(ctx, good, []byte(`{"s":1}`), "regressed", `{"v":1}`, writes); err != nil {
		t.Fatalf("FinishRunOutcome: %v", err)
	}
	r, err = s.Run(ctx, id)
	if err != nil || r.Status != "regressed" || r.Verdict != "regressed" || !r.FinishedAt.Equal(good.FinishedAt) {
		t.Fatalf("run = %+v, %v; want regressed with its verdict", r, err)
	}
	if state, last, err := s.LoadDriftState(ctx, "faq", "prod"); err != nil || string(state) != `{"s":1}` || last != id {
		t.Fatalf("LoadDriftState = %s, %d, %v", state, last, err)
	}
	if pending, err := s.PendingDeliveries(ctx); err != nil || len(pending) != 1 {
		t.Fatalf("deliveries = %d, %v; want 1", len(pending), err)
	}
	if err := s.FinishRunOutcome(ctx, good, []byte(`{}`), "ok", `{}`, AlertWrites{}); err == nil {
		t.Error("finishing a run twice succeeded")
	}
}
