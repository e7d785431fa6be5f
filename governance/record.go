package governance

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RecordFile is the name of a project's sign-off record, in the folder of
// its evald.yaml: one JSON object per line, appended by `evald signoff`,
// kept under version control with the suites.
const RecordFile = "evald.signoffs"

// MaxRecordBytes bounds how much of a record is read.
const MaxRecordBytes = 64 << 20

// recordDomain opens every record entry's hash input, apart from the audit
// log's.
const recordDomain = "evald.signoff.v1"

// RecordEntry is one sign-off in the record: the suite, its governed set
// and that set's hash, who signed (By, as given; Git, the local git
// identity "Name <email>" when there was one), why, when, and the hash of
// the suite's previous entry ("" for its first). Hash seals the entry (see
// hash). Line is where it was read (0 for a new entry).
type RecordEntry struct {
	Suite   string    `json:"suite"`
	SetHash string    `json:"set_hash"`
	Set     Set       `json:"set"`
	By      string    `json:"by"`
	Git     string    `json:"git,omitempty"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
	Prev    string    `json:"prev"`
	Hash    string    `json:"hash"`
	Line    int       `json:"-"`
}

// hash is the lowercase hex sha256 of
//
//	lp("evald.signoff.v1") || lp(suite) || lp(canonical set) || lp(by) || lp(git) || lp(reason) || lp(at) || lp(prev)
//
// where lp(x) is len(x) as 8 bytes big-endian followed by x, and at is At
// in UTC, RFC 3339 with nanoseconds as needed. The set's hash need not be
// sealed apart: it is the hash of the sealed set.
func (e RecordEntry) hash() string {
	var b []byte
	lp := func(s []byte) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	lp([]byte(recordDomain))
	lp([]byte(e.Suite))
	lp(e.Set.Canonical())
	lp([]byte(e.By))
	lp([]byte(e.Git))
	lp([]byte(e.Reason))
	lp([]byte(e.At.UTC().Format(time.RFC3339Nano)))
	lp([]byte(e.Prev))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// NewRecordEntry returns the entry that signs off set for suite after prev
// (nil: the suite's first). by and reason are trimmed; when either is empty
// it returns ErrNoActor or ErrNoReason, checked first. Signing off the set
// prev already holds returns ErrUnchanged. At is kept in UTC to the second.
func NewRecordEntry(prev *RecordEntry, suite string, set Set, by, git, reason string, at time.Time) (RecordEntry, error) {
	by, git, reason = strings.TrimSpace(by), strings.TrimSpace(git), strings.TrimSpace(reason)
	switch {
	case by == "":
		return RecordEntry{}, ErrNoActor
	case reason == "":
		return RecordEntry{}, ErrNoReason
	case strings.TrimSpace(suite) == "":
		return RecordEntry{}, errors.New("sign-off: empty suite name")
	case prev != nil && prev.Suite != suite:
		return RecordEntry{}, fmt.Errorf("sign-off of suite %q cannot follow suite %q's", suite, prev.Suite)
	case prev != nil && prev.Set.Equal(set):
		return RecordEntry{}, ErrUnchanged
	}
	set = set.clone()
	set.normalize()
	e := RecordEntry{Suite: suite, SetHash: set.Hash(), Set: set, By: by, Git: git, Reason: reason, At: at.UTC().Truncate(time.Second)}
	if prev != nil {
		e.Prev = prev.Hash
	}
	e.Hash = e.hash()
	return e, nil
}

// Marshal returns the entry as one line of the record, newline included,
// with <, > and & as they are (the file is read by people in diffs).
func (e RecordEntry) Marshal() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		// Only a hand-built set with NaN gets here; NewRecordEntry's
		// callers pass loaded suites.
		b.Reset()
		_ = enc.Encode(map[string]string{"unencodable": err.Error()})
	}
	return b.Bytes()
}

// Record is a parsed sign-off record: its entries in file order, each
// verified, and the chain of each suite's entries checked.
type Record struct {
	// File names the record in errors ("" for one held in memory only).
	File    string
	Entries []RecordEntry
	latest  map[string]int
}

// Latest returns suite's newest entry, or nil when the record has none. A
// nil record has none.
func (r *Record) Latest(suite string) *RecordEntry {
	if r == nil {
		return nil
	}
	i, ok := r.latest[suite]
	if !ok {
		return nil
	}
	e := r.Entries[i]
	return &e
}

// Add appends e to the record in memory, after checking that it follows
// the suite's latest entry.
func (r *Record) Add(e RecordEntry) error {
	if err := r.link(e); err != nil {
		return err
	}
	if r.latest == nil {
		r.latest = map[string]int{}
	}
	r.Entries = append(r.Entries, e)
	r.latest[e.Suite] = len(r.Entries) - 1
	return nil
}

// link checks that e's Prev is the hash of its suite's latest entry.
func (r *Record) link(e RecordEntry) error {
	prev := r.Latest(e.Suite)
	switch {
	case prev == nil && e.Prev != "":
		return fmt.Errorf("prev: the entry follows %.12s, but it is the first entry of suite %q here: an earlier entry was removed", e.Prev, e.Suite)
	case prev != nil && e.Prev != prev.Hash:
		where := ""
		if prev.Line > 0 {
			where = fmt.Sprintf(" (line %d)", prev.Line)
		}
		return fmt.Errorf("prev: the entry follows %.12s, but suite %q's previous entry%s is %.12s: entries were removed, reordered or edited", orNone(e.Prev), e.Suite, where, prev.Hash)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// RecordError is a problem of a record file at a line.
type RecordError struct {
	File string
	Line int
	Err  error
}

func (e *RecordError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// ParseRecord reads a record (file names it in errors). Blank lines are
// skipped. Every entry must decode strictly, carry its suite, signer,
// reason and time, have the set hash of its set and the hash of its
// contents, and link to the previous entry of the same suite; every
// problem is reported, each as FILE:LINE: what, joined. A record larger
// than MaxRecordBytes is refused.
func ParseRecord(b []byte, file string) (*Record, error) {
	r := &Record{File: file, latest: map[string]int{}}
	if len(b) > MaxRecordBytes {
		return nil, &RecordError{File: file, Err: fmt.Errorf("larger than %d MiB: not a sign-off record", MaxRecordBytes>>20)}
	}
	var errs []error
	for i, line := range bytes.Split(b, []byte("\n")) {
		n := i + 1
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		e, err := parseEntry(line)
		if err == nil {
			e.Line = n
			err = r.Add(e)
		}
		if err != nil {
			errs = append(errs, &RecordError{File: file, Line: n, Err: err})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

func parseEntry(line []byte) (RecordEntry, error) {
	var e RecordEntry
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return RecordEntry{}, fmt.Errorf("not a sign-off entry: %w", err)
	}
	if dec.More() {
		return RecordEntry{}, errors.New("not a sign-off entry: more than one JSON value on the line")
	}
	for _, f := range []struct{ name, val string }{{"suite", e.Suite}, {"by", e.By}, {"reason", e.Reason}, {"hash", e.Hash}} {
		if strings.TrimSpace(f.val) == "" {
			return RecordEntry{}, fmt.Errorf("%s: required", f.name)
		}
	}
	if e.At.IsZero() {
		return RecordEntry{}, errors.New("at: required")
	}
	e.Set.normalize()
	if got := e.Set.Hash(); got != e.SetHash {
		return RecordEntry{}, fmt.Errorf("set_hash %.12s is not the hash of the entry's set (%.12s): edited outside evald", e.SetHash, got)
	}
	if got := e.hash(); got != e.Hash {
		return RecordEntry{}, fmt.Errorf("hash %.12s is not the hash of the entry (%.12s): edited outside evald", e.Hash, got)
	}
	return e, nil
}

// Includes reports whether the record holds an entry with the given hash.
func (r *Record) Includes(hash string) bool {
	if r == nil {
		return false
	}
	for _, e := range r.Entries {
		if e.Hash == hash {
			return true
		}
	}
	return false
}

// With returns a copy of r with e appended, after checking that e follows
// its suite's latest entry; r is left as it was. A nil r is empty.
func (r *Record) With(e RecordEntry) (*Record, error) {
	out := &Record{latest: map[string]int{}}
	if r != nil {
		out.File = r.File
		out.Entries = append(out.Entries, r.Entries...)
		for k, v := range r.latest {
			out.latest[k] = v
		}
	}
	if err := out.Add(e); err != nil {
		return nil, err
	}
	return out, nil
}
