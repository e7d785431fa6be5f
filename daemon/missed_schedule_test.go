package daemon

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
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

// startWatched starts a serving daemon (missed-run watch every check) on
// one faq suite scheduled on prod with spec, its provider prov, and
// returns it with its store and a sink recording every notice.
func startWatched(t *testing.T, prov runner.Provider, timeout, check time.Duration, spec string) (*Daemon, *store.Store, *recSink, *configs.Project) {
	t.Helper()
	suite := testSuite("faq", 2)
	suite.Timeout = timeout
	proj := testProject([]*evals.Suite{suite}, []string{"prod"}, spec)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	signtest.Project(t, proj)
	d, err := New(Options{
		Project: proj, Store: st, Alerts: true, MissedCheck: check,
		Runner:      runner.Options{BackoffBase: time.Millisecond, BackoffMax: time.Millisecond},
		NewProvider: func(configs.Target, string) (runner.Provider, error) { return prov, nil },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := &recSink{}
	addSink(d, rec)
	if err := d.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return d, st, rec, proj
}

// A healthy pair on a cron whose firings are not evenly spaced (business
// hours; weekdays only) is never missed: the gap after its last firing of
// the day (or the week) is not the gap between its next two firings. The
// synctest clock starts on Saturday 2000-01-01 00:00 UTC.
func TestMissedRunHealthyOnUnevenCron(t *testing.T) {
	for _, tc := range []struct {
		spec string
		span time.Duration
	}{
		{"0 9-17 * * *", 2 * 24 * time.Hour},
		{"0 9 * * 1-5", 4 * 24 * time.Hour}, // Saturday to Tuesday
	} {
		t.Run(tc.spec, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d, st, rec, _ := startWatched(t, &hangProvider{}, time.Minute, 10*time.Minute, tc.spec)
				defer d.Stop(context.Background())
				for range int(tc.span / time.Hour) {
					time.Sleep(time.Hour)
					synctest.Wait()
					if in, ok := openMissed(t, st); ok {
						t.Fatalf("at %v a pair whose runs all complete has missed_run open: %s", time.Now().UTC(), in.Data)
					}
				}
				runs, err := st.Runs(context.Background(), storeFilter(runKey{"faq", "prod"}, 100))
				if err != nil {
					t.Fatal(err)
				}
				if len(runs) < 3 {
					t.Errorf("%d runs in %v, want the schedule's firings", len(runs), tc.span)
				}
				if got := rec.of(alerts.KindMissedRun); len(got) > 0 {
					t.Errorf("missed_run notices %v", got)
				}
			})
		})
	}
}

// On a business-hours cron, the run due at 09:00 that does not complete
// is missed once the next firing (10:00) has passed, not at night.
func TestMissedRunBusinessHoursPagesTheMissedMorning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prov := &hangProvider{}
		d, st, rec, _ := startWatched(t, prov, time.Minute, time.Minute, "0 9-17 * * *")
		defer d.Stop(context.Background())
		time.Sleep(18 * time.Hour) // Saturday's runs to 17:00 complete
		synctest.Wait()
		prov.hang.Store(true)
		time.Sleep(16*time.Hour - time.Minute) // Sunday 09:59: the 09:00 run errored
		synctest.Wait()
		if in, ok := openMissed(t, st); ok {
			t.Fatalf("missed_run open at %v, before the 10:00 firing passed: %s", time.Now().UTC(), in.Data)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		in, ok := openMissed(t, st)
		if !ok {
			t.Fatalf("no missed_run at %v: the 09:00 run never completed", time.Now().UTC())
		}
		if s := string(in.Data); !strings.Contains(s, "the run scheduled for 2000-01-02 09:00 UTC was due by 2000-01-02 10:00 UTC") {
			t.Errorf("incident = %s, want the firing and its deadline", s)
		}
		if got, want := rec.of(alerts.KindMissedRun), []string{"missed_run:open"}; !slices.Equal(got, want) {
			t.Errorf("notices = %v, want %v", got, want)
		}
	})
}

