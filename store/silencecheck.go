package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// SilenceAction is the audit action that records a silence (the governance
// package owns its name). AddSilence requires its entry to be one, by the
// silence's owner, naming its suite, target, reason and end.
const SilenceAction = "silence.created"

// SilenceProblem is a silence row with no audit entry, or a silence audit
// entry with no row.
type SilenceProblem struct {
	Row *Silence // a row that matches no audit entry (inserted or edited outside evald)
	Seq int64    // an audit entry that no row matches (its row deleted or edited), when Row is nil
}

func (p SilenceProblem) String() string {
	if p.Row != nil {
		return fmt.Sprintf("silence %d of suite %s on %s (by %s until %s) matches no audit entry: it was inserted or edited outside evald", p.Row.ID, p.Row.Suite, p.Row.Target, p.Row.By, p.Row.Until.Format(time.RFC3339))
	}
	return fmt.Sprintf("the silence in audit entry %d has no silence row: it was deleted or edited", p.Seq)
}

// silenceAudited reports whether e is the audit entry of si: SilenceAction
// by si.By, its payload naming si's suite, target and reason, and its end
// to the second.
func silenceAudited(si Silence, e AuditEntry) bool {
	if e.Action != SilenceAction || e.Actor != si.By {
		return false
	}
	var p struct {
		Suite  string `json:"suite"`
		Target string `json:"target"`
		Reason string `json:"reason"`
		Until  string `json:"until"`
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return false
	}
	until, err := time.Parse(time.RFC3339Nano, p.Until)
	return err == nil && p.Suite == si.Suite && p.Target == si.Target && p.Reason == si.Reason &&
		(until.Equal(si.Until) || until.Equal(si.Until.Truncate(time.Second)))
}

// pairSilences pairs silence rows (by id) with silence audit entries (by
// seq), in order, as pairSignoffs does; it returns which rows paired.
func pairSilences(rows []Silence, entries []AuditEntry) (paired []bool, problems []SilenceProblem) {
	rowOf, paired := pairInOrder(rows, entries, silenceAudited)
	for i, j := range rowOf {
		if j < 0 {
			problems = append(problems, SilenceProblem{Seq: entries[i].Seq})
		}
	}
	for j := range rows {
		if !paired[j] {
			problems = append(problems, SilenceProblem{Row: &rows[j]})
		}
	}
	return paired, problems
}

// CheckedSilences is Silences, keeping only the silences that match their
// audit entries: a silence inserted or edited with SQL mutes nothing. The
// rows and entries that do not pair are returned as problems (over every
// silence, whatever activeAt).
func (s *Store) CheckedSilences(ctx context.Context, activeAt time.Time) ([]Silence, []SilenceProblem, error) {
	var (
		rows    []Silence
		entries []AuditEntry
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if rows, err = queryAll(ctx, tx, scanSilence, `SELECT `+silenceColumns+` FROM silences ORDER BY id`); err != nil {
			return err
		}
		entries, err = queryAll(ctx, tx, scanAudit, `SELECT `+auditColumns+` FROM audit_log WHERE action = ? ORDER BY seq`, SilenceAction)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("check silences against the audit log: %w", err)
	}
	paired, problems := pairSilences(rows, entries)
	var out []Silence
	for i, si := range rows {
		if paired[i] && (activeAt.IsZero() || !activeAt.Before(si.Start) && activeAt.Before(si.Until)) {
			out = append(out, si)
		}
	}
	return out, problems, nil
}
