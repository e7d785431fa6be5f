package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// SignoffActions are the audit actions that record a sign-off (the
// governance package owns their names: suite.adopted and
// thresholds.signed_off). RecordSignoff requires its entry to be one of
// them, with the sign-off's suite, hash and signer.
var SignoffActions = []string{"suite.adopted", "thresholds.signed_off"}

// ErrSignoffUnaudited is wrapped by CheckedSignoff's error when the
// suite's latest sign-off audit entry has no sign-off row: the row was
// deleted or edited. Using an older row then would put back a bar someone
// replaced.
var ErrSignoffUnaudited = errors.New("the latest sign-off in the audit log has no matching sign-off row")

// SignoffProblem is a sign-off row with no audit entry, or a sign-off
// audit entry with no row.
type SignoffProblem struct {
	Suite string
	Row   *Signoff // a row that matches no audit entry (inserted, edited or copied outside evald)
	Seq   int64    // an audit entry that no row matches (its row deleted or edited), when Row is nil
}

func (p SignoffProblem) String() string {
	if p.Row != nil {
		return fmt.Sprintf("sign-off row %d of suite %s (hash %.12s by %s) matches no audit entry: it was inserted, edited or copied outside evald", p.Row.ID, p.Suite, p.Row.Hash, p.Row.By)
	}
	return fmt.Sprintf("the sign-off of suite %s in audit entry %d has no sign-off row: it was deleted or edited", p.Suite, p.Seq)
}

// signoffPayload is what RecordSignoff requires of a sign-off's audit
// payload.
type signoffPayload struct {
	Suite    string  `json:"suite"`
	Hash     string  `json:"hash"`
	PrevHash *string `json:"prev_hash"`
	Reason   *string `json:"reason"`
}

// auditedBy reports whether e is the audit entry of so: a sign-off action
// by so.By whose payload names so's suite and hash, and its prev_hash and
// reason when the payload carries them.
func auditedBy(so Signoff, e AuditEntry) bool {
	if e.Actor != so.By || (e.Action != SignoffActions[0] && e.Action != SignoffActions[1]) {
		return false
	}
	var p signoffPayload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return false
	}
	return p.Suite == so.Suite && p.Hash == so.Hash &&
		(p.PrevHash == nil || *p.PrevHash == so.PrevHash) && (p.Reason == nil || *p.Reason == so.Reason)
}

// pairSignoffs pairs the rows of one suite (by id) with its sign-off audit
// entries (by seq), in order: each entry takes the first row after the
// last paired one that it audits. Rows skipped or left over match no entry;
// an entry that finds no row has lost it. current is the row of the last
// entry (nil when the suite has no entry, or its last entry has no row).
func pairSignoffs(suite string, rows []Signoff, entries []AuditEntry) (current *Signoff, problems []SignoffProblem) {
	rowOf, paired := pairInOrder(rows, entries, auditedBy)
	for i, j := range rowOf {
		if j < 0 {
			problems = append(problems, SignoffProblem{Suite: suite, Seq: entries[i].Seq})
		}
	}
	if n := len(rowOf); n > 0 && rowOf[n-1] >= 0 {
		current = &rows[rowOf[n-1]]
	}
	for j := range rows {
		if !paired[j] {
			problems = append(problems, SignoffProblem{Suite: suite, Row: &rows[j]})
		}
	}
	return current, problems
}

// pairInOrder pairs rows (in id order) with the audit entries that vouch
// for them (in seq order): each entry takes the first row after the last
// paired one that audits says it vouches for. rowOf holds, per entry, the
// index of its row (-1: the entry lost its row); paired, per row, whether
// an entry took it.
func pairInOrder[R any](rows []R, entries []AuditEntry, audits func(R, AuditEntry) bool) (rowOf []int, paired []bool) {
	rowOf, paired = make([]int, len(entries)), make([]bool, len(rows))
	next := 0
	for i, e := range entries {
		rowOf[i] = -1
		for j := next; j < len(rows); j++ {
			if audits(rows[j], e) {
				rowOf[i], paired[j], next = j, true, j+1
				break
			}
		}
	}
	return rowOf, paired
}

func signoffEntries(ctx context.Context, q querier, suite string) ([]AuditEntry, error) {
	return queryAll(ctx, q, scanAudit, `SELECT `+auditColumns+` FROM audit_log
		WHERE action IN (?, ?) AND json_extract(payload, '$.suite') = ? ORDER BY seq`, SignoffActions[0], SignoffActions[1], suite)
}

// checkedSignoff returns the suite's sign-off in force, the newest row
// that its audit entry vouches for, and the rows and entries that do not
// pair; sql.ErrNoRows when there is none.
func checkedSignoff(ctx context.Context, q querier, suite string) (Signoff, []SignoffProblem, error) {
	rows, err := queryAll(ctx, q, scanSignoff, `SELECT `+signoffColumns+` FROM signoffs WHERE suite = ? ORDER BY id`, suite)
	if err != nil {
		return Signoff{}, nil, err
	}
	entries, err := signoffEntries(ctx, q, suite)
	if err != nil {
		return Signoff{}, nil, err
	}
	cur, problems := pairSignoffs(suite, rows, entries)
	switch {
	case cur != nil:
		return *cur, problems, nil
	case len(entries) > 0:
		return Signoff{}, problems, fmt.Errorf("%w: %s", ErrSignoffUnaudited, SignoffProblem{Suite: suite, Seq: entries[len(entries)-1].Seq})
	}
	return Signoff{}, problems, sql.ErrNoRows
}

// CheckedSignoff returns the sign-off in force for suite: its newest row
// that matches its audit entry (suite, hash, signer, and the replaced hash
// and the reason where the entry records them). Rows that match no entry
// (inserted or edited with SQL) are ignored and returned as problems for
// the caller to report. It fails wrapping ErrNotFound when the suite has
// no sign-off, and ErrSignoffUnaudited when the latest sign-off entry has
// lost its row.
func (s *Store) CheckedSignoff(ctx context.Context, suite string) (Signoff, []SignoffProblem, error) {
	var (
		so       Signoff
		problems []SignoffProblem
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		so, problems, err = checkedSignoff(ctx, tx, suite)
		return err
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Signoff{}, problems, fmt.Errorf("sign-off of suite %s: %w", suite, ErrNotFound)
	case err != nil:
		return Signoff{}, problems, fmt.Errorf("read sign-off of suite %s: %w", suite, err)
	}
	return so, problems, nil
}

// SignoffProblems returns, for every suite, the sign-off rows that match no
// audit entry and the sign-off entries that match no row, by suite.
func (s *Store) SignoffProblems(ctx context.Context) ([]SignoffProblem, error) {
	var out []SignoffProblem
	err := s.read(ctx, func(tx *sql.Tx) error {
		suites, err := queryAll(ctx, tx, scanString, `SELECT suite FROM signoffs
			UNION SELECT json_extract(payload, '$.suite') FROM audit_log WHERE action IN (?, ?) AND json_extract(payload, '$.suite') IS NOT NULL`,
			SignoffActions[0], SignoffActions[1])
		if err != nil {
			return err
		}
		sort.Strings(suites)
		for _, suite := range suites {
			_, problems, err := checkedSignoff(ctx, tx, suite)
			if err != nil && !errors.Is(err, sql.ErrNoRows) && !errors.Is(err, ErrSignoffUnaudited) {
				return err
			}
			out = append(out, problems...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check sign-offs against the audit log: %w", err)
	}
	return out, nil
}
