package daemon

import (
	"context"
	"errors"
	"time"
)

// StartFailure is why the newest run of a scheduled or triggered pair could
// not start, or could not be recorded. Nothing new is measured while it
// lasts, so the dashboard shows it in place of the last run's verdict,
// which would otherwise read as healthy.
type StartFailure struct {
	At time.Time
	// Reason is the class counted in evald_run_start_failures_total:
	// secret (a key variable is not set), config (an unknown suite, target
	// or judge, an invalid request) or other (the store, most often).
	Reason string
	// Err is the error's text. It names variables, never their values.
	Err string
}

// StartFailure returns the pair's start failure, if its newest run could
// not start; a run that starts clears it.
func (d *Daemon) StartFailure(suite, target string) (StartFailure, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.startFails[runKey{suite, target}]
	return f, ok
}

// clearStartFailure forgets k's start failure: a run of k has started.
func (d *Daemon) clearStartFailure(k runKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.startFails, k)
}

// noteStart records a launched run of k that failed, err being Evaluate's
// (a run that starts clears the pair's failure itself).
func (d *Daemon) noteStart(k runKey, err error) {
	if err == nil || errors.Is(err, context.Canceled) && d.runCtx.Err() != nil {
		return // started, or stopping: the pair did not fail
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	reason := startFailureReason(err)
	d.metrics.startFailures.WithLabelValues(k.suite, k.target, reason).Inc()
	d.startFails[k] = StartFailure{At: d.opts.Now().UTC(), Reason: reason, Err: err.Error()}
	d.log.Error("run failed to start or record", "suite", k.suite, "target", k.target, "reason", reason, "err", err)
}

// startFailureReason is the short class of a run's start failure, for a
// metric label: never the raw error, whose text varies.
func startFailureReason(err error) string {
	switch {
	case errors.Is(err, ErrSecret):
		return "secret"
	case errors.Is(err, ErrUnknown), errors.Is(err, ErrInvalid):
		return "config"
	}
	return "other"
}
