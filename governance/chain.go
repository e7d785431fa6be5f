package governance

import (
	"errors"
	"fmt"
	"slices"
)

// Modes of an audit chain, as `evald audit verify` and the witness name them.
const (
	ModePlain = "sha256"      // anyone can recompute an entry's hash
	ModeKeyed = "hmac-sha256" // only the key's holders can
)

// ErrKeyed is wrapped by a plain Seal refused because the chain's last entry
// is not plain: the chain is keyed, and appending needs its key.
var ErrKeyed = errors.New("the audit log is keyed: appending needs its key (governance.audit_key_env)")

// Chain holds the rules of one audit chain: plain (the zero value: every
// Hash is a sha256 anyone can recompute) or keyed (every new entry's Hash is
// an HMAC-SHA256 under a secret key, so that rewriting the chain needs the
// key). A chain may switch from plain to keyed once, at its first keyed
// entry; it never switches back (see Verify). The key is never printed:
// String and LogValue name the mode only.
type Chain struct {
	key []byte
}

// NewChain returns a keyed chain for a non-empty key, a plain one for an
// empty key.
func NewChain(key []byte) Chain {
	if len(key) == 0 {
		return Chain{}
	}
	return Chain{key: slices.Clone(key)}
}

// Keyed reports whether the chain has a key.
func (c Chain) Keyed() bool { return len(c.key) > 0 }

// Mode is ModeKeyed or ModePlain.
func (c Chain) Mode() string {
	if c.Keyed() {
		return ModeKeyed
	}
	return ModePlain
}

// String names the mode, never the key.
func (c Chain) String() string { return "audit chain (" + c.Mode() + ")" }

// GoString names the mode, never the key.
func (c Chain) GoString() string { return c.String() }

// hash is Hash of e in this chain.
func (c Chain) hash(e Entry) string {
	if c.Keyed() {
		return e.ComputeMAC(c.key)
	}
	return e.ComputeHash()
}

// BrokenError names what is wrong with an audit log: the first entry at
// which its chain breaks (Seq), or, with Seq 0, a disagreement between the
// log and its head or witness.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	if e.Seq == 0 {
		return "audit log broken: " + e.Reason
	}
	return fmt.Sprintf("audit log broken at entry %d: %s", e.Seq, e.Reason)
}

// KeyError says that entries From to To are keyed and the verifier has no
// key: they can be neither trusted nor called edited.
type KeyError struct {
	From, To int64
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("audit log entries %d to %d are keyed (HMAC-SHA256) and no key is set: set the variable governance.audit_key_env names to verify them", e.From, e.To)
}
