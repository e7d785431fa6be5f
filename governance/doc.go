// Package governance owns the rules that keep evald's pass bars honest: the
// governed threshold set of a suite and its canonical hash, the diff between
// a signed-off set and a suite file (loosened or tightened, per key), the
// sign-off decision taken when a suite file is seen, silences with an owner,
// a reason and an expiry, and the rules of the hash-chained audit log (how an
// entry is sealed, plain or keyed with an HMAC key, how a chain is verified,
// and the witness of its head kept outside the database).
//
// It is pure: it never opens the store, never talks to Slack or any other
// sink, never logs and never reads the clock; the caller passes the time in.
// The daemon and the command line load and save what this package decides.
package governance
