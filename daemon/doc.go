// Package daemon is the application: one pipeline per (suite, target)
// evaluation (governance check, runner, store, drift, alert events), used
// alike by `evald run` and by the cron scheduler of `evald serve`, and the
// daemon's lifecycle (New, Start, Stop).
//
// It composes the lower packages and owns no wire format: no HTTP handlers
// and no SQL text.
package daemon
