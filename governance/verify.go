package governance

import (
	"fmt"
	"slices"
	"time"
)

// ChainReport is what verifying the rows of a chain found.
type ChainReport struct {
	Entries int
	// KeyedFrom is the first entry whose Hash is an HMAC under the chain's
	// key (0: none, or the chain is plain).
	KeyedFrom int64
	// Unchecked is, for a plain chain, the first entry whose Hash is not
	// its sha256: keyed by someone else's key, or edited (0: none). The
	// links of the entries after it were still checked.
	Unchecked int64
}

// Verify recomputes a plain chain of entries; see [Chain.Verify]. An entry
// whose hash is not its sha256 is reported as edited.
func Verify(entries []Entry) error {
	rep, err := Chain{}.Verify(entries)
	if err != nil {
		return err
	}
	if rep.Unchecked != 0 {
		return &BrokenError{Seq: rep.Unchecked, Reason: "edited: its hash does not match its contents"}
	}
	return nil
}

// Verify recomputes the chain of entries, in the order the store keeps them
// (the order they were appended), and returns a *BrokenError for the first
// entry that does not hold:
//
//   - its Hash is not the hash of its contents: the entry was edited. In a
//     keyed chain an entry may be plain (sha256) only before the first
//     keyed one: a plain entry after it was rewritten without the key. In
//     a plain chain an entry that is not plain is left for the caller
//     (ChainReport.Unchecked): keyed, or edited, which only the key can
//     tell, unless a plain entry follows it (then it was edited);
//   - its Seq is not the previous entry's plus one: entries before it were
//     deleted (a gap), or rows were reordered or duplicated (the missing Seq
//     comes later, or Seq goes back);
//   - its PrevHash is not the previous entry's Hash (GenesisHash for the
//     first): the previous entry was edited and resealed, or rows were
//     deleted, reordered or replaced.
//
// An empty log verifies. Deleting the last entries leaves a valid, shorter
// chain that the rows alone cannot show: the store also keeps the head
// (VerifyHead), and the witness outside the database keeps it too
// (VerifyAll). In a plain chain, nor can the rows show someone who rewrote
// every entry from the edited one to the head and the head itself; the
// witness does, and a keyed chain cannot be rewritten without its key.
func (c Chain) Verify(entries []Entry) (ChainReport, error) {
	rep := ChainReport{Entries: len(entries)}
	prevSeq, prevHash := int64(0), GenesisHash
	for i, e := range entries {
		keyed := c.Keyed() && e.ComputeMAC(c.key) == e.Hash
		plain := !keyed && e.ComputeHash() == e.Hash
		switch {
		case keyed:
			if rep.KeyedFrom == 0 {
				rep.KeyedFrom = e.Seq
			}
		case c.Keyed() && plain && rep.KeyedFrom != 0:
			return rep, &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf("rewritten without the key: it is plain sha256, but the chain is keyed since entry %d", rep.KeyedFrom)}
		case c.Keyed() && !plain:
			return rep, &BrokenError{Seq: e.Seq, Reason: "edited: its hash matches neither the HMAC of its contents under the key nor their sha256"}
		case !c.Keyed() && !plain:
			if rep.Unchecked == 0 {
				rep.Unchecked = e.Seq
			}
		case !c.Keyed() && rep.Unchecked != 0:
			// A keyed chain never goes back to plain: the entry that is
			// not plain was edited.
			return rep, &BrokenError{Seq: rep.Unchecked, Reason: fmt.Sprintf("edited: its hash does not match its contents, and it is not keyed (plain entry %d follows it)", e.Seq)}
		}
		if want := prevSeq + 1; e.Seq != want {
			return rep, &BrokenError{Seq: e.Seq, Reason: seqReason(entries[i+1:], prevSeq, e.Seq)}
		}
		if e.PrevHash != prevHash {
			reason := "prev_hash does not match the genesis hash: it is not the first entry"
			if i > 0 {
				reason = fmt.Sprintf("prev_hash does not match entry %d's hash: entry %d was edited and resealed, or entries were deleted or reordered", prevSeq, prevSeq)
			}
			return rep, &BrokenError{Seq: e.Seq, Reason: reason}
		}
		prevSeq, prevHash = e.Seq, e.Hash
	}
	return rep, nil
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
// which Verify alone cannot, naming the first missing one, unless the head
// was rewound with them: only the witness (VerifyAll) catches that.
func VerifyHead(entries []Entry, headSeq int64, headHash string) error {
	if err := Verify(entries); err != nil {
		return err
	}
	return checkHead(entries, headSeq, headHash)
}

