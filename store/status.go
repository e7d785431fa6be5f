package store

import "slices"

// Status is a run's status, as stored and printed.
type Status string

// Run statuses. A run starts running and ends once, with one of the others.
const (
	StatusRunning     Status = "running"
	StatusPassed      Status = "passed"
	StatusFailed      Status = "failed"
	StatusRegressed   Status = "regressed"
	StatusErrored     Status = "errored"
	StatusInterrupted Status = "interrupted"
	StatusRefused     Status = "refused"
)

// Final reports whether s is a status a run ends with: any but running
// (and the empty status, which is none).
func (s Status) Final() bool { return s != "" && s != StatusRunning }

// Completed reports whether a run of status s completed and was judged
// (passed, failed or regressed): an errored, interrupted, refused or
// running run measured too little to stand for what it ran.
func (s Status) Completed() bool {
	return s == StatusPassed || s == StatusFailed || s == StatusRegressed
}

// Severity orders statuses by how much a run of status s needs attention:
// regressed before failed before errored before interrupted before refused
// before passed; running (and an unknown status) is 0.
func (s Status) Severity() int { return slices.Index(bySeverity, s) + 1 }

// bySeverity lists the final statuses from the least to the most in need
// of attention.
var bySeverity = []Status{StatusPassed, StatusRefused, StatusInterrupted, StatusErrored, StatusFailed, StatusRegressed}

// Role is what a run measured, fixed when it is created.
type Role string

// Run roles.
const (
	// RoleProduction measures production as configured: only such runs
	// feed the drift detector and serve as baselines.
	RoleProduction Role = "production"
	// RoleCandidate is a CI gate's candidate prompt or model.
	RoleCandidate Role = "candidate"
	// RoleReference is production's side of a side-by-side gate comparison,
	// run by CI: it measured production, but only to compare with.
	RoleReference Role = "reference"
)
