package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/pdtest"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

// hangProvider answers "yes", or, while hang is set, holds every request
// until its context ends: an endpoint that hangs past the run deadline.
type hangProvider struct{ hang atomic.Bool }

func (p *hangProvider) Complete(ctx context.Context, _ []evals.Message) (runner.Response, error) {
	if p.hang.Load() {
		<-ctx.Done()
		return runner.Response{}, ctx.Err()
	}
	return runner.Response{Text: "yes", Model: "m-1", PromptTokens: 3, CompletionTokens: 1, FinishReason: "stop"}, nil
}

// recSink records "kind:action" of every notice it is sent.
type recSink struct {
	mu    sync.Mutex
	got   []string
	notes []string // the note of every notice that has one
}

func (s *recSink) Name() string { return "rec" }

func (s *recSink) Send(_ context.Context, d alerts.Delivery) (alerts.Receipt, error) {
	n, err := alerts.DecodeNotice(d.Payload)
	if err != nil {
		return alerts.Receipt{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, string(n.Incident.Kind)+":"+string(n.Action))
	if n.Note != "" {
		s.notes = append(s.notes, n.Note)
	}
	return alerts.Receipt{}, nil
}

// of returns the notices of kind so far.
func (s *recSink) of(kind alerts.Kind) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, g := range s.got {
		if strings.HasPrefix(g, string(kind)+":") {
			out = append(out, g)
		}
	}
	return out
}

// addSink makes d deliver to s as well as to the config's sinks.
func addSink(d *Daemon, s alerts.Sink) {
	d.alerting.mu.Lock()
	sinks := append(d.alerting.planner.Sinks, s)
	d.alerting.planner = &alerts.Planner{Sinks: sinks}
	d.alerting.mu.Unlock()
	d.alerting.worker.SetSinks(sinks)
}

func openMissed(t *testing.T, st *store.Store) (store.Incident, bool) {
	t.Helper()
	in, err := st.OpenIncident(context.Background(), "faq", "prod", string(alerts.KindMissedRun))
	if errors.Is(err, store.ErrNotFound) {
		return in, false
	}
	if err != nil {
		t.Fatalf("OpenIncident: %v", err)
	}
	return in, true
}

// An endpoint that starts hanging past the run deadline: every scheduled
// run still starts, and errors when the suite's timeout ends it, so none
// completes. missed_after (by default twice the hourly interval plus the
// usual duration) after the last completed run, the watch opens one
// missed_run incident through every sink; the next run that completes
// resolves it.
func TestMissedRunOpensAndResolves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		suite := testSuite("faq", 2)
		suite.Timeout = time.Minute
		prov := &hangProvider{}
		proj := testProject([]*evals.Suite{suite}, []string{"prod"}, "@every 1h")
		st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
		if err != nil {
			t.Fatalf("store.Open: %v", err)
		}
		defer st.Close()
		signtest.Project(t, proj)
		d, err := New(Options{
			Project: proj, Store: st, Alerts: true, MissedCheck: time.Minute,
			Runner:      runner.Options{BackoffBase: time.Millisecond, BackoffMax: time.Millisecond},
			NewProvider: func(configs.Target, string) (runner.Provider, error) { return prov, nil },
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		rec := &recSink{}
		addSink(d, rec)
		ctx := context.Background()
		t0 := time.Now()
		if err := d.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		defer d.Stop(ctx) // on failure; Stop is idempotent
		synctest.Wait()   // the first run (the pair never ran) completes at t0
		prov.hang.Store(true)

		// The runs at 1h and 2h hang until their 1m deadline and error.
		time.Sleep(2*time.Hour - time.Second)
		synctest.Wait()
		if in, ok := openMissed(t, st); ok {
			t.Fatalf("missed_run open at %v, before missed_after (2h): %+v", time.Since(t0), in)
		}
		time.Sleep(time.Minute + 2*time.Second) // one check past missed_after
		synctest.Wait()
		in, ok := openMissed(t, st)
		if !ok {
			t.Fatalf("no missed_run incident %v after the last completed run (missed_after 2h)", time.Since(t0))
		}
		if !strings.Contains(string(in.Data), "no run has completed for 2h") {
			t.Errorf("incident = %s, want the time since the last completed run", in.Data)
		}
		if got, want := rec.of(alerts.KindMissedRun), []string{"missed_run:open"}; !slices.Equal(got, want) {
			t.Errorf("notices = %v, want %v", got, want)
		}
		// Checks go on while it stays open: no second page.
		time.Sleep(30 * time.Minute)
		synctest.Wait()
		if got, want := rec.of(alerts.KindMissedRun), []string{"missed_run:open"}; !slices.Equal(got, want) {
			t.Errorf("notices after 30 more checks = %v, want %v", got, want)
		}

		prov.hang.Store(false)
		time.Sleep(30 * time.Minute) // the run at 3h completes
		synctest.Wait()
		if in, ok := openMissed(t, st); ok {
			t.Errorf("missed_run still open after a run completed: %+v", in)
		}
		if got, want := rec.of(alerts.KindMissedRun), []string{"missed_run:open", "missed_run:resolve"}; !slices.Equal(got, want) {
			t.Errorf("notices = %v, want %v; notes %q", got, want, rec.notes)
		}
		if err := d.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	})
}

