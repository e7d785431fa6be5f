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
