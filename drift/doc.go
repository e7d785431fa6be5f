// Package drift decides whether a completed run of an eval suite shows that
// the model behind a target got worse, as docs/drift.md specifies: segments,
// an anchored reference, paired case-clustered statistics, a one-sided
// likelihood-ratio CUSUM tuned to the smallest drop worth a page, and
// attribution of a change to the provider's identity (model and
// system_fingerprint) when it changed.
//
// It owns the statistics (McNemar, Cochran–Mantel–Haenszel, paired t,
// Wilcoxon, Wilson, Benjamini–Hochberg, CUSUM, power) and the detector's
// state machine. It never does I/O: no SQL, no HTTP, no logging and no
// clock. The daemon calls [Update] after every run, persists the returned
// [State] (plain JSON, O(cases) in size) and acts on the [Verdict]; the
// `evald run` gate calls [Compare].
package drift