func checkHead(entries []Entry, headSeq int64, headHash string) error {
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

// Evidence is everything `evald audit verify` compares: the rows and head
// the database holds, and the witness written beside it.
type Evidence struct {
	Entries  []Entry
	HeadSeq  int64
	HeadHash string
	// Witness is the head as last written outside the database; nil when
	// there is no witness file.
	Witness *Witness
}

// Verified is what VerifyAll vouches for.
type Verified struct {
	Entries   int
	HeadSeq   int64
	HeadHash  string
	Mode      string // the chain's: ModeKeyed or ModePlain
	KeyedFrom int64  // first keyed entry (0: none)
	Witnessed bool   // a witness was there and agrees
}

// VerifyAll checks ev as a whole: the chain (Verify), the database's head
// (VerifyHead) and the witness. It returns a *BrokenError naming what is
// wrong in one sentence, or a *KeyError when the log has keyed entries and
// c has no key. What the witness catches that the database alone cannot:
//
//   - a rollback or truncation: the witness recorded a later entry than
//     the database ends at (the database is an older copy, or its last
//     entries and head were deleted together);
//   - a wiped log: the witness recorded an entry, the log is empty;
//   - a recomputed plain chain: the entry at the witness's seq no longer
//     has the hash the witness recorded;
//   - entries added after the witness was last written (outside evald, or
//     the witness is an older copy).
//
// A keyed witness carries a MAC: one edited or written without the key is
// reported, and so is a plain witness beside a keyed chain.
//
// A missing witness is fine for an empty log (a new database) and
// reported otherwise: the witness was deleted, or the database was copied
// without it.
func (c Chain) VerifyAll(ev Evidence) (Verified, error) {
	out := Verified{Entries: len(ev.Entries), HeadSeq: ev.HeadSeq, HeadHash: ev.HeadHash, Mode: c.Mode()}
	rep, err := c.Verify(ev.Entries)
	if err != nil {
		return out, err
	}
	out.KeyedFrom = rep.KeyedFrom
	last := int64(0)
	if n := len(ev.Entries); n > 0 {
		last = ev.Entries[n-1].Seq
	}
	if rep.Unchecked != 0 {
		if w := ev.Witness; w != nil && w.Mode == ModeKeyed {
			return out, &KeyError{From: rep.Unchecked, To: last}
		}
		return out, &BrokenError{Seq: rep.Unchecked, Reason: "edited: its hash does not match its contents (or it is keyed, and no key is set)"}
	}
	if err := checkHead(ev.Entries, ev.HeadSeq, ev.HeadHash); err != nil {
		return out, err
	}
	w := ev.Witness
	if w == nil {
		if last == 0 {
			return out, nil
		}
		return out, &BrokenError{Reason: fmt.Sprintf("the witness of its head is missing, but the log has %d entries: it was deleted, or the database was copied or restored without it", last)}
	}
	switch {
	case w.Mode == ModeKeyed && !c.Keyed():
		return out, &BrokenError{Reason: "the witness says the chain is keyed, but every entry is plain sha256: the chain was recomputed without the key"}
	case w.Mode == ModeKeyed && !w.checkMAC(c.key):
		return out, &BrokenError{Reason: "the witness's MAC does not match its contents: it was edited, or written without the key"}
	case w.Mode != ModeKeyed && rep.KeyedFrom != 0:
		return out, &BrokenError{Reason: fmt.Sprintf("the witness is plain but the chain is keyed since entry %d: the witness was replaced", rep.KeyedFrom)}
	case w.Seq < 1:
		return out, &BrokenError{Reason: fmt.Sprintf("the witness names no entry (seq %d)", w.Seq)}
	case last == 0:
		return out, &BrokenError{Reason: fmt.Sprintf("wiped: the log is empty, but the witness recorded entry %d of %s", w.Seq, w.At.Format(time.RFC3339))}
	case w.Seq > last:
		return out, &BrokenError{Seq: last + 1, Reason: fmt.Sprintf("rolled back: the log ends at entry %d, but the witness recorded entry %d of %s: its last entries were deleted, or the database was replaced by an older copy", last, w.Seq, w.At.Format(time.RFC3339))}
	case ev.Entries[w.Seq-1].Hash != w.Hash:
		return out, &BrokenError{Seq: w.Seq, Reason: "recomputed: its hash is not the one the witness recorded, so the chain was rewritten from this entry or an earlier one"}
	case w.Seq < last:
		return out, &BrokenError{Seq: w.Seq + 1, Reason: fmt.Sprintf("added without a witness: the witness recorded entry %d, the log goes on to entry %d (appended outside evald, or the witness is an older copy)", w.Seq, last)}
	}
	out.Witnessed = true
	return out, nil
}
