package daemon

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/evald/evald/runner"
)

type runKey struct{ suite, target string }

// ErrBusy is returned when the (suite, target) pair already has a run in flight.
var ErrBusy = errors.New("a run of this suite on this target is in flight")

// ErrStopped is returned once Stop has begun.
var ErrStopped = errors.New("daemon is stopping")

// Start marks runs a crash left behind as interrupted, schedules every
// (suite, target) pair of the config on its cron spec, and starts one run at
// once for each pair whose schedule fired since its last run started (no
// catch-up storm: one run, then the schedule).
func (d *Daemon) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cron != nil {
		return errors.New("daemon: already started")
	}
	var spare []string
	if d.opts.LiveCIRuns {
		spare = append(spare, TriggerCI)
	}
	n, err := d.store.InterruptRunning(ctx, "evald stopped before the run finished", spare...)
	if err != nil {
		return fmt.Errorf("recover runs left running: %w", err)
	}
	if n > 0 {
		d.log.Warn("marked runs left running by a previous process as interrupted", "runs", n)
	}
	if err := d.watch(ctx, "evald serve"); err != nil {
		return err
	}
	d.noteRecord(d.project)
	c := cron.New(cron.WithLocation(time.UTC))
	due, entries, err := d.scheduleLocked(ctx, c)
	if err != nil {
		return err
	}
	d.cron, d.entries = c, entries
	if d.alerting != nil {
		d.bg.Go(func() { d.alerting.worker.Run(d.bgCtx) })
		d.bg.Go(func() { d.watchMissed(d.bgCtx) })
		d.lastWatch = d.opts.Now()
		d.bg.Go(func() { d.pingSwitch(d.bgCtx) })
	}
	if d.opts.QuickCheckEvery > 0 {
		d.bg.Go(func() { d.checkDBLoop(d.bgCtx) })
	}
	d.bg.Go(func() { d.retainLoop(d.bgCtx) })
	c.Start()
	for _, k := range due {
		d.launchLocked(k, TriggerSchedule)
	}
	return nil
}

// scheduleLocked adds the config's pairs to c and returns those due now,
// and the cron entry of each pair.
func (d *Daemon) scheduleLocked(ctx context.Context, c *cron.Cron) ([]runKey, map[runKey]cron.EntryID, error) {
	var due []runKey
	entries := map[runKey]cron.EntryID{}
	d.scheduleHeartbeat(c)
	now := d.opts.Now()
	watch := map[runKey]watchStart{}
	for i, ref := range d.project.Config.Suites {
		if ref.Schedule == "" {
			continue
		}
		sched, err := cron.ParseStandard(ref.Schedule)
		if err != nil {
			return nil, nil, fmt.Errorf("suite %s: schedule %q: %w", ref.File, ref.Schedule, err)
		}
		suite := d.project.Suites[i]
		for _, target := range ref.Targets {
			k := runKey{suite.Name, target}
			entries[k] = c.Schedule(sched, cron.FuncJob(func() { d.tick(k) }))
			// A pair keeps its watch across a reload only on the same
			// schedule: a new or changed one is measured from now, not
			// from a last run the old schedule spaced.
			if w, ok := d.watchFrom[k]; ok && w.schedule == ref.Schedule {
				watch[k] = w
			} else {
				watch[k] = watchStart{at: now, schedule: ref.Schedule}
			}
			last, ok, err := d.lastStart(ctx, k)
			if err != nil {
				return nil, nil, err
			}
			// Due when a firing passed since the last run started.
			if !ok || !sched.Next(last).After(now) {
				due = append(due, k)
			}
		}
	}
	d.watchFrom = watch
	return due, entries, nil
}

// interval is the gap between a schedule's next two activations.
func interval(s cron.Schedule, now time.Time) time.Duration {
	next := s.Next(now)
	return s.Next(next).Sub(next)
}

// lastStart returns when the pair's last production run started. The arms
// of a CI gate (`evald run --prompt/--model/--baseline`, or through
// --server) are stored with the pair but measured something else, so they
// do not stand in for a scheduled run.
func (d *Daemon) lastStart(ctx context.Context, k runKey) (time.Time, bool, error) {
	f := storeFilter(k, 1)
	f.Production = true
	runs, err := d.store.Runs(ctx, f)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last run of %s on %s: %w", k.suite, k.target, err)
	}
	if len(runs) == 0 {
		return time.Time{}, false, nil
	}
	return runs[0].StartedAt, true, nil
}

// tick is the cron job of one pair.
func (d *Daemon) tick(k runKey) {
	start := time.Now()
	d.mu.Lock()
	d.launchLocked(k, TriggerSchedule)
	d.mu.Unlock()
	d.metrics.schedulerTick.Observe(time.Since(start).Seconds())
}

