package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrAuditBroken is wrapped by an append refused because the audit log no
// longer ends at its head: entries were deleted or added outside evald.
// Appending then would hide the damage, so nothing is appended until the
// log is repaired (`evald audit verify` names the first broken entry).
var ErrAuditBroken = errors.New("audit log does not end at its head")

// ErrConflict is wrapped by a write refused because what it was computed
// from has changed since it was read (a sign-off whose PrevHash is not the
// current sign-off's hash, a suite already removed).
var ErrConflict = errors.New("conflict")

// AuditEntry is one row of the append-only, hash-chained audit log. The
// store keeps what it is given: the hashing rules are the caller's (the
// governance package).
type AuditEntry struct {
	Seq      int64 // 1, 2, 3 ... without gaps
	At       time.Time
	Actor    string
	Action   string
	Payload  []byte // canonical JSON
	PrevHash string // the previous entry's Hash
	Hash     string // the entry's own hash
}

// SealFunc builds the audit entry that follows prev (nil when the log is
// empty), hash included. It is called inside the write transaction, on the
// writer's only connection: it must not use the Store.
type SealFunc = func(prev *AuditEntry) (AuditEntry, error)

const auditColumns = `seq, at, actor, action, payload, prev_hash, hash`

func scanAudit(sc scanner) (AuditEntry, error) {
	var (
		e           AuditEntry
		at, payload string
	)
	if err := sc.Scan(&e.Seq, &at, &e.Actor, &e.Action, &payload, &e.PrevHash, &e.Hash); err != nil {
		return AuditEntry{}, err
	}
	t, err := parseTime(at)
	if err != nil {
		return AuditEntry{}, err
	}
	e.At, e.Payload = t, []byte(payload)
	return e, nil
}

// querier is what reads need of a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// AppendAudit appends one entry to the audit log. Inside one write
// transaction it reads the last entry (nil when the log is empty), calls
// seal to build the next one, checks that the entry follows it (Seq one
// more, PrevHash its Hash, a Hash set), inserts it and moves the head to
// it. With one writer the chain cannot fork. It fails wrapping
// ErrAuditBroken, appending nothing, when the log does not end at its head.
func (s *Store) AppendAudit(ctx context.Context, seal SealFunc) (AuditEntry, error) {
	e, err := s.appendAuditWith(ctx, seal, nil)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("append to audit log: %w", err)
	}
	return e, nil
}

// appendAuditWith runs extra (when not nil) and then appends the entry seal
// builds, in one transaction: both commit or neither does. extra runs
// first, so that its checks refuse before anything is sealed.
func (s *Store) appendAuditWith(ctx context.Context, seal SealFunc, extra func(tx *sql.Tx) error) (AuditEntry, error) {
	if seal == nil {
		return AuditEntry{}, errors.New("no seal function")
	}
	var (
		e       AuditEntry
		restore func()
	)
	witness := s.witnessFunc()
	s.mu.Lock()
	committed := s.committed
	s.mu.Unlock()
	err := s.write(ctx, func(tx *sql.Tx) error {
		if extra != nil {
			// A broken log refuses before extra's own checks: its
			// conflicts may be the damage's consequences.
			if _, err := checkedLast(ctx, tx); err != nil {
				return err
			}
			if err := extra(tx); err != nil {
				return err
			}
		}
		var err error
		if e, err = appendAudit(ctx, tx, seal); err != nil {
			return err
		}
		if witness != nil {
			// Last: only the commit can fail after it.
			restore, err = s.writeWitness(witness, e)
		}
		return err
	})
	if err != nil {
		if restore != nil {
			restore()
		}
		return AuditEntry{}, err
	}
	if committed != nil {
		committed(ctx, e)
	}
	return e, nil
}

// checkedLast returns the last entry (nil when the log is empty), or an
// error wrapping ErrAuditBroken when the log does not end at its head.
func checkedLast(ctx context.Context, tx *sql.Tx) (*AuditEntry, error) {
	prev, err := lastAudit(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("read last entry: %w", err)
	}
	headSeq, headHash, err := auditHead(ctx, tx)
	if err != nil {
		return nil, err
	}
	lastSeq, lastHash := int64(0), ""
	if prev != nil {
		lastSeq, lastHash = prev.Seq, prev.Hash
	}
	if lastSeq != headSeq || lastHash != headHash {
		return nil, fmt.Errorf("%w: the log ends at entry %d, its head is entry %d", ErrAuditBroken, lastSeq, headSeq)
	}
	return prev, nil
}

