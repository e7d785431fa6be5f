package server

import (
	"encoding/json"
	"net/http"
	"time"
)

type incidentJSON struct {
	ID            string          `json:"id"`
	Suite         string          `json:"suite"`
	Target        string          `json:"target"`
	Kind          string          `json:"kind"`
	OpenedAt      time.Time       `json:"opened_at"`
	ResolvedAt    *time.Time      `json:"resolved_at"`
	SlackThreadTS string          `json:"slack_thread_ts,omitempty"`
	Incident      json.RawMessage `json:"incident"`
}

type deliveryJSON struct {
	ID         string     `json:"id"`
	Sink       string     `json:"sink"`
	IncidentID string     `json:"incident_id"`
	Action     string     `json:"action"`
	Status     string     `json:"status"`
	Attempts   int        `json:"attempts"`
	CreatedAt  time.Time  `json:"created_at"`
	NextAt     time.Time  `json:"next_at"`
	SentAt     *time.Time `json:"sent_at"`
	LastError  string     `json:"last_error,omitempty"`
}

// apiAlerts lists incidents (open ones with ?open=1) and the latest
// deliveries with their status, so a delivery that failed for good (an
// invalid token, a removed channel) is visible with its error.
func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	incs, err := s.opts.Store.Incidents(ctx, r.URL.Query().Get("open") == "1", 200)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	dls, err := s.opts.Store.Deliveries(ctx, 200)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := struct {
		Incidents  []incidentJSON `json:"incidents"`
		Deliveries []deliveryJSON `json:"deliveries"`
	}{Incidents: make([]incidentJSON, len(incs)), Deliveries: make([]deliveryJSON, len(dls))}
	for i, in := range incs {
		out.Incidents[i] = incidentJSON{ID: in.ID, Suite: in.Suite, Target: in.Target, Kind: in.Kind, OpenedAt: in.OpenedAt,
			ResolvedAt: timePtr(in.ResolvedAt), SlackThreadTS: in.ThreadTS, Incident: rawJSON(in.Data)}
	}
	for i, d := range dls {
		out.Deliveries[i] = deliveryJSON{ID: d.ID, Sink: d.Sink, IncidentID: d.IncidentID, Action: d.Action, Status: d.Status,
			Attempts: d.Attempts, CreatedAt: d.CreatedAt, NextAt: d.NextAt, SentAt: timePtr(d.SentAt), LastError: d.LastError}
	}
	writeJSON(w, http.StatusOK, out)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func rawJSON(b []byte) json.RawMessage {
	if !json.Valid(b) {
		return json.RawMessage("null")
	}
	return json.RawMessage(b)
}