func TestMissedCause(t *testing.T) {
	at := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	since := at.Add(-3 * time.Hour)
	for _, tc := range []struct {
		name string
		p    watchedPair
		last []store.Run
		want string
	}{
		{"nothing started", watchedPair{}, nil, "no run has started since: the scheduler may be stuck"},
		{"old run only", watchedPair{}, []store.Run{{ID: 4, Status: store.StatusPassed, StartedAt: since.Add(-time.Hour)}}, "no run has started since: the scheduler may be stuck"},
		{"in flight", watchedPair{running: true}, []store.Run{{ID: 5, Status: store.StatusRunning, StartedAt: at.Add(-2 * time.Hour)}}, "run 5 has been in flight since 08:00 UTC"},
		{"errored", watchedPair{}, []store.Run{{ID: 6, Status: store.StatusErrored, StartedAt: at.Add(-time.Hour), ErrorText: "run timed out after 1m0s"}}, "the last attempt, run 6, ended errored: run timed out after 1m0s"},
		{"cannot start", watchedPair{fail: &StartFailure{At: at, Err: "OPENAI_API_KEY is not set"}}, []store.Run{{ID: 6, Status: store.StatusErrored, StartedAt: at.Add(-time.Hour)}}, "its runs cannot start: OPENAI_API_KEY is not set"},
		{"launched, not recorded", watchedPair{running: true}, nil, "a run is in flight but not recorded yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := missedCause(tc.p, tc.last, since); got != tc.want {
				t.Errorf("missedCause = %q, want %q", got, tc.want)
			}
		})
	}
	runs := []store.Run{{DurationMS: 3000}, {DurationMS: 1000}, {DurationMS: 9000}}
	if got, want := usualDuration(runs), 3*time.Second; got != want {
		t.Errorf("usualDuration = %v, want %v (the median)", got, want)
	}
}

