// Package scoring owns the assertion types of a suite (one file per type),
// their verdicts on one model output, and the aggregation of assertion results
// into sample, case and run scores.
//
// It is pure: no I/O, no network, no storage. Semantics follow promptfoo's
// documented behaviour for an assertion of the same name.
package scoring
