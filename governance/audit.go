package governance

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Actions of the audit log.
const (
	ActionSuiteAdopted        = "suite.adopted"         // first sight: thresholds adopted (actor ActorBootstrap)
	ActionSuiteRemoved        = "suite.removed"         // a suite left the config
	ActionSuiteCasesShrunk    = "suite.cases_shrunk"    // a suite file dropped cases
	ActionThresholdsSignedOff = "thresholds.signed_off" // evald signoff
	ActionDriftAccepted       = "drift.accepted"        // evald accept: the baseline re-anchored
	ActionSilenceCreated      = "silence.created"       // evald silence
	ActionSilenceExpired      = "silence.expired"       // a silence ran out
	ActionConfigReloaded      = "config.reloaded"       // SIGHUP or start with a changed config
)

// ActorBootstrap is the actor of what evald does by itself on first sight.
const ActorBootstrap = "bootstrap"

var actions = []string{
	ActionSuiteAdopted, ActionSuiteRemoved, ActionSuiteCasesShrunk, ActionThresholdsSignedOff,
	ActionDriftAccepted, ActionSilenceCreated, ActionSilenceExpired, ActionConfigReloaded,
}

// KnownAction reports whether a is one of the Action constants.
func KnownAction(a string) bool { return slices.Contains(actions, a) }

// GenesisHash is the PrevHash of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// hashDomain opens every entry's hash input, so that an entry hash can never
// equal the hash of some other evald structure.
const hashDomain = "evald.audit.v1"

