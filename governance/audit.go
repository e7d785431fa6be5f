package governance

import (
	"bytes"
	"crypto/hmac"
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
	ActionSuiteAdopted        = "suite.adopted"         // first sight: thresholds adopted (actor ActorBootstrap); no longer written
	ActionSuiteRemoved        = "suite.removed"         // a suite left the config
	ActionSuiteCasesShrunk    = "suite.cases_shrunk"    // a suite file dropped cases
	ActionSuiteTightened      = "suite.tightened"       // a suite's files tighten its signed-off set (actor ActorFiles)
	ActionThresholdsSignedOff = "thresholds.signed_off" // evald signoff
	ActionDriftAccepted       = "drift.accepted"        // evald accept: the baseline re-anchored
	ActionSilenceCreated      = "silence.created"       // evald silence
	ActionSilenceExpired      = "silence.expired"       // a silence ran out
	ActionConfigReloaded      = "config.reloaded"       // SIGHUP or start with a changed config
)

// ActorBootstrap is the actor of what evald did by itself on first sight
// (suite.adopted, in logs written before sign-offs moved to the record).
const ActorBootstrap = "bootstrap"

// ActorFiles is the actor of a change the suite files make by themselves
// (suite.tightened): whoever edited them is in version control.
const ActorFiles = "suite files"

var actions = []string{
	ActionSuiteAdopted, ActionSuiteRemoved, ActionSuiteCasesShrunk, ActionSuiteTightened, ActionThresholdsSignedOff,
	ActionDriftAccepted, ActionSilenceCreated, ActionSilenceExpired, ActionConfigReloaded,
}

// KnownAction reports whether a is one of the Action constants.
func KnownAction(a string) bool { return slices.Contains(actions, a) }

// GenesisHash is the PrevHash of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// hashDomain opens every entry's hash input, so that an entry hash can never
// equal the hash of some other evald structure.
const hashDomain = "evald.audit.v1"

// macDomain opens a keyed entry's HMAC input: a keyed hash and a plain one
// are never computed over the same bytes.
const macDomain = "evald.audit.hmac.v1"

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

// Seal returns the entry that follows prev (nil: the first entry) in a
// plain chain: Chain{}.Seal. See [Chain.Seal].
func Seal(prev *Entry, at time.Time, actor, action string, payload any) (Entry, error) {
	return Chain{}.Seal(prev, at, actor, action, payload)
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
// In a plain chain Hash is the lowercase hex sha256 of
//
//	lp("evald.audit.v1") || be64(seq) || lp(at) || lp(actor) || lp(action) || lp(payload) || lp(prev_hash)
//
// where be64(x) is x as 8 bytes big-endian (two's complement), lp(x) is
// be64(len(x)) followed by the bytes of x, at is At formatted with
// time.RFC3339Nano in UTC, and prev_hash is the 64 hex characters as text.
// Every variable-length field carries its length, so no two different
// entries share a hash input. In a keyed chain Hash is the lowercase hex
// HMAC-SHA256, under the chain's key, of the same encoding with the domain
// "evald.audit.hmac.v1" in place of "evald.audit.v1" (see ComputeMAC).
//
// A plain chain cannot follow a keyed entry: when prev is not a sound
// plain entry (it is keyed, or was edited) a plain Seal fails wrapping
// ErrKeyed, so that a process without the key never appends entries that
// anyone could forge after ones that only the key's holders can make.
//
// The actor is required (ErrNoActor) and the action must be a known one.
func (c Chain) Seal(prev *Entry, at time.Time, actor, action string, payload any) (Entry, error) {
	if strings.TrimSpace(actor) == "" {
		return Entry{}, ErrNoActor
	}
	if !KnownAction(action) {
		return Entry{}, fmt.Errorf("audit: unknown action %q", action)
	}
	if !c.Keyed() && prev != nil && prev.ComputeHash() != prev.Hash {
		return Entry{}, fmt.Errorf("%w: entry %d does not match its plain sha256 hash (it is keyed, or was edited)", ErrKeyed, prev.Seq)
	}
	p, err := canonicalJSON(payload)
	if err != nil {
		return Entry{}, fmt.Errorf("audit %s payload: %w", action, err)
	}
	e := Entry{Seq: 1, At: at.UTC().Truncate(time.Microsecond), Actor: actor, Action: action, Payload: p, PrevHash: GenesisHash}
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = c.hash(e)
	return e, nil
}

// ComputeHash returns the plain sha256 hash of the entry's contents as Seal
// defines it, whatever its Hash field holds.
func (e Entry) ComputeHash() string {
	sum := sha256.Sum256(e.encode(hashDomain))
	return hex.EncodeToString(sum[:])
}

// ComputeMAC returns the keyed hash (HMAC-SHA256 under key) of the entry's
// contents as Seal defines it, whatever its Hash field holds.
func (e Entry) ComputeMAC(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(e.encode(macDomain))
	return hex.EncodeToString(m.Sum(nil))
}

// encode is the hash input of the entry under domain.
func (e Entry) encode(domain string) []byte {
	var b []byte
	lp := func(s []byte) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	lp([]byte(domain))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	lp([]byte(e.At.UTC().Format(time.RFC3339Nano)))
	lp([]byte(e.Actor))
	lp([]byte(e.Action))
	lp(e.Payload)
	lp([]byte(e.PrevHash))
	return b
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
