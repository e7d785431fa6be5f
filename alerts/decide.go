package alerts

import (
	"fmt"
	"time"
)

// Key identifies an incident: at most one is open per key.
type Key struct {
	Suite  string `json:"suite"`
	Target string `json:"target"`
	Kind   Kind   `json:"kind"`
}

func (k Key) String() string { return fmt.Sprintf("%s/%s/%s", k.Suite, k.Target, k.Kind) }

// Incident is the stored record of one alert condition from the run that
// raised it until the run where it cleared. The store persists it whole;
// Plan computes every new version of it.
type Incident struct {
	ID       string    `json:"id"`
	Key      Key       `json:"key"`
	Severity Severity  `json:"severity"`
	OpenedAt time.Time `json:"opened_at"`
	// LastNotifiedAt is when it last paged (open or renotify); zero while it
	// never did (opened under a silence).
	LastNotifiedAt time.Time `json:"last_notified_at,omitzero"`
	// ResolvedAt is zero while the incident is open.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// FirstEvent is the event that opened it: for a regression it carries
	// the pooled evidence, which drift computes only on the paging run.
	FirstEvent *Event `json:"first_event,omitempty"`
	// LastEvent is the latest occurrence.
	LastEvent *Event `json:"last_event,omitempty"`
	// ThreadChannel and ThreadTS locate the Slack message that started the
	// incident's thread (bot token only). The Outbox records them from the
	// Receipt of the first threaded delivery and returns them with every
	// later Delivery of the incident.
	ThreadChannel string `json:"thread_channel,omitempty"`
	ThreadTS      string `json:"thread_ts,omitempty"`
}

// Open reports whether the incident is open.
func (i *Incident) Open() bool { return i != nil && i.ResolvedAt.IsZero() }

// Action is what a decision does.
type Action string

// Actions.
const (
	// ActionOpen sends the opening message (a page) and, for a new
	// condition, opens the incident.
	ActionOpen Action = "open"
	// ActionUpdate records a repeat whose news changed and posts it to the
	// incident's thread: no page.
	ActionUpdate Action = "update"
	// ActionRenotify pages again: the condition has stayed for the renotify
	// interval since the last page.
	ActionRenotify Action = "renotify"
	// ActionResolve closes the incident; Reason says whether a resolution
	// message goes out.
	ActionResolve Action = "resolve"
	// ActionSuppress records the event (and opens the incident if needed)
	// without paging: a silence is active.
	ActionSuppress Action = "suppress"
	// ActionNone sends nothing; a repeat is still recorded as LastEvent.
	ActionNone Action = "none"
)

// Reason says why a decision was taken.
type Reason string

// Reasons.
const (
	ReasonFirst         Reason = "first"          // no open incident: open one
	ReasonUnsilenced    Reason = "unsilenced"     // open but never paged (opened under a silence that ended)
	ReasonChanged       Reason = "changed"        // repeat with different news (attribution, failing bars, ...)
	ReasonUnchanged     Reason = "unchanged"      // repeat, same news, renotify not due
	ReasonRepeatDue     Reason = "repeat_due"     // renotify interval elapsed since the last page
	ReasonResolved      Reason = "resolved"       // condition cleared after a page: resolution message
	ReasonResolvedQuiet Reason = "resolved_quiet" // condition cleared; info or never paged: no message
	ReasonSilenced      Reason = "silenced"       // a silence mutes the pages
	ReasonClear         Reason = "clear"          // no condition, no incident
)

// Decision is the outcome of Decide. Note is an optional human sentence the
// caller may set before Plan, shown with a resolution (why the condition
// cleared, e.g. drift's recovery message or who accepted the new
// behaviour).
type Decision struct {
	Action Action `json:"action"`
	Reason Reason `json:"reason"`
	Note   string `json:"note,omitempty"`
	// Run is the run that cleared the condition, on a resolution (0: none
	// did, e.g. an acceptance or a reload).
	Run int64 `json:"run,omitempty"`
}

// Notifies reports whether the decision sends a message to people (as
// opposed to a record and a log line).
func (d Decision) Notifies() bool {
	switch d.Action {
	case ActionOpen, ActionUpdate, ActionRenotify:
		return true
	case ActionResolve:
		return d.Reason == ReasonResolved
	}
	return false
}

// Decide is the dedup, renotify and resolve rule, a pure function of the
// stored state. open is the incident open for the event's key (nil: none;
// a resolved incident counts as none); ev is this run's occurrence of the
// condition, nil when the condition is clear this run; silenced says
// whether a silence covers the suite and target at now; renotify is the
// re-page interval (alerts.renotify; 0 never re-pages).
//
// The rules, in order:
//   - clear, no incident: none.
//   - clear, incident open: resolve, with a resolution message if the
//     incident paged and is of page severity (even under a silence: a
//     resolution is not a page), quietly otherwise.
//   - condition, silenced: suppress (the incident is opened or updated and
//     logged, nobody is paged, renotify is held).
//   - condition, no incident: open.
//   - condition, incident never paged (its silence ended): open.
//   - condition, page severity, renotify > 0 and now ≥ last page +
//     renotify: renotify.
//   - condition whose news changed since the last event: update (thread).
//   - otherwise none (the repeat is recorded).
func Decide(open *Incident, ev *Event, silenced bool, now time.Time, renotify time.Duration) Decision {
	if !open.Open() {
		open = nil
	}
	if ev == nil {
		switch {
		case open == nil:
			return Decision{Action: ActionNone, Reason: ReasonClear}
		case open.LastNotifiedAt.IsZero() || open.Severity == SeverityInfo:
			return Decision{Action: ActionResolve, Reason: ReasonResolvedQuiet}
		}
		return Decision{Action: ActionResolve, Reason: ReasonResolved}
	}
	e := ev.Normalize()
	switch {
	case silenced:
		return Decision{Action: ActionSuppress, Reason: ReasonSilenced}
	case open == nil:
		return Decision{Action: ActionOpen, Reason: ReasonFirst}
	case open.LastNotifiedAt.IsZero():
		return Decision{Action: ActionOpen, Reason: ReasonUnsilenced}
	case open.Severity == SeverityPage && e.Severity == SeverityPage && renotify > 0 && !now.Before(open.LastNotifiedAt.Add(renotify)):
		return Decision{Action: ActionRenotify, Reason: ReasonRepeatDue}
	case open.LastEvent == nil || open.LastEvent.digest() != e.digest():
		return Decision{Action: ActionUpdate, Reason: ReasonChanged}
	}
	return Decision{Action: ActionNone, Reason: ReasonUnchanged}
}
