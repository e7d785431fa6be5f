package alerts

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sinkNames(ds []Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Sink)
	}
	return out
}

func TestPlanRoutes(t *testing.T) {
	ev := sampleEvent()
	open := func(mod ...func(*Incident)) *Incident {
		e := ev.Normalize()
		inc := &Incident{ID: "inc-1", Key: ev.Key(), Severity: SeverityPage, OpenedAt: t0.Add(-time.Hour),
			LastNotifiedAt: t0.Add(-time.Hour), FirstEvent: &e, LastEvent: &e}
		for _, m := range mod {
			m(inc)
		}
		return inc
	}
	webhookSinks := []Sink{&SlackWebhook{}, &Webhook{}, &LogSink{}}
	botSinks := []Sink{&SlackBot{}, &Webhook{}, &LogSink{}}
	for _, tt := range []struct {
		name  string
		sinks []Sink
		open  *Incident
		ev    *Event
		d     Decision
		want  []string
	}{
		{name: "open goes everywhere", sinks: webhookSinks, ev: &ev, d: Decision{Action: ActionOpen, Reason: ReasonFirst}, want: []string{"slack", "webhook", "log"}},
		{name: "update skips the slack webhook", sinks: webhookSinks, open: open(), ev: &ev, d: Decision{Action: ActionUpdate, Reason: ReasonChanged}, want: []string{"webhook", "log"}},
		{name: "update goes to the bot thread", sinks: botSinks, open: open(), ev: &ev, d: Decision{Action: ActionUpdate, Reason: ReasonChanged}, want: []string{"slack", "webhook", "log"}},
		{name: "renotify goes everywhere", sinks: webhookSinks, open: open(), ev: &ev, d: Decision{Action: ActionRenotify, Reason: ReasonRepeatDue}, want: []string{"slack", "webhook", "log"}},
		{name: "suppress only logs", sinks: botSinks, ev: &ev, d: Decision{Action: ActionSuppress, Reason: ReasonSilenced}, want: []string{"log"}},
		{name: "resolution goes everywhere", sinks: webhookSinks, open: open(), d: Decision{Action: ActionResolve, Reason: ReasonResolved}, want: []string{"slack", "webhook", "log"}},
		{name: "quiet resolution only logs", sinks: botSinks, open: open(), d: Decision{Action: ActionResolve, Reason: ReasonResolvedQuiet}, want: []string{"log"}},
		{name: "repeat sends nothing", sinks: botSinks, open: open(), ev: &ev, d: Decision{Action: ActionNone, Reason: ReasonUnchanged}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &Planner{Sinks: tt.sinks, NewID: seqIDs()}
			out, err := p.Plan(tt.open, tt.ev, tt.d, t0)
			if err != nil {
				t.Fatalf("Plan() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, sinkNames(out.Deliveries)); diff != "" {
				t.Errorf("Plan() sinks mismatch (-want +got):\n%s", diff)
			}
			if out.Incident == nil {
				t.Fatal("Plan() wrote no incident")
			}
			for _, d := range out.Deliveries {
				if got, want := d.IncidentID, out.Incident.ID; got != want {
					t.Errorf("delivery %s IncidentID = %q, want %q", d.ID, got, want)
				}
				if got, want := d.NextAt, t0; !got.Equal(want) {
					t.Errorf("delivery %s NextAt = %v, want %v (due at once)", d.ID, got, want)
				}
				if _, err := DecodeNotice(d.Payload); err != nil {
					t.Errorf("delivery %s payload: %v", d.ID, err)
				}
			}
		})
	}
}

