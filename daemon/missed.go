package daemon

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/store"
)

// DefaultMissedCheck is how often the missed-run watch looks at every
// scheduled pair (Options.MissedCheck).
const DefaultMissedCheck = time.Minute

// usualRuns is how many completed runs a pair's usual duration is the
// median of.
const usualRuns = 5

// watchMissed checks every scheduled pair at once and then every
// Options.MissedCheck until ctx ends. It runs apart from the scheduler and
// the runs, so that a stuck scheduler, a run that hangs or a pair that
// cannot start is still noticed.
func (d *Daemon) watchMissed(ctx context.Context) {
	t := time.NewTicker(d.opts.MissedCheck)
	defer t.Stop()
	for {
		d.checkMissed(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watchedPair is a scheduled pair as checkMissed sees it.
type watchedPair struct {
	k        runKey
	interval time.Duration
	from     time.Time // when the daemon began to watch it
	running  bool
	fail     *StartFailure
}

// checkMissed opens a missed_run incident for every scheduled pair whose
// last completed run (or, without one since, the start of the watch) is
// older than its missed_after, and resolves one whose pair is within it
// again. It returns how many pairs are overdue (a pair it could not check
// counts as overdue: the heartbeat must not vouch for it).
func (d *Daemon) checkMissed(ctx context.Context) (overdue int) {
	if d.alerting == nil {
		return 0
	}
	now := d.opts.Now()
	d.mu.Lock()
	proj := d.project
	var pairs []watchedPair
	for i, ref := range proj.Config.Suites {
		if ref.Schedule == "" {
			continue
		}
		sched, err := cron.ParseStandard(ref.Schedule)
		if err != nil {
			continue // Start and Reload refuse it
		}
		for _, target := range ref.Targets {
			k := runKey{proj.Suites[i].Name, target}
			p := watchedPair{k: k, interval: interval(sched, now), from: d.watchFrom[k], running: d.running[k]}
			if f, ok := d.startFails[k]; ok {
				p.fail = &f
			}
			pairs = append(pairs, p)
		}
	}
	d.mu.Unlock()
	for _, p := range pairs {
		if ctx.Err() != nil {
			return overdue
		}
		if d.checkPair(ctx, p, proj.Config.Alerts.MissedAfter, now) {
			overdue++
		}
	}
	d.mu.Lock()
	d.lastWatch = d.opts.Now()
	d.mu.Unlock()
	return overdue
}

// checkPair decides the pair's missed_run and reports whether it is
// overdue (or could not be checked). It holds the pair's lock, as a
// production run does while it records its verdict and alerts, so that a
// run completing meanwhile is either seen or resolves what this opens.
func (d *Daemon) checkPair(ctx context.Context, p watchedPair, missedAfter time.Duration, now time.Time) bool {
	defer d.lockPair(p.k)()
	ev, err := d.missed(ctx, p, missedAfter, now)
	if err != nil {
		d.log.Error("check for missed runs", "suite", p.k.suite, "target", p.k.target, "err", err)
		return true
	}
	d.raise(ctx, p.k.suite, p.k.target, alerts.KindMissedRun, ev, "the pair is within alerts.missed_after again")
	return ev != nil
}

// lockPair locks k's pair lock and returns its unlock.
func (d *Daemon) lockPair(k runKey) func() {
	m, _ := d.pairLocks.LoadOrStore(k, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// missed returns the pair's missed_run event at now, or nil when its last
// completed run is recent enough (or it skips runs on purpose: its daily
// budget is spent).
func (d *Daemon) missed(ctx context.Context, p watchedPair, missedAfter time.Duration, now time.Time) (*alerts.Event, error) {
	done, err := d.store.LastCompleted(ctx, p.k.suite, p.k.target, usualRuns)
	if err != nil {
		return nil, err
	}
	since, what := p.from, "the watch began (daemon start or reload)"
	if len(done) > 0 && !done[0].FinishedAt.Before(since) {
		since, what = done[0].FinishedAt, fmt.Sprintf("run %d completed", done[0].ID)
	}
	limit := missedAfter
	if limit <= 0 {
		limit = 2*p.interval + usualDuration(done)
	}
	if since.IsZero() || now.Sub(since) < limit {
		return nil, nil
	}
	if budget, err := d.openIncident(ctx, p.k.suite, p.k.target, alerts.KindBudgetExhausted); err != nil {
		return nil, err
	} else if budget != nil {
		return nil, nil
	}
	f := storeFilter(p.k, 1)
	f.Production = true
	last, err := d.store.Runs(ctx, f)
	if err != nil {
		return nil, err
	}
	ev := &alerts.Event{
		Kind: alerts.KindMissedRun, Suite: p.k.suite, Target: p.k.target, At: now,
		Summary: fmt.Sprintf("no run has completed for %s, since %s at %s (alerts.missed_after %s); %s",
			roundDur(now.Sub(since)), what, since.UTC().Format("2006-01-02 15:04 UTC"), roundDur(limit), missedCause(p, last, since)),
	}
	if len(last) > 0 {
		ev.RunID, ev.RunURL = last[0].ID, d.alerting.runURL(last[0].ID)
	}
	ev.Summary = d.redactKeys(ev.Summary)
	return ev, nil
}

// missedCause says what the pair is doing instead of completing runs.
func missedCause(p watchedPair, last []store.Run, since time.Time) string {
	var r *store.Run
	if len(last) > 0 {
		r = &last[0]
	}
	switch {
	case p.fail != nil && (r == nil || !p.fail.At.Before(r.StartedAt)):
		return "its runs cannot start: " + p.fail.Err
	case r != nil && r.Status == store.StatusRunning:
		return fmt.Sprintf("run %d has been in flight since %s", r.ID, r.StartedAt.UTC().Format("15:04 UTC"))
	case r != nil && r.StartedAt.After(since):
		cause := fmt.Sprintf("the last attempt, run %d, ended %s", r.ID, r.Status)
		if r.ErrorText != "" {
			cause += ": " + alerts.Truncate(r.ErrorText, 300)
		}
		return cause
	case p.running:
		return "a run is in flight but not recorded yet"
	}
	return "no run has started since: the scheduler may be stuck"
}

// usualDuration is the median duration of completed runs (0: none).
func usualDuration(runs []store.Run) time.Duration {
	var ds []time.Duration
	for _, r := range runs {
		d := time.Duration(r.DurationMS) * time.Millisecond
		if d <= 0 && !r.FinishedAt.IsZero() {
			d = r.FinishedAt.Sub(r.StartedAt)
		}
		ds = append(ds, max(d, 0))
	}
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func roundDur(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}
