package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
)

// LoadDriftState returns the drift detector's state of (suite, target),
// JSON as saved, and the ID of the last run it has seen; an error wrapping
// ErrNotFound when none was saved.
func (s *Store) LoadDriftState(ctx context.Context, suite, target string) (state []byte, lastRunID int64, err error) {
	var st string
	err = s.r.QueryRowContext(ctx, `SELECT state, last_run_id FROM drift_state WHERE suite = ? AND target = ?`,
		suite, target).Scan(&st, &lastRunID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("drift state of suite %s on target %s: %w", suite, target, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read drift state of suite %s on target %s: %w", suite, target, err)
	}
	return []byte(st), lastRunID, nil
}

// SaveRunVerdict records the drift verdict of run runID and its JSON
// evidence (as SetVerdict does) and saves state as the detector state of
// (suite, target), with runID as the last run it has seen, in one
// transaction: after a crash the verdict and the state agree. The run must
// exist (ErrNotFound) and be of suite on target. The store does not order
// evaluations: callers evaluate the runs of one (suite, target) one at a
// time, each against the state LoadDriftState returned.
func (s *Store) SaveRunVerdict(ctx context.Context, runID int64, suite, target string, state []byte, verdict, verdictDetail string) error {
	return s.SaveRunOutcome(ctx, runID, suite, target, state, verdict, verdictDetail, AlertWrites{})
}

// SaveRunOutcome is SaveRunVerdict plus the alert incidents and deliveries
// the verdict calls for, all in one transaction: an alert is never lost
// between recording a regression and queueing its message.
func (s *Store) SaveRunOutcome(ctx context.Context, runID int64, suite, target string, state []byte, verdict, verdictDetail string, alerts AlertWrites) error {
	if len(state) == 0 {
		return fmt.Errorf("save verdict of run %d: empty drift state", runID)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.saveOutcome(ctx, tx, runID, suite, target, state, verdict, verdictDetail, alerts)
	})
	if err != nil {
		return fmt.Errorf("save verdict of run %d: %w", runID, err)
	}
	return nil
}

// FinishRunOutcome is FinishRun and SaveRunOutcome in one transaction: a
// production run ends together with its verdict, the detector state and
// its alerts, so a crash never leaves a finished run without a verdict (or
// a regression whose page was never queued). r must be of suite on target
// and still running.
func (s *Store) FinishRunOutcome(ctx context.Context, r Run, state []byte, verdict, verdictDetail string, alerts AlertWrites) error {
	if !r.Status.Final() {
		return fmt.Errorf("finish run %d: status %q is not a final status", r.ID, r.Status)
	}
	if len(state) == 0 {
		return fmt.Errorf("finish run %d: empty drift state", r.ID)
	}
	if r.FinishedAt.IsZero() {
		r.FinishedAt = s.now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.saveOutcome(ctx, tx, r.ID, r.Suite, r.Target, state, verdict, verdictDetail, alerts); err != nil {
			return err
		}
		return finishRun(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("finish run %d: %w", r.ID, err)
	}
	s.unlockRun(r.ID)
	return nil
}

// saveOutcome writes a run's verdict, the detector state and alerts in tx.
func (s *Store) saveOutcome(ctx context.Context, tx *sql.Tx, runID int64, suite, target string, state []byte, verdict, verdictDetail string, alerts AlertWrites) error {
	if err := s.writeAlerts(ctx, tx, alerts); err != nil {
		return err
	}
	var rs, rt string
	err := tx.QueryRowContext(ctx, `SELECT suite, target FROM runs WHERE id = ?`, runID).Scan(&rs, &rt)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("no such run: %w", ErrNotFound)
	}
	if err != nil {
		return err
	}
	if rs != suite || rt != target {
		return fmt.Errorf("the run is of suite %s on target %s, not of suite %s on target %s", rs, rt, suite, target)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET verdict = ?, verdict_detail = ? WHERE id = ?`,
		verdict, verdictDetail, runID); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO drift_state (suite, target, state, updated_at, last_run_id)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (suite, target) DO UPDATE SET
			state = excluded.state, updated_at = excluded.updated_at, last_run_id = excluded.last_run_id`,
		suite, target, string(state), formatTime(s.now()), runID)
	return err
}