// Trigger starts a run of suite on target now, in the background, unless
// one is in flight. It returns at once.
func (d *Daemon) Trigger(suite, target, trigger string) error {
	if _, _, err := d.suiteAndTarget(suite, target); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stoppingLocked() {
		return ErrStopped
	}
	if d.running[runKey{suite, target}] {
		return ErrBusy
	}
	d.launchLocked(runKey{suite, target}, trigger)
	return nil
}

// launchLocked starts a run of k unless one is in flight (a skipped tick is
// counted, never stacked).
func (d *Daemon) launchLocked(k runKey, trigger string) {
	if d.stoppingLocked() {
		return
	}
	if d.running[k] {
		d.metrics.skipped.WithLabelValues(k.suite, k.target, "still_running").Inc()
		d.log.Warn("previous run still in flight; tick skipped", "suite", k.suite, "target", k.target)
		return
	}
	d.running[k] = true
	d.metrics.inFlight.Inc()
	d.runs.Go(func() {
		defer func() {
			if p := recover(); p != nil {
				// Outside a run's own steps (which store it as errored):
				// counted and logged, and the scheduler goes on.
				d.notePanic(k.suite, k.target, runner.Recovered(p))
			}
			d.mu.Lock()
			delete(d.running, k)
			d.mu.Unlock()
			d.metrics.inFlight.Dec()
		}()
		if trigger == TriggerSchedule && d.opts.Jitter > 0 {
			if !d.waitJitter(jitterFor(k, d.opts.Jitter)) {
				return
			}
		}
		if trigger == TriggerSchedule && d.overBudget(k) {
			return
		}
		_, err := d.Evaluate(d.runCtx, Request{Suite: k.suite, Target: k.target, Trigger: trigger})
		d.noteStart(k, err)
	})
}

// jitterFor is a fixed offset per pair, so a pair's runs stay evenly spaced.
func jitterFor(k runKey, max time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(k.suite + "\x00" + k.target))
	return time.Duration(h.Sum64() % uint64(max))
}

// waitJitter waits out a scheduled run's jitter; it reports false when Stop
// began meanwhile, so no run starts after the scheduler stopped.
func (d *Daemon) waitJitter(j time.Duration) bool {
	t := time.NewTimer(j)
	defer t.Stop()
	select {
	case <-t.C:
	case <-d.stopping:
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.stoppingLocked()
}

// stoppingLocked reports whether Stop has begun; d.mu is held.
func (d *Daemon) stoppingLocked() bool {
	select {
	case <-d.stopping:
		return true
	default:
		return false
	}
}

// Stop stops scheduling, lets runs in flight finish for the grace period,
// then cancels them (they are stored as interrupted) and waits for them to
// be recorded, or for ctx. It is safe to call more than once.
func (d *Daemon) Stop(ctx context.Context) error {
	d.stopOnce.Do(func() {
		d.mu.Lock()
		close(d.stopping)
		c := d.cron
		d.mu.Unlock()
		if c != nil {
			<-c.Stop().Done() // our jobs only launch goroutines; this returns at once
		}
		done := make(chan struct{})
		go func() {
			d.runs.Wait()
			close(done)
		}()
		grace := time.NewTimer(d.opts.Grace)
		defer grace.Stop()
		select {
		case <-done:
		case <-grace.C:
			d.log.Warn("grace period over; interrupting runs in flight")
		case <-ctx.Done():
		}
		d.cancelRuns()
		select {
		case <-done:
		case <-ctx.Done():
			d.stopErr = fmt.Errorf("stop: runs still recording: %w", ctx.Err())
		}
		// The alert worker goes last, after the runs queued their alerts:
		// it delivers them for up to AlertGrace; what it has not sent
		// stays in the outbox for the next start.
		if d.alerting != nil {
			if err := d.alerting.worker.Flush(ctx, d.opts.AlertGrace); err != nil {
				d.log.Warn("alerts left in the outbox for the next start", "err", err)
			}
		}
		d.stopTelemetry(ctx)
		d.cancelBg()
		bgDone := make(chan struct{})
		go func() {
			d.bg.Wait()
			close(bgDone)
		}()
		select {
		case <-bgDone:
		case <-ctx.Done():
		}
	})
	return d.stopErr
}

// NextRun is when the scheduler next starts suite on target (zero when the
// pair is not scheduled or the daemon is not running).
func (d *Daemon) NextRun(suite, target string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	id, ok := d.entries[runKey{suite, target}]
	if !ok || d.cron == nil || d.stoppingLocked() {
		return time.Time{}
	}
	return d.cron.Entry(id).Next
}
