// Command drift is the simulation benchmark of the drift package
// (docs/drift.md, "The drift simulation benchmark"). It generates runs of
// a synthetic suite whose truth is known (scenarios S0–S8), drives the real
// drift.Update with them, and checks the nine pass bars: false alarms,
// run-level noise, detection delay, fingerprint changes, gradual drift,
// our own version changes, continuous scores and p-value calibration.
//
// It owns the generator and the harness; it never touches the network,
// a provider, SQL or the daemon.
//
//	go test ./bench/drift/                               # quick subset (CI)
//	go run ./bench/drift -full -out bench/out/drift.md   # full grid, exits 1 if a bar fails
package main