// AcceptDrift replaces the detector state of (suite, target) with state
// (the re-anchored one, after a human accepted the new behaviour) and
// appends seal's audit entry, in one transaction; the last run seen is
// kept. lastRunID is the one LoadDriftState returned with the state that
// state was derived from: when a run was saved since, it fails wrapping
// ErrConflict and changes nothing. It fails wrapping ErrNotFound when no
// state was saved. The alert writes (the resolution of the incidents the
// acceptance closes) are written in the same transaction.
func (s *Store) AcceptDrift(ctx context.Context, suite, target string, lastRunID int64, state []byte, seal SealFunc, alerts AlertWrites) (AuditEntry, error) {
	if len(state) == 0 {
		return AuditEntry{}, fmt.Errorf("accept drift of suite %s on target %s: empty drift state", suite, target)
	}
	e, err := s.appendAuditWith(ctx, seal, func(tx *sql.Tx) error {
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT last_run_id FROM drift_state WHERE suite = ? AND target = ?`,
			suite, target).Scan(&last)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no drift state: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		if last != lastRunID {
			return fmt.Errorf("%w: the state has seen run %d since run %d", ErrConflict, last, lastRunID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE drift_state SET state = ?, updated_at = ? WHERE suite = ? AND target = ?`,
			string(state), formatTime(s.now()), suite, target)
		if err != nil {
			return err
		}
		return s.writeAlerts(ctx, tx, alerts)
	})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("accept drift of suite %s on target %s: %w", suite, target, err)
	}
	return e, nil
}

// CaseScores holds the valid samples of one case, ordered by repeat.
type CaseScores struct {
	Pass  []bool
	Score []float64 // NaN where the stored score was not finite
}

// validErrorClasses are the error classes of samples that measured
// something: none, and a refusal by the provider's policy (an answer, and
// graded as one). Every other class is missing data. The runner names
// them; "refused_by_policy" is its ClassRefused.
const validErrorClasses = `('', 'refused_by_policy')`

// CaseScores returns, per case ID, the pass and score of a run's valid
// samples (error class "" or "refused_by_policy"), ordered by repeat, for
// the drift detector. One query, without assertion results. A case whose
// samples all errored is absent; so is every case of an unknown run.
func (s *Store) CaseScores(ctx context.Context, runID int64) (map[string]CaseScores, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT case_id, pass, score FROM samples
		WHERE run_id = ? AND error_class IN `+validErrorClasses+`
		ORDER BY case_index, repeat_index, seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("read case scores of run %d: %w", runID, err)
	}
	defer rows.Close()
	out := map[string]CaseScores{}
	for rows.Next() {
		var (
			id    string
			pass  bool
			score sql.NullFloat64
		)
		if err := rows.Scan(&id, &pass, &score); err != nil {
			return nil, fmt.Errorf("read case scores of run %d: %w", runID, err)
		}
		sc := score.Float64
		if !score.Valid {
			sc = math.NaN()
		}
		cs := out[id]
		cs.Pass = append(cs.Pass, pass)
		cs.Score = append(cs.Score, sc)
		out[id] = cs
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read case scores of run %d: %w", runID, err)
	}
	return out, nil
}

// RunProviders counts, over a run's valid samples (as CaseScores selects
// them), the returned model and system fingerprint values, for the drift
// detector's provider identity. Empty values (none returned) are not
// counted.
func (s *Store) RunProviders(ctx context.Context, runID int64) (models, fingerprints map[string]int, err error) {
	models, fingerprints = map[string]int{}, map[string]int{}
	err = s.read(ctx, func(tx *sql.Tx) error {
		if err := countValues(ctx, tx, runID, "model", models); err != nil {
			return err
		}
		return countValues(ctx, tx, runID, "fingerprint", fingerprints)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read providers of run %d: %w", runID, err)
	}
	return models, fingerprints, nil
}

// countValues counts the values of column col (a constant, never input)
// over a run's valid samples into m.
func countValues(ctx context.Context, q querier, runID int64, col string, m map[string]int) error {
	rows, err := q.QueryContext(ctx, `SELECT `+col+`, COUNT(*) FROM samples
		WHERE run_id = ? AND error_class IN `+validErrorClasses+` AND `+col+` <> ''
		GROUP BY `+col, runID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			v string
			n int
		)
		if err := rows.Scan(&v, &n); err != nil {
			return err
		}
		m[v] = n
	}
	return rows.Err()
}

// DriftState is one pair's saved detector state (see LoadDriftState).
type DriftState struct {
	Suite, Target string
	State         []byte
	LastRunID     int64
}

// DriftStates returns every pair's saved detector state.
func (s *Store) DriftStates(ctx context.Context) ([]DriftState, error) {
	out, err := queryAll(ctx, s.r, func(sc scanner) (DriftState, error) {
		var d DriftState
		var st string
		err := sc.Scan(&d.Suite, &d.Target, &st, &d.LastRunID)
		d.State = []byte(st)
		return d, err
	}, `SELECT suite, target, state, last_run_id FROM drift_state ORDER BY suite, target`)
	if err != nil {
		return nil, fmt.Errorf("read drift states: %w", err)
	}
	return out, nil
}
