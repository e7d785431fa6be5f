package daemon

import (
	"context"
	"fmt"
	"time"
)

// pingSwitch pings the dead-man's switch (alerts.heartbeat) at once and
// then every alerts.heartbeat.every while the scheduler is healthy (see
// schedulerHealth), until ctx ends. An unhealthy scheduler withholds the
// ping, so the outside switch pages; so does a daemon that is gone.
func (d *Daemon) pingSwitch(ctx context.Context) {
	_, every := d.alerting.beat()
	t := time.NewTicker(every)
	defer t.Stop()
	var last string // the last problem logged: a repeat is not logged again
	for {
		hb, e := d.alerting.beat()
		if e != every { // a reload changed the interval
			every = e
			t.Reset(every)
		}
		if hb != nil {
			result, problem := "sent", ""
			if err := d.schedulerHealth(ctx); err != nil {
				result, problem = "withheld", "scheduler unhealthy; heartbeat withheld: "+err.Error()
			} else {
				pctx, cancel := context.WithTimeout(ctx, every)
				err := hb.Ping(pctx)
				cancel()
				if err != nil {
					result, problem = "failed", "heartbeat ping failed: "+err.Error()
				}
			}
			if ctx.Err() != nil {
				return
			}
			d.metrics.heartbeats.WithLabelValues(result).Inc()
			switch {
			case problem != "" && problem != last:
				d.log.Warn(problem)
			case problem == "" && last != "":
				d.log.Info("heartbeat resumed")
			}
			last = problem
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// schedulerHealth returns why the scheduler is not healthy, or nil: Ready
// (the scheduler runs and its cron loop beat lately, the store answers)
// and the missed-run watch checked within twice its period. Pairs whose
// runs do not complete page on their own (missed_run) and do not stop the
// heartbeat: it speaks for the daemon as a whole.
func (d *Daemon) schedulerHealth(ctx context.Context) error {
	if err := d.Ready(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	late := d.opts.Now().Sub(d.lastWatch)
	d.mu.Unlock()
	if late > 2*d.opts.MissedCheck {
		return fmt.Errorf("the missed-run watch has not checked in %s", roundDur(late))
	}
	return nil
}