// Entry is one row of the append-only, hash-chained audit log. Seq counts
// from 1 without gaps; PrevHash is the previous entry's Hash (GenesisHash
// for the first); Hash is the entry's own (see Seal for its encoding).
type Entry struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Payload  json.RawMessage `json:"payload"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Seal returns the entry that follows prev (nil: the first entry): Seq is
// prev's plus one, PrevHash prev's Hash, At is at in UTC truncated to the
// microsecond (what both SQLite text and PostgreSQL timestamptz keep
// exactly), and Payload is payload as canonical JSON: encoding/json's
// encoding re-encoded with object keys sorted, numbers as written and no
// white space. encoding/json's escaping of <, >, & and U+2028/9 is kept,
// so that a payload survives being marshalled again (json.RawMessage is
// re-escaped that way) with the same bytes and the same hash.
//
// Hash is the lowercase hex sha256 of
//
//	lp("evald.audit.v1") || be64(seq) || lp(at) || lp(actor) || lp(action) || lp(payload) || lp(prev_hash)
//
// where be64(x) is x as 8 bytes big-endian (two's complement), lp(x) is
// be64(len(x)) followed by the bytes of x, at is At formatted with
// time.RFC3339Nano in UTC, and prev_hash is the 64 hex characters as text.
// Every variable-length field carries its length, so no two different
// entries share a hash input.
//
// The actor is required (ErrNoActor) and the action must be a known one.
func Seal(prev *Entry, at time.Time, actor, action string, payload any) (Entry, error) {
	if strings.TrimSpace(actor) == "" {
		return Entry{}, ErrNoActor
	}
	if !KnownAction(action) {
		return Entry{}, fmt.Errorf("audit: unknown action %q", action)
	}
	p, err := canonicalJSON(payload)
	if err != nil {
		return Entry{}, fmt.Errorf("audit %s payload: %w", action, err)
	}
	e := Entry{Seq: 1, At: at.UTC().Truncate(time.Microsecond), Actor: actor, Action: action, Payload: p, PrevHash: GenesisHash}
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = e.ComputeHash()
	return e, nil
}

// ComputeHash returns the hash of the entry's contents as Seal defines it,
// whatever its Hash field holds.
func (e Entry) ComputeHash() string {
	var b []byte
	lp := func(s []byte) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	lp([]byte(hashDomain))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	lp([]byte(e.At.UTC().Format(time.RFC3339Nano)))
	lp([]byte(e.Actor))
	lp([]byte(e.Action))
	lp(e.Payload)
	lp([]byte(e.PrevHash))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonicalJSON encodes v as JSON with sorted object keys.
func canonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	return json.Marshal(x)
}

// BrokenError names the first entry at which an audit chain is broken.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit log broken at entry %d: %s", e.Seq, e.Reason)
}

// Verify recomputes the chain of entries, in the order the store keeps them
// (the order they were appended), and returns a *BrokenError for the first
// entry that does not hold:
//
//   - its Hash is not the hash of its contents: the entry was edited;
//   - its Seq is not the previous entry's plus one: entries before it were
//     deleted (a gap), or rows were reordered or duplicated (the missing Seq
//     comes later, or Seq goes back);
//   - its PrevHash is not the previous entry's Hash (GenesisHash for the
//     first): the previous entry was edited and resealed, or rows were
//     deleted, reordered or replaced.
//
// An empty log verifies. Deleting the last entries leaves a valid, shorter
// chain that Verify cannot tell from the rows alone: the store must also
// keep the head (the last Seq and Hash, written with each append) and call
// VerifyHead. Nor can a chain catch someone who rewrites every entry from
// the edited one to the head and the head itself; copying the head hash
// elsewhere (a report, a Slack message) makes that visible too.
func Verify(entries []Entry) error {
	prevSeq, prevHash := int64(0), GenesisHash
	for i, e := range entries {
		if e.ComputeHash() != e.Hash {
			return &BrokenError{Seq: e.Seq, Reason: "edited: its hash does not match its contents"}
		}
		if want := prevSeq + 1; e.Seq != want {
			return &BrokenError{Seq: e.Seq, Reason: seqReason(entries[i+1:], prevSeq, e.Seq)}
		}
		if e.PrevHash != prevHash {
			reason := "prev_hash does not match the genesis hash: it is not the first entry"
			if i > 0 {
				reason = fmt.Sprintf("prev_hash does not match entry %d's hash: entry %d was edited and resealed, or entries were deleted or reordered", prevSeq, prevSeq)
			}
			return &BrokenError{Seq: e.Seq, Reason: reason}
		}
		prevSeq, prevHash = e.Seq, e.Hash
	}
	return nil
}

// seqReason explains why seq cannot follow prevSeq; rest are the entries
// after the one with seq.
func seqReason(rest []Entry, prevSeq, seq int64) string {
	want := prevSeq + 1
	if seq <= prevSeq {
		if prevSeq == 0 {
			return fmt.Sprintf("out of order: sequence numbers start at 1, got %d", seq)
		}
		return fmt.Sprintf("out of order: entry %d follows entry %d (reordered or duplicated)", seq, prevSeq)
	}
	if slices.ContainsFunc(rest, func(e Entry) bool { return e.Seq == want }) {
		return fmt.Sprintf("out of order: entry %d should come next but comes later", want)
	}
	if seq == want+1 {
		return fmt.Sprintf("deleted: entry %d before it is missing", want)
	}
	return fmt.Sprintf("deleted: entries %d to %d before it are missing", want, seq-1)
}

// VerifyHead is Verify, plus the check that the chain ends where the store's
// head says: at entry headSeq with hash headHash (headSeq 0 for an empty
// log, when headHash is not checked). It catches deleted last entries,
// which Verify alone cannot, naming the first missing one.
func VerifyHead(entries []Entry, headSeq int64, headHash string) error {
	if err := Verify(entries); err != nil {
		return err
	}
	last := int64(0)
	if n := len(entries); n > 0 {
		last = entries[n-1].Seq
	}
	switch {
	case last == 0 && headSeq > 0:
		return &BrokenError{Seq: 1, Reason: fmt.Sprintf("deleted: the log is empty but its head is entry %d", headSeq)}
	case last < headSeq && last+1 == headSeq:
		return &BrokenError{Seq: headSeq, Reason: fmt.Sprintf("deleted: the log ends at entry %d but its head is entry %d", last, headSeq)}
	case last < headSeq:
		return &BrokenError{Seq: last + 1, Reason: fmt.Sprintf("deleted: the log ends at entry %d but its head is entry %d (entries %d to %d are missing)", last, headSeq, last+1, headSeq)}
	case last > headSeq:
		return &BrokenError{Seq: headSeq + 1, Reason: fmt.Sprintf("appended outside evald: the head is entry %d but the log goes on to entry %d", headSeq, last)}
	case last > 0 && entries[len(entries)-1].Hash != headHash:
		return &BrokenError{Seq: last, Reason: "replaced: its hash is not the head's hash"}
	}
	return nil
}