func TestPlanIncidentLifecycle(t *testing.T) {
	p := &Planner{Sinks: []Sink{&LogSink{}}, NewID: seqIDs()}
	ev := thresholdEvent()

	// Opened under a silence: recorded, never paged.
	out, err := p.Plan(nil, &ev, Decision{Action: ActionSuppress, Reason: ReasonSilenced}, t0)
	if err != nil {
		t.Fatal(err)
	}
	inc := out.Incident
	want := &Incident{ID: "id-1", Key: Key{Suite: "faq", Target: "prod", Kind: KindThresholdFailure}, Severity: SeverityPage,
		OpenedAt: t0, FirstEvent: inc.FirstEvent, LastEvent: inc.LastEvent}
	if diff := cmp.Diff(want, inc); diff != "" {
		t.Errorf("suppressed incident mismatch (-want +got):\n%s", diff)
	}

	// The silence ends: the same incident pages.
	later := t0.Add(2 * time.Hour)
	ev2 := thresholdEvent()
	ev2.RunID = 50
	if got, want := Decide(inc, &ev2, false, later, 6*time.Hour), (Decision{Action: ActionOpen, Reason: ReasonUnsilenced}); got != want {
		t.Fatalf("Decide() after the silence = %+v, want %+v", got, want)
	}
	out, err = p.Plan(inc, &ev2, Decision{Action: ActionOpen, Reason: ReasonUnsilenced}, later)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.Incident.ID, inc.ID; got != want {
		t.Errorf("incident id after the silence = %q, want %q (the same incident)", got, want)
	}
	if got, want := out.Incident.LastNotifiedAt, later; !got.Equal(want) {
		t.Errorf("LastNotifiedAt = %v, want %v", got, want)
	}
	if got, want := out.Incident.LastEvent.RunID, int64(50); got != want {
		t.Errorf("LastEvent.RunID = %d, want %d", got, want)
	}

	// Clear: resolved, with the last event in the notice.
	inc = out.Incident
	end := later.Add(time.Hour)
	d := Decide(inc, nil, false, end, 6*time.Hour)
	d.Note = "run 51 passed every bar"
	out, err = p.Plan(inc, nil, d, end)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Incident.ResolvedAt; !got.Equal(end) {
		t.Errorf("ResolvedAt = %v, want %v", got, end)
	}
	n, err := DecodeNotice(out.Deliveries[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n.Event.RunID, int64(50); got != want {
		t.Errorf("resolution notice event run = %d, want %d (the last occurrence)", got, want)
	}
	if got, want := n.Note, d.Note; got != want {
		t.Errorf("resolution note = %q, want %q", got, want)
	}
}

// TestPlanKeepsEvidence: drift attaches the pooled evidence only to the
// paging run; a renotify on a later run still shows it.
func TestPlanKeepsEvidence(t *testing.T) {
	p := &Planner{Sinks: []Sink{&Webhook{}}, NewID: seqIDs()}
	first := sampleEvent()
	out, err := p.Plan(nil, &first, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)
	if err != nil {
		t.Fatal(err)
	}
	held := sampleVerdict()
	held.RunID, held.Page, held.Evidence, held.D = 60, false, nil, -0.12
	held.Message = "alert of run 43 still open (silent provider change or provider incident); D = -12.0 pp, S held at 9.10"
	ev := NewRegression("faq", "prod", held, nil, t0.Add(7*time.Hour))
	out, err = p.Plan(out.Incident, &ev, Decision{Action: ActionRenotify, Reason: ReasonRepeatDue}, t0.Add(7*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	n, err := DecodeNotice(out.Deliveries[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if n.Event.Regression.Before == nil || n.Event.Regression.RunsSinceChange != 3 {
		t.Errorf("renotify evidence = %+v, want the opening run's pooled evidence", n.Event.Regression)
	}
	if got, want := len(n.Event.Flipped), 2; got != want {
		t.Errorf("renotify flipped cases = %d, want %d", got, want)
	}
	if got, want := n.Event.RunID, int64(60); got != want {
		t.Errorf("renotify run = %d, want %d (the latest run)", got, want)
	}
	if got, want := n.Event.Summary, held.Message; got != want {
		t.Errorf("renotify summary = %q, want %q", got, want)
	}
}

func TestEventNormalize(t *testing.T) {
	long := make([]rune, MaxTextRunes+50)
	for i := range long {
		long[i] = 'é'
	}
	ev := Event{Kind: KindRegression, At: t0.In(time.FixedZone("CET", 3600))}
	for i := range MaxFlipped + 2 {
		ev.Flipped = append(ev.Flipped, FlippedCase{ID: string(rune('a' + i)), Current: string(long) + "\xff"})
	}
	got := ev.Normalize()
	if got, want := got.Severity, SeverityPage; got != want {
		t.Errorf("Severity = %q, want %q", got, want)
	}
	if got, want := len(got.Flipped), MaxFlipped; got != want {
		t.Errorf("len(Flipped) = %d, want %d", got, want)
	}
	if got, want := len([]rune(got.Flipped[0].Current)), MaxTextRunes; got != want {
		t.Errorf("flipped output runes = %d, want %d", got, want)
	}
	if got, want := got.At.Location(), time.UTC; got != want {
		t.Errorf("At location = %v, want UTC", got)
	}
	if len(ev.Flipped) != MaxFlipped+2 {
		t.Error("Normalize modified its receiver's slice")
	}
}

func TestNewRegression(t *testing.T) {
	ev := sampleEvent()
	r := ev.Regression
	if r.Before == nil || r.After == nil {
		t.Fatal("NewRegression: no before/after rates")
	}
	for _, rate := range []*Rate{r.Before, r.After} {
		if !(rate.Low < rate.Value && rate.Value < rate.High) {
			t.Errorf("Wilson interval [%v, %v] does not contain %v", rate.Low, rate.High, rate.Value)
		}
	}
	if got, want := r.RunsSinceChange, 3; got != want {
		t.Errorf("RunsSinceChange = %d, want %d", got, want)
	}
	if ev.Identity != nil {
		t.Errorf("silent regression Identity = %+v, want nil", ev.Identity)
	}
	if id := identityEvent().Identity; id == nil || id.Run != 41 || len(id.Changes) != 1 {
		t.Errorf("attributed regression Identity = %+v, want the change at run 41", id)
	}
	if got, want := RunURL("https://evald.example.com/", 43), "https://evald.example.com/runs/43"; got != want {
		t.Errorf("RunURL() = %q, want %q", got, want)
	}
	if got := RunURL("", 43); got != "" {
		t.Errorf("RunURL(\"\", 43) = %q, want \"\"", got)
	}
}

// A later run without pooled evidence carries the run's own interval, the
// one drift computed from the same test as the run's p-value, never one
// rebuilt from D and its clustered SE.
func TestRegressionIntervalIsTheVerdicts(t *testing.T) {
	v := sampleVerdict()
	v.Evidence, v.D, v.SETot, v.CILow, v.CIHigh = nil, -0.6, 0.3, -1, -0.2
	r := NewRegression("faq", "prod", v, nil, t0).Regression
	if r.DeltaLow != -1 || r.DeltaHigh != -0.2 {
		t.Errorf("interval = [%g, %g], want the verdict's [-1, -0.2]", r.DeltaLow, r.DeltaHigh)
	}
}
