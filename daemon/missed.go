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
	k       runKey
	sched   cron.Schedule
	from    time.Time // when the daemon began to watch it on this schedule
	running bool
	fail    *StartFailure
}

// watchStart is when the watch began to watch a pair, and on which
// schedule: a reload that changes the schedule starts the watch afresh.
type watchStart struct {
	at       time.Time
	schedule string
}

// checkMissed opens a missed_run incident for every scheduled pair whose
// run due at a scheduled firing has not completed within its grace (see
// missed), resolves one whose pair is within it again, and resolves the
// missed_run of a pair no longer scheduled. It returns how many pairs are overdue (a pair it could not check
// counts as overdue: the heartbeat must not vouch for it).
func (d *Daemon) checkMissed(ctx context.Context) (overdue int) {
	if d.alerting == nil {
		return 0
	}
	now := d.opts.Now()
	d.mu.Lock()
	proj := d.project
	var pairs []watchedPair
	scheduled := map[runKey]bool{}
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
			scheduled[k] = true
			p := watchedPair{k: k, sched: sched, from: d.watchFrom[k].at, running: d.running[k]}
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
	if err := d.resolveUnscheduled(ctx, scheduled); err != nil {
		overdue++
		d.log.Error("resolve missed runs of pairs no longer scheduled", "err", err)
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
	d.raise(ctx, p.k.suite, p.k.target, alerts.KindMissedRun, ev, "the pair's due run is within its grace again")
	return ev != nil
}

// lockPair locks k's pair lock and returns its unlock.
func (d *Daemon) lockPair(k runKey) func() {
	m, _ := d.pairLocks.LoadOrStore(k, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// resolveUnscheduled resolves every open missed_run incident whose pair
// is not in scheduled: a reload unscheduled it or removed its suite or
// target, so no run is due any more and nothing else would resolve it.
func (d *Daemon) resolveUnscheduled(ctx context.Context, scheduled map[runKey]bool) error {
	open, err := d.store.Incidents(ctx, true, maxOpenIncidents)
	if err != nil {
		return err
	}
	for _, in := range open {
		if in.Kind != string(alerts.KindMissedRun) || scheduled[runKey{in.Suite, in.Target}] {
			continue
		}
		d.raise(ctx, in.Suite, in.Target, alerts.KindMissedRun, nil, "the pair is no longer scheduled")
	}
	return nil
}

// missed returns the pair's missed_run event at now, or nil when no run is
// overdue (or it skips runs on purpose: its daily budget is spent).
//
// The run that is due is the one of the first scheduled firing after the
// pair's last completed run (or, without one since, after the watch began:
// the daemon's start, or the reload that added the pair or changed its
// schedule). It is overdue when it has not completed by that firing plus
// a grace: alerts.missed_after, or by default the interval from that firing
// to the following one, plus the usual run duration and the scheduler's
// jitter. The deadline follows the schedule's own firings, so a business
// hours or weekdays-only cron is not overdue at night or at the weekend.
func (d *Daemon) missed(ctx context.Context, p watchedPair, missedAfter time.Duration, now time.Time) (*alerts.Event, error) {
	done, err := d.store.LastCompleted(ctx, p.k.suite, p.k.target, usualRuns)
	if err != nil {
		return nil, err
	}
	since, what := p.from, "the watch began (daemon start or reload)"
	if len(done) > 0 && !done[0].FinishedAt.Before(since) {
		since, what = done[0].FinishedAt, fmt.Sprintf("run %d completed", done[0].ID)
	}
	if since.IsZero() {
		return nil, nil
	}
	firing := p.sched.Next(since)
	if firing.IsZero() {
		return nil, nil // the schedule never fires again
	}
	grace, rule := missedAfter, "alerts.missed_after "+roundDur(missedAfter).String()
	if grace <= 0 {
		next := p.sched.Next(firing)
		if next.IsZero() {
			return nil, nil
		}
		usual := usualDuration(done)
		grace = next.Sub(firing) + usual + d.opts.Jitter
		rule = fmt.Sprintf("grace %s: the interval to the next firing plus the usual run duration %s", roundDur(grace), roundDur(usual))
	}
	due := firing.Add(grace)
	if now.Before(due) {
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
		Summary: fmt.Sprintf("no run has completed for %s, since %s at %s; the run scheduled for %s was due by %s (%s); %s",
			roundDur(now.Sub(since)), what, since.UTC().Format("2006-01-02 15:04 UTC"),
			firing.UTC().Format("2006-01-02 15:04 UTC"), due.UTC().Format("2006-01-02 15:04 UTC"), rule, missedCause(p, last, since)),
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
