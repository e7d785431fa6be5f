package alerts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Sink delivers notices somewhere. Send must be safe to call again for the
// same Delivery after an error (the worker retries), and reports whether a
// failure is worth retrying through its error (see Permanent and
// RetryAfter). Sinks never log; the worker does.
type Sink interface {
	Name() string
	Send(ctx context.Context, d Delivery) (Receipt, error)
}

// Audience is implemented by sinks that want another set of decisions than
// the default (those that notify people, Decision.Notifies).
type Audience interface {
	Wants(d Decision) bool
}

// IncidentAudience is implemented by sinks that choose by the incident as
// well (PagerDuty takes only the kinds its severity_map maps). It wins over
// Audience.
type IncidentAudience interface {
	WantsIncident(k Kind, s Severity, d Decision) bool
}

// Delivery is one notice to send through one sink: a row of the outbox,
// written in the transaction that records the run's verdict.
type Delivery struct {
	// ID is unique and stable: the idempotency key (the generic webhook
	// sends it as X-Evald-Delivery).
	ID         string `json:"id"`
	Sink       string `json:"sink"`
	IncidentID string `json:"incident_id"`
	Action     Action `json:"action"`
	// Payload is the JSON Notice, rendered by the sink when it sends.
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
	// Attempts counts failed attempts so far, NextAt is when the next one is
	// due, LastError is the (redacted) error of the last one.
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error,omitempty"`
	// ThreadChannel and ThreadTS are the incident's Slack thread, filled by
	// the Outbox from the incident when it returns the delivery ("" when the
	// incident has none yet).
	ThreadChannel string `json:"thread_channel,omitempty"`
	ThreadTS      string `json:"thread_ts,omitempty"`
}

// Receipt is what a sink reports of a successful send.
type Receipt struct {
	Sink string    `json:"sink"`
	At   time.Time `json:"at"`
	// Channel and TS locate the message in Slack (bot token only).
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
	// StartsThread is true when the message was posted at top level by a
	// threaded sink: the Outbox records Channel and TS as the incident's
	// thread unless it has one already.
	StartsThread bool `json:"starts_thread,omitempty"`
}

// Notice is the payload of a delivery: what to say, rendered by each sink
// at send time (so that a Slack thread known only after the opening message
// was sent can be used).
type Notice struct {
	Version  int         `json:"version"`
	Action   Action      `json:"action"`
	Reason   Reason      `json:"reason"`
	Incident IncidentRef `json:"incident"`
	// Event is this occurrence (for a resolution, the last one), with the
	// evidence of the opening run when this run carried none.
	Event *Event `json:"event"`
	// Note is the caller's sentence on a resolution.
	Note string `json:"note,omitempty"`
	// ResolvedByRun is the run that cleared the condition (a resolution
	// only; 0 when no run did). Event is still the last occurrence.
	ResolvedByRun int64     `json:"resolved_by_run,omitempty"`
	At            time.Time `json:"at"`
}

// NoticeVersion is the version of the Notice and webhook body format.
const NoticeVersion = 1

