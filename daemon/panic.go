package daemon

import (
	"github.com/evald/evald/runner"
)

// recovered turns a panic in the caller into *err (a *runner.PanicError):
// deferred by the steps of a run, so that a panic ends that run as errored
// (closeErrored) and the daemon goes on with the others.
func recovered(err *error) {
	if p := recover(); p != nil {
		*err = runner.Recovered(p)
	}
}

// notePanic logs a recovered panic with its stack and counts it.
func (d *Daemon) notePanic(suite, target string, pe *runner.PanicError) {
	d.metrics.panics.WithLabelValues(suite, target).Inc()
	d.log.Error("run panicked; it is stored as errored and the daemon goes on", "suite", suite, "target", target,
		"err", pe.Error(), "stack", string(pe.Stack))
}