// appendAudit appends seal's entry and moves the head, inside tx.
func appendAudit(ctx context.Context, tx *sql.Tx, seal SealFunc) (AuditEntry, error) {
	prev, err := checkedLast(ctx, tx)
	if err != nil {
		return AuditEntry{}, err
	}
	lastSeq := int64(0)
	if prev != nil {
		lastSeq = prev.Seq
	}

	e, err := seal(prev)
	if err != nil {
		return AuditEntry{}, err
	}
	switch {
	case e.Seq != lastSeq+1:
		return AuditEntry{}, fmt.Errorf("sealed entry has seq %d, want %d", e.Seq, lastSeq+1)
	case prev != nil && e.PrevHash != prev.Hash:
		return AuditEntry{}, fmt.Errorf("sealed entry %d has prev_hash %q, want entry %d's hash %q", e.Seq, e.PrevHash, prev.Seq, prev.Hash)
	case e.Hash == "":
		return AuditEntry{}, fmt.Errorf("sealed entry %d has no hash", e.Seq)
	}
	e.At = e.At.UTC()
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, formatTime(e.At), e.Actor, e.Action, string(e.Payload), e.PrevHash, e.Hash); err != nil {
		return AuditEntry{}, err
	}
	res, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, e.Seq, e.Hash)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("move head: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return AuditEntry{}, fmt.Errorf("move head: %w", err)
	} else if n != 1 {
		return AuditEntry{}, fmt.Errorf("%w: head row missing", ErrAuditBroken)
	}
	return e, nil
}

// lastAudit returns the entry with the highest seq, or nil when the log is
// empty.
func lastAudit(ctx context.Context, q querier) (*AuditEntry, error) {
	e, err := scanAudit(q.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// auditHead reads the head row; a missing row is a broken log.
func auditHead(ctx context.Context, q querier) (int64, string, error) {
	var (
		seq  int64
		hash string
	)
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("%w: head row missing", ErrAuditBroken)
	}
	if err != nil {
		return 0, "", fmt.Errorf("read head: %w", err)
	}
	return seq, hash, nil
}

func auditLog(ctx context.Context, q querier) ([]AuditEntry, error) {
	out, err := queryAll(ctx, q, scanAudit, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AuditLog returns every audit entry, in ascending seq, as stored (it
// checks nothing: verification is the caller's).
func (s *Store) AuditLog(ctx context.Context) ([]AuditEntry, error) {
	out, err := auditLog(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}

// AuditHead returns the seq and hash of the entry the audit log should end
// at (0 and "" when it is empty).
func (s *Store) AuditHead(ctx context.Context) (seq int64, hash string, err error) {
	seq, hash, err = auditHead(ctx, s.r)
	if err != nil {
		return 0, "", fmt.Errorf("read audit head: %w", err)
	}
	return seq, hash, nil
}

// AuditLogWithHead returns the audit log and its head read in one
// snapshot, for verification: read apart, an append in between would make
// a sound log look broken.
func (s *Store) AuditLogWithHead(ctx context.Context) (entries []AuditEntry, headSeq int64, headHash string, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		if rerr := auditTablesPresent(ctx, tx); rerr != nil {
			return rerr
		}
		var rerr error
		if entries, rerr = auditLog(ctx, tx); rerr != nil {
			return rerr
		}
		headSeq, headHash, rerr = auditHead(ctx, tx)
		return rerr
	})
	if err != nil {
		return nil, 0, "", fmt.Errorf("read audit log: %w", err)
	}
	return entries, headSeq, headHash, nil
}

// auditTablesPresent reports a dropped audit table as a broken log rather
// than as SQLite's "no such table": a table dropped with SQL is tampering,
// which verification must name, not a failure to read.
func auditTablesPresent(ctx context.Context, q querier) error {
	for _, name := range []string{"audit_log", "audit_head"} {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n); err != nil {
			return fmt.Errorf("look for table %s: %w", name, err)
		}
		if n == 0 {
			return fmt.Errorf("%w: table %s missing", ErrAuditBroken, name)
		}
	}
	return nil
}
