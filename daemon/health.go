package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// heartbeatEvery is how often the scheduler's own loop records that it
// runs; Ready fails when three beats are missed.
const heartbeatEvery = 10 * time.Second

// DefaultQuickCheckEvery is how often the daemon checks the database's
// structure in the background when Options.QuickCheckEvery is 0.
const DefaultQuickCheckEvery = 6 * time.Hour

// firstQuickCheck bounds the wait before the first background check, so a
// restarted daemon reports on its database soon.
const firstQuickCheck = time.Minute

// heartbeat is the scheduler's liveness: the time of its last beat.
type heartbeat struct{ last atomic.Int64 }

func (h *heartbeat) beat() { h.last.Store(time.Now().UnixNano()) }

// age is how long ago the last beat was (a very long time before the first).
func (h *heartbeat) age() time.Duration {
	last := h.last.Load()
	if last == 0 {
		return time.Duration(1<<63 - 1)
	}
	return time.Since(time.Unix(0, last))
}

// scheduleHeartbeat adds the beat to c and beats once now: the cron loop,
// which starts every scheduled run, proves it is alive by running it.
func (d *Daemon) scheduleHeartbeat(c *cron.Cron) {
	d.heartbeat.beat()
	c.Schedule(cron.Every(heartbeatEvery), cron.FuncJob(d.heartbeat.beat))
}

// Ready reports whether the daemon can do its job, in milliseconds at any
// database size: the scheduler is running and beat recently, the store
// answers a read and commits a small write. The database's structure is
// checked apart, in the background (see DBCheck).
func (d *Daemon) Ready(ctx context.Context) error {
	d.mu.Lock()
	running := d.cron != nil && !d.stoppingLocked()
	d.mu.Unlock()
	if !running {
		return errors.New("scheduler not running")
	}
	if age := d.heartbeat.age(); age > 3*heartbeatEvery {
		return fmt.Errorf("scheduler missed its heartbeat (last beat %s ago)", age.Round(time.Second))
	}
	return d.store.Probe(ctx)
}

// DBCheck is the outcome of the latest background check of the database.
type DBCheck struct {
	// At is when it finished; zero before the first check.
	At   time.Time
	Took time.Duration
	// Err is what the check found ("" when the database is sound).
	Err string
}

// dbChecks holds the latest DBCheck.
type dbChecks struct {
	mu   sync.Mutex
	last DBCheck
}

// DBCheck returns the latest background check of the database (a zero
// At before the first has finished).
func (d *Daemon) DBCheck() DBCheck {
	d.dbChecks.mu.Lock()
	defer d.dbChecks.mu.Unlock()
	return d.dbChecks.last
}

// checkDB runs the store's quick check once and reports it on the
// metrics and through DBCheck. A check cut short by ctx is not reported.
func (d *Daemon) checkDB(ctx context.Context) {
	start := time.Now()
	err := d.store.QuickCheck(ctx)
	if ctx.Err() != nil {
		return
	}
	c := DBCheck{At: d.opts.Now(), Took: time.Since(start)}
	ok := 1.0
	if err != nil {
		c.Err, ok = err.Error(), 0
		d.log.Error("database check failed", "err", err)
	}
	d.metrics.dbCheckOK.Set(ok)
	d.metrics.dbCheckTime.Set(float64(c.At.Unix()))
	d.metrics.dbCheckSeconds.Set(c.Took.Seconds())
	d.dbChecks.mu.Lock()
	d.dbChecks.last = c
	d.dbChecks.mu.Unlock()
}

// checkDBLoop checks the database soon after start, then every
// Options.QuickCheckEvery, until ctx ends.
func (d *Daemon) checkDBLoop(ctx context.Context) {
	every := d.opts.QuickCheckEvery
	t := time.NewTimer(min(firstQuickCheck, every))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.checkDB(ctx)
		t.Reset(every)
	}
}
