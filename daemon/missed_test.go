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
	mu  sync.Mutex
	got []string
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
	d.alerting.planner.Sinks = append(d.alerting.planner.Sinks, s)
	d.alerting.worker.Sinks = append(d.alerting.worker.Sinks, s)
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
			t.Errorf("notices = %v, want %v", got, want)
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