// alerts.missed_after is the grace after each scheduled firing, so on a
// business-hours cron it pages missed_after past the 09:00 firing.
func TestMissedRunMissedAfterCountsFromTheFiring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prov := &hangProvider{}
		suite := testSuite("faq", 2)
		suite.Timeout = time.Minute
		proj := testProject([]*evals.Suite{suite}, []string{"prod"}, "0 9-17 * * *")
		proj.Config.Alerts.MissedAfter = 30 * time.Minute
		st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		signtest.Project(t, proj)
		d, err := New(Options{
			Project: proj, Store: st, Alerts: true, MissedCheck: time.Minute,
			Runner:      runner.Options{BackoffBase: time.Millisecond, BackoffMax: time.Millisecond},
			NewProvider: func(configs.Target, string) (runner.Provider, error) { return prov, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer d.Stop(context.Background())
		time.Sleep(18 * time.Hour)
		synctest.Wait()
		prov.hang.Store(true)
		time.Sleep(15*time.Hour + 29*time.Minute) // Sunday 09:29
		synctest.Wait()
		if in, ok := openMissed(t, st); ok {
			t.Fatalf("missed_run open at %v, within missed_after of the 09:00 firing: %s", time.Now().UTC(), in.Data)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		in, ok := openMissed(t, st)
		if !ok {
			t.Fatalf("no missed_run at %v, past missed_after (30m) of the 09:00 firing", time.Now().UTC())
		}
		if s := string(in.Data); !strings.Contains(s, "was due by 2000-01-02 09:30 UTC (alerts.missed_after 30m0s)") {
			t.Errorf("incident = %s, want the deadline from missed_after", s)
		}
	})
}

// slowProvider answers "yes" after d (on the synctest bubble's clock).
type slowProvider struct{ d atomic.Int64 }

func (p *slowProvider) Complete(ctx context.Context, _ []evals.Message) (runner.Response, error) {
	select {
	case <-time.After(time.Duration(p.d.Load())):
	case <-ctx.Done():
		return runner.Response{}, ctx.Err()
	}
	return runner.Response{Text: "yes", Model: "m-1", PromptTokens: 3, CompletionTokens: 1, FinishReason: "stop"}, nil
}

// A reload that tightens a pair's schedule (daily to every 5 minutes) is
// measured from the reload, not from the last run the daily schedule
// spaced: the catch-up run in flight is not missed. One that never
// completes still is, once the new schedule's second firing has passed.
func TestMissedRunAfterReloadToTighterSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prov := &slowProvider{}
		d, st, _, proj := startWatched(t, prov, 30*time.Minute, time.Minute, "@every 24h")
		defer d.Stop(context.Background())
		synctest.Wait()
		time.Sleep(20 * time.Hour)
		synctest.Wait()
		prov.d.Store(int64(3 * time.Minute)) // the catch-up run takes a few minutes
		p2 := testProject(proj.Suites, []string{"prod"}, "@every 5m")
		p2.Record = proj.Record
		if err := d.Reload(context.Background(), p2); err != nil {
			t.Fatalf("Reload: %v", err)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if in, ok := openMissed(t, st); ok {
			t.Fatalf("2 minutes after the reload, its catch-up run in flight: missed_run open: %s", in.Data)
		}
		prov.d.Store(int64(time.Hour)) // now every run hangs until the suite's 30m timeout
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if _, ok := openMissed(t, st); !ok {
			t.Errorf("no missed_run 2h after the last run completed on a 5m schedule")
		}
	})
}

// A missed pair that a reload unschedules has no run due any more: its
// missed_run incident resolves at the reload (and PagerDuty with it), and
// stays resolved.
func TestMissedRunResolvesWhenUnscheduled(t *testing.T) {
	for _, tc := range []struct {
		name string
		p2   func(*configs.Project) *configs.Project
	}{
		{"schedule removed", func(p *configs.Project) *configs.Project {
			return testProject([]*evals.Suite{testSuite("faq", 2)}, []string{"prod"}, "")
		}},
		{"target removed", func(p *configs.Project) *configs.Project {
			return testProject([]*evals.Suite{testSuite("faq", 2)}, []string{"staging"}, "@every 1h")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				prov := &hangProvider{}
				d, st, rec, proj := startWatched(t, prov, time.Minute, time.Minute, "@every 1h")
				defer d.Stop(context.Background())
				synctest.Wait()
				prov.hang.Store(true)
				time.Sleep(2*time.Hour + 2*time.Minute)
				synctest.Wait()
				if _, ok := openMissed(t, st); !ok {
					t.Fatal("no missed_run for a pair whose runs hang")
				}
				p2 := tc.p2(proj)
				p2.Record = proj.Record
				if err := d.Reload(context.Background(), p2); err != nil {
					t.Fatalf("Reload: %v", err)
				}
				addSink(d, rec) // the reload put the config's sinks in force
				synctest.Wait()
				if in, ok := openMissed(t, st); ok {
					t.Fatalf("missed_run still open after the reload unscheduled the pair (opened %v)", in.OpenedAt)
				}
				time.Sleep(48 * time.Hour)
				synctest.Wait()
				if _, ok := openMissed(t, st); ok {
					t.Errorf("missed_run of faq on prod open again 48h after the pair was unscheduled")
				}
				rec.mu.Lock()
				notes := slices.Clone(rec.notes)
				rec.mu.Unlock()
				if !slices.Contains(notes, "the pair is no longer scheduled") {
					t.Errorf("notice notes = %q, want the resolution's reason", notes)
				}
				if got := rec.of(alerts.KindMissedRun); !slices.Contains(got, "missed_run:resolve") {
					t.Errorf("notices = %v, want the resolution sent", got)
				}
			})
		})
	}
}
