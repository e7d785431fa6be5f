package alerts

import (
	"testing"
	"time"

	"github.com/evald/evald/evals"
)

func TestDecide(t *testing.T) {
	const renotify = 6 * time.Hour
	ev := thresholdEvent()
	stored := ev.Normalize()
	paged := func(mod ...func(*Incident)) *Incident {
		inc := &Incident{ID: "inc", Key: ev.Key(), Severity: SeverityPage, OpenedAt: t0.Add(-time.Hour),
			LastNotifiedAt: t0.Add(-time.Hour), FirstEvent: &stored, LastEvent: &stored}
		for _, m := range mod {
			m(inc)
		}
		return inc
	}
	neverPaged := func(inc *Incident) { inc.LastNotifiedAt = time.Time{} }
	info := func(inc *Incident) { inc.Severity = SeverityInfo }
	resolved := func(inc *Incident) { inc.ResolvedAt = t0.Add(-time.Minute) }
	pagedAgo := func(d time.Duration) func(*Incident) {
		return func(inc *Incident) { inc.LastNotifiedAt = t0.Add(-d) }
	}
	withEvent := func(mod func(*Event)) *Event {
		e := thresholdEvent()
		mod(&e)
		return &e
	}
	same := withEvent(func(e *Event) { e.ThresholdFailures[0].Got = 0.84; e.RunID = 44 }) // numbers moved only
	moreBars := withEvent(func(e *Event) {
		e.ThresholdFailures = append(e.ThresholdFailures, evals.ThresholdFailure{Metric: "mean_score", Want: 0.85, Got: 0.8})
	})
	infoEvent := &Event{Kind: KindIdentityChanged, Suite: "faq", Target: "prod", Summary: "provider identity changed"}
	storedInfo := infoEvent.Normalize()
	openInfo := &Incident{ID: "inc", Key: infoEvent.Key(), Severity: SeverityInfo, OpenedAt: t0.Add(-48 * time.Hour),
		LastNotifiedAt: t0.Add(-48 * time.Hour), LastEvent: &storedInfo}

	for _, tt := range []struct {
		name     string
		open     *Incident
		ev       *Event
		silenced bool
		renotify time.Duration
		want     Decision
	}{
		{name: "clear and nothing open", want: Decision{Action: ActionNone, Reason: ReasonClear}},
		{name: "clear after a page resolves", open: paged(), want: Decision{Action: ActionResolve, Reason: ReasonResolved}},
		{name: "clear under a silence still resolves", open: paged(), silenced: true, want: Decision{Action: ActionResolve, Reason: ReasonResolved}},
		{name: "clear never paged resolves quietly", open: paged(neverPaged), want: Decision{Action: ActionResolve, Reason: ReasonResolvedQuiet}},
		{name: "clear info resolves quietly", open: paged(info), want: Decision{Action: ActionResolve, Reason: ReasonResolvedQuiet}},
		{name: "clear with a resolved incident", open: paged(resolved), want: Decision{Action: ActionNone, Reason: ReasonClear}},
		{name: "first occurrence opens", ev: &ev, want: Decision{Action: ActionOpen, Reason: ReasonFirst}},
		{name: "resolved incident counts as none", open: paged(resolved), ev: &ev, want: Decision{Action: ActionOpen, Reason: ReasonFirst}},
		{name: "first occurrence silenced", ev: &ev, silenced: true, want: Decision{Action: ActionSuppress, Reason: ReasonSilenced}},
		{name: "silence holds renotify", open: paged(pagedAgo(24 * time.Hour)), ev: &ev, silenced: true, want: Decision{Action: ActionSuppress, Reason: ReasonSilenced}},
		{name: "silence ended pages", open: paged(neverPaged), ev: same, want: Decision{Action: ActionOpen, Reason: ReasonUnsilenced}},
		{name: "repeat is recorded", open: paged(), ev: same, want: Decision{Action: ActionNone, Reason: ReasonUnchanged}},
		{name: "repeat with news updates", open: paged(), ev: moreBars, want: Decision{Action: ActionUpdate, Reason: ReasonChanged}},
		{name: "renotify just before due", open: paged(pagedAgo(renotify - time.Nanosecond)), ev: same, want: Decision{Action: ActionNone, Reason: ReasonUnchanged}},
		{name: "renotify due exactly", open: paged(pagedAgo(renotify)), ev: same, want: Decision{Action: ActionRenotify, Reason: ReasonRepeatDue}},
		{name: "renotify beats update", open: paged(pagedAgo(7 * time.Hour)), ev: moreBars, want: Decision{Action: ActionRenotify, Reason: ReasonRepeatDue}},
		{name: "renotify off", open: paged(pagedAgo(100 * time.Hour)), ev: same, renotify: -1, want: Decision{Action: ActionNone, Reason: ReasonUnchanged}},
		{name: "info never renotifies", open: openInfo, ev: infoEvent, want: Decision{Action: ActionNone, Reason: ReasonUnchanged}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.renotify
			switch r {
			case 0:
				r = renotify
			case -1:
				r = 0
			}
			if got := Decide(tt.open, tt.ev, tt.silenced, t0, r); got != tt.want {
				t.Errorf("Decide() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecisionNotifies(t *testing.T) {
	for _, tt := range []struct {
		d    Decision
		want bool
	}{
		{Decision{Action: ActionOpen, Reason: ReasonFirst}, true},
		{Decision{Action: ActionUpdate, Reason: ReasonChanged}, true},
		{Decision{Action: ActionRenotify, Reason: ReasonRepeatDue}, true},
		{Decision{Action: ActionResolve, Reason: ReasonResolved}, true},
		{Decision{Action: ActionResolve, Reason: ReasonResolvedQuiet}, false},
		{Decision{Action: ActionSuppress, Reason: ReasonSilenced}, false},
		{Decision{Action: ActionNone, Reason: ReasonUnchanged}, false},
	} {
		t.Run(string(tt.d.Action)+"/"+string(tt.d.Reason), func(t *testing.T) {
			if got := tt.d.Notifies(); got != tt.want {
				t.Errorf("%+v.Notifies() = %v, want %v", tt.d, got, tt.want)
			}
		})
	}
}