// IncidentRef is the incident as a notice shows it.
type IncidentRef struct {
	ID         string    `json:"id"`
	Suite      string    `json:"suite,omitempty"`
	Target     string    `json:"target,omitempty"`
	Kind       Kind      `json:"kind"`
	Severity   Severity  `json:"severity"`
	OpenedAt   time.Time `json:"opened_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// DecodeNotice parses a delivery's payload.
func DecodeNotice(payload []byte) (Notice, error) {
	var n Notice
	if err := json.Unmarshal(payload, &n); err != nil {
		return n, fmt.Errorf("decode notice: %w", err)
	}
	if n.Version != NoticeVersion || n.Event == nil {
		return n, fmt.Errorf("decode notice: unsupported version %d or no event", n.Version)
	}
	return n, nil
}

// Planner turns decisions into the records to write: the new version of
// the incident and one Delivery per sink that wants the notice.
type Planner struct {
	Sinks []Sink
	// NewID returns a fresh unique id (default: 128 random bits in hex).
	NewID func() string
}

// Outcome is what Plan asks the caller to write, in one transaction with
// the run's verdict: Incident (nil: nothing) replaces the stored incident
// of the same ID or is inserted; Deliveries are inserted as pending.
type Outcome struct {
	Incident   *Incident
	Deliveries []Delivery
}

// Plan applies d, the decision Decide took for open and ev at now. The
// log sink (and any sink whose Wants says so) also gets suppressed and
// quiet decisions; ActionNone writes the repeat into the incident and
// sends nothing.
func (p *Planner) Plan(open *Incident, ev *Event, d Decision, now time.Time) (Outcome, error) {
	now = now.UTC()
	if !open.Open() {
		open = nil
	}
	var e *Event
	if ev != nil {
		n := ev.Normalize()
		e = &n
	}
	var inc Incident
	switch {
	case open != nil:
		inc = *open
	case e != nil:
		inc = Incident{ID: p.newID("inc_"), Key: e.Key(), Severity: e.Severity, OpenedAt: now, FirstEvent: e}
	default:
		return Outcome{}, nil // clear and nothing open
	}
	switch d.Action {
	case ActionOpen, ActionRenotify:
		inc.LastNotifiedAt = now
	case ActionResolve:
		inc.ResolvedAt = now
	}
	if e != nil {
		inc.LastEvent = e
	}
	out := Outcome{Incident: &inc}
	if d.Action == ActionNone {
		return out, nil // the repeat is recorded, nothing is sent
	}

	shown := e
	if shown == nil {
		shown = inc.LastEvent
	}
	if shown == nil {
		shown = inc.FirstEvent
	}
	if shown == nil {
		return out, fmt.Errorf("plan %s of incident %s: no event to show", d.Action, inc.ID)
	}
	notice := Notice{
		Version: NoticeVersion, Action: d.Action, Reason: d.Reason, Note: d.Note, At: now,
		Incident: IncidentRef{ID: inc.ID, Suite: inc.Key.Suite, Target: inc.Key.Target, Kind: inc.Key.Kind,
			Severity: inc.Severity, OpenedAt: inc.OpenedAt, ResolvedAt: inc.ResolvedAt},
		Event: withEvidence(shown, inc.FirstEvent),
	}
	if d.Action == ActionResolve {
		notice.ResolvedByRun = d.Run
	}
	payload, err := json.Marshal(notice)
	if err != nil {
		return out, fmt.Errorf("encode notice: %w", err)
	}
	for _, s := range p.Sinks {
		if !wants(s, inc, d) {
			continue
		}
		out.Deliveries = append(out.Deliveries, Delivery{
			ID: p.newID("dlv_"), Sink: s.Name(), IncidentID: inc.ID, Action: d.Action,
			Payload: payload, CreatedAt: now, NextAt: now,
		})
	}
	return out, nil
}

func wants(s Sink, inc Incident, d Decision) bool {
	if d.Action == ActionNone {
		return false
	}
	if a, ok := s.(IncidentAudience); ok {
		return a.WantsIncident(inc.Key.Kind, inc.Severity, d)
	}
	if a, ok := s.(Audience); ok {
		return a.Wants(d)
	}
	return d.Notifies()
}

func (p *Planner) newID(prefix string) string {
	if p.NewID != nil {
		return p.NewID()
	}
	return prefix + randomID()
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// withEvidence returns ev, or a copy of it carrying first's regression
// evidence, flipped cases and identity when ev has none: drift attaches the
// pooled evidence only to the run that paged, and later messages (renotify,
// a page after a silence ended, the resolution) should still show it.
func withEvidence(ev, first *Event) *Event {
	if ev.Regression == nil || ev.Regression.Before != nil || first == nil || first.Regression == nil || first.Regression.Before == nil {
		return ev
	}
	c := *ev
	r := *first.Regression
	c.Regression = &r
	if len(c.Flipped) == 0 {
		c.Flipped = first.Flipped
	}
	if c.Identity == nil {
		c.Identity = first.Identity
	}
	if c.Versions == (Versions{}) {
		c.Versions = first.Versions
	}
	return &c
}