// The done-when of the missed run, end to end with PagerDuty: an endpoint
// that hangs past the run deadline stops the pair's runs from completing;
// missed_after later the watch opens a missed_run incident, PagerDuty's
// Events API receives its trigger exactly once (dedup_key = the incident
// id) however often the watch checks, and the next completed run resolves
// it there too.
func TestMissedRunPagesPagerDutyOnce(t *testing.T) {
	const key = "pd-routing-key-0123456789abcdef"
	pd := pdtest.New(t, key)
	suite := testSuite("faq", 2)
	suite.Timeout = 50 * time.Millisecond // the run deadline
	prov := &hangProvider{}
	proj := testProject([]*evals.Suite{suite}, []string{"prod"}, "@every 1h")
	proj.Config.Alerts.PagerDuty = &configs.PagerDutyAlerts{RoutingKeyEnv: "PD_KEY", URL: pd.EnqueueURL(),
		SeverityMap: map[string]string{"missed_run": "error"}} // the errored runs' could_not_measure stays off PagerDuty here
	proj.Config.Server.PublicURL = "https://evald.example.com"
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	defer st.Close()
	signtest.Project(t, proj)
	var mu sync.Mutex
	// The fake clock runs three hours behind the worker's (the system's),
	// so that what the daemon plans is due when the worker looks.
	now := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	t0 := now
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	ran := make(chan *Result, 1)
	d, err := New(Options{
		Project: proj, Store: st, Alerts: true, Getenv: func(k string) string { return map[string]string{"PD_KEY": key}[k] },
		Now:         func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Runner:      runner.Options{BackoffBase: time.Millisecond, BackoffMax: time.Millisecond},
		NewProvider: func(configs.Target, string) (runner.Provider, error) { return prov, nil },
		OnRun:       func(r *Result) { ran <- r },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := context.Background()
	if err := d.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer d.Stop(ctx)
	if r := <-ran; r.Run.Status != store.StatusPassed { // the first run: the pair never ran
		t.Fatalf("first run = %s, want passed", r.Run.Status)
	}
	check := func(at time.Time) int {
		t.Helper()
		setNow(at)
		n := d.checkMissed(ctx)
		if _, err := d.alerting.worker.Drain(ctx); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		return n
	}
	evaluate := func(at time.Time, want store.Status) {
		t.Helper()
		setNow(at)
		res, err := d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerSchedule})
		<-ran
		if err != nil || res.Run.Status != want {
			t.Fatalf("Evaluate at %v = %v, %v; want %s", at.Sub(t0), res.Run.Status, err, want)
		}
	}
	prov.hang.Store(true)
	evaluate(t0.Add(time.Hour), store.StatusErrored)
	evaluate(t0.Add(2*time.Hour-5*time.Minute), store.StatusErrored)
	if n := check(t0.Add(2*time.Hour - time.Minute)); n != 0 || len(pd.Accepted()) != 0 {
		t.Fatalf("before missed_after: %d overdue, PagerDuty got %+v; want none", n, pd.Accepted())
	}
	if n := check(t0.Add(2*time.Hour + time.Minute)); n != 1 {
		t.Fatalf("after missed_after: %d pairs overdue, want 1", n)
	}
	for i := range 5 { // the watch keeps checking; PagerDuty hears once
		check(t0.Add(2*time.Hour + time.Duration(i+2)*time.Minute))
	}
	in, ok := openMissed(t, st)
	if !ok {
		t.Fatal("no open missed_run incident")
	}
	got := pd.Accepted()
	if len(got) != 1 {
		dl, _ := st.PendingDeliveries(ctx)
		t.Fatalf("PagerDuty accepted %d events of %d requests, want 1: %+v; pending %+v", len(got), pd.Requests(), got, dl)
	}
	trig := got[0]
	if trig.EventAction != "trigger" || trig.DedupKey != in.ID || trig.Payload.Class != "missed_run" || trig.Payload.Severity != "error" {
		t.Errorf("event = %s %s %s %s, want a trigger of missed_run, severity error, dedup_key %s",
			trig.EventAction, trig.DedupKey, trig.Payload.Class, trig.Payload.Severity, in.ID)
	}
	if s := trig.Payload.Summary; !strings.Contains(s, "Run missed: faq on prod") || !strings.Contains(s, "ended errored") {
		t.Errorf("summary = %q, want the pair and that its last attempt errored", s)
	}
	if len(trig.Links) != 1 || !strings.HasPrefix(trig.Links[0].Href, "https://evald.example.com/runs/") {
		t.Errorf("links = %+v, want the last attempt on the dashboard", trig.Links)
	}

	prov.hang.Store(false)
	evaluate(t0.Add(2*time.Hour+30*time.Minute), store.StatusPassed)
	check(t0.Add(2*time.Hour + 31*time.Minute))
	if _, ok := openMissed(t, st); ok {
		t.Error("missed_run still open after a run completed")
	}
	got = pd.Accepted()
	if len(got) != 2 || got[1].EventAction != "resolve" || got[1].DedupKey != in.ID {
		t.Fatalf("PagerDuty events = %+v, want the trigger then a resolve of %s", got, in.ID)
	}
}
