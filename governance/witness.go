package governance

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// WitnessFormat names the witness file's format.
const WitnessFormat = "evald.audit-head.v1"

// Witness is the audit log's head as written outside the database, beside
// it, at every append: the last entry's Seq, Hash and At, the chain's mode
// and, for a keyed chain, a MAC over all of them under the chain's key.
type Witness struct {
	Format string    `json:"format"`
	Seq    int64     `json:"seq"`
	Hash   string    `json:"hash"`
	At     time.Time `json:"at"`
	Mode   string    `json:"mode"`
	MAC    string    `json:"mac,omitempty"`
}

// Witness returns the witness of e, the chain's new last entry.
func (c Chain) Witness(e Entry) Witness {
	w := Witness{Format: WitnessFormat, Seq: e.Seq, Hash: e.Hash, At: e.At.UTC(), Mode: c.Mode()}
	if c.Keyed() {
		w.MAC = w.mac(c.key)
	}
	return w
}

// mac is the HMAC-SHA256 under key of
//
//	lp("evald.audit-head.v1") || be64(seq) || lp(hash) || lp(at) || lp(mode)
//
// with lp and be64 as in Seal.
func (w Witness) mac(key []byte) string {
	var b []byte
	lp := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	lp(WitnessFormat)
	b = binary.BigEndian.AppendUint64(b, uint64(w.Seq))
	lp(w.Hash)
	lp(w.At.UTC().Format(time.RFC3339Nano))
	lp(w.Mode)
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

func (w Witness) checkMAC(key []byte) bool {
	return hmac.Equal([]byte(w.MAC), []byte(w.mac(key)))
}

// Marshal encodes the witness as one line of JSON.
func (w Witness) Marshal() []byte {
	b, _ := json.Marshal(w) // a struct of strings, numbers and a time: cannot fail
	return append(b, '\n')
}

// ParseWitness decodes a witness file's contents.
func ParseWitness(b []byte) (Witness, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w Witness
	if err := dec.Decode(&w); err != nil {
		return Witness{}, fmt.Errorf("witness: %w", err)
	}
	switch {
	case w.Format != WitnessFormat:
		return Witness{}, fmt.Errorf("witness: format %q, want %q", w.Format, WitnessFormat)
	case w.Mode != ModePlain && w.Mode != ModeKeyed:
		return Witness{}, fmt.Errorf("witness: unknown mode %q", w.Mode)
	}
	return w, nil
}

// ErrBehindWitness is wrapped by CheckAppend's error: the database is
// behind (or beside) its witness, and appending would hide that.
var ErrBehindWitness = errors.New("the audit log is behind its witness")

// CheckAppend says whether an entry may follow prev (nil: the log is
// empty) given the witness last written (nil: none). It refuses when the
// witness recorded a later entry than prev, or another hash for prev's
// seq: the database was rolled back, wiped or rewritten, and a new witness
// would bless that. A missing witness does not refuse (a new database, or
// one older than witnesses); the append writes the first one.
func CheckAppend(prev *Entry, w *Witness) error {
	if w == nil {
		return nil
	}
	last, hash := int64(0), ""
	if prev != nil {
		last, hash = prev.Seq, prev.Hash
	}
	switch {
	case w.Seq > last:
		return fmt.Errorf("%w: it ends at entry %d, the witness recorded entry %d (run evald audit verify)", ErrBehindWitness, last, w.Seq)
	case w.Seq == last && w.Hash != hash:
		return fmt.Errorf("%w: entry %d's hash is not the one the witness recorded (run evald audit verify)", ErrBehindWitness, last)
	}
	return nil
}
