package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Calibration triggers.
const (
	// CalibrationAfterRun: the daemon calibrated after a run, because the
	// judge identity or the set had changed. Only these rows decide when
	// the daemon calibrates next, and only they raise alerts.
	CalibrationAfterRun = "run"
	// CalibrationManual: `evald calibrate`, on demand, without alerting.
	CalibrationManual = "manual"
)

// Calibration is one grading of a suite's calibration set by its judge.
type Calibration struct {
	ID          int64
	Suite       string
	JudgeTarget string
	// JudgeVersion, JudgeModel and JudgeFingerprint are the judge identity
	// the row is keyed on; SetHash is the set's hash.
	JudgeVersion     string
	JudgeModel       string
	JudgeFingerprint string
	SetHash          string
	Trigger          string // CalibrationAfterRun | CalibrationManual
	RunID            int64  // the run that triggered it (0: none)
	At               time.Time
	Items            int
	Agreements       int
	Disagreements    int
	Missing          int
	// Rate is nil when no item was graded (a NaN or infinite rate too).
	Rate            *float64
	MaxDisagreement float64
	Status          string // the caller's: ok | failed | inconclusive | interrupted
	// CostUSD is what the judge's calls cost; it counts toward the suite's
	// daily spend (CostSince). A NaN or infinite cost reads back as 0, as
	// does one unknown in a calibration older than the column.
	CostUSD float64
	Detail  string // JSON
}

// CalibrationQuery selects the latest calibration of a suite's judge.
type CalibrationQuery struct {
	Suite, JudgeTarget string
	// Trigger keeps one trigger ("": any).
	Trigger string
	// SkipStatus leaves out calibrations of these statuses.
	SkipStatus []string
}

const calibrationColumns = `id, suite, judge_target, judge_version, judge_model, judge_fingerprint, set_hash,
	cal_trigger, run_id, at, items, agreements, disagreements, missing, rate, max_disagreement, status, cost_usd, detail`

func scanCalibration(sc scanner) (Calibration, error) {
	var (
		c     Calibration
		runID sql.NullInt64
		at    string
		rate  sql.NullFloat64
		cost  sql.NullFloat64
	)
	if err := sc.Scan(&c.ID, &c.Suite, &c.JudgeTarget, &c.JudgeVersion, &c.JudgeModel, &c.JudgeFingerprint, &c.SetHash,
		&c.Trigger, &runID, &at, &c.Items, &c.Agreements, &c.Disagreements, &c.Missing, &rate, &c.MaxDisagreement, &c.Status, &cost, &c.Detail); err != nil {
		return Calibration{}, err
	}
	c.RunID, c.Rate, c.CostUSD = runID.Int64, ptrOf(rate), cost.Float64
	var err error
	if c.At, err = parseTime(at); err != nil {
		return Calibration{}, err
	}
	return c, nil
}

// SaveCalibration records a calibration together with the alert writes it
// led to, in one transaction: the alert exists exactly when the
// calibration does. It returns the calibration's id.
func (s *Store) SaveCalibration(ctx context.Context, c Calibration, a AlertWrites) (int64, error) {
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		runID := sql.NullInt64{Int64: c.RunID, Valid: c.RunID != 0}
		res, err := tx.ExecContext(ctx, `INSERT INTO judge_calibrations (suite, judge_target, judge_version, judge_model, judge_fingerprint,
			set_hash, cal_trigger, run_id, at, items, agreements, disagreements, missing, rate, max_disagreement, status, cost_usd, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Suite, c.JudgeTarget, c.JudgeVersion, c.JudgeModel, c.JudgeFingerprint, c.SetHash, c.Trigger, runID, formatTime(c.At),
			c.Items, c.Agreements, c.Disagreements, c.Missing, finitePtr(c.Rate), finite(c.MaxDisagreement).Float64, c.Status,
			finite(c.CostUSD), c.Detail)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return s.writeAlerts(ctx, tx, a)
	})
	if err != nil {
		return 0, fmt.Errorf("save calibration of %s by judge %s: %w", c.Suite, c.JudgeTarget, err)
	}
	return id, nil
}

// LastCalibration returns the newest calibration q selects, or an error
// wrapping ErrNotFound.
func (s *Store) LastCalibration(ctx context.Context, q CalibrationQuery) (Calibration, error) {
	query := `SELECT ` + calibrationColumns + ` FROM judge_calibrations WHERE suite = ? AND judge_target = ?`
	args := []any{q.Suite, q.JudgeTarget}
	if q.Trigger != "" {
		query += ` AND cal_trigger = ?`
		args = append(args, q.Trigger)
	}
	for _, st := range q.SkipStatus {
		query += ` AND status <> ?`
		args = append(args, st)
	}
	c, err := scanCalibration(s.r.QueryRowContext(ctx, query+` ORDER BY id DESC LIMIT 1`, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Calibration{}, fmt.Errorf("calibration of %s by judge %s: %w", q.Suite, q.JudgeTarget, ErrNotFound)
	}
	if err != nil {
		return Calibration{}, fmt.Errorf("read last calibration of %s: %w", q.Suite, err)
	}
	return c, nil
}

// Calibrations lists a suite's calibrations (every suite's when suite is
// empty), newest first, at most limit (DefaultRunsLimit when 0 or less).
func (s *Store) Calibrations(ctx context.Context, suite string, limit int) ([]Calibration, error) {
	if limit <= 0 {
		limit = DefaultRunsLimit
	}
	query := `SELECT ` + calibrationColumns + ` FROM judge_calibrations`
	var args []any
	if suite != "" {
		query += ` WHERE suite = ?`
		args = append(args, suite)
	}
	out, err := queryAll(ctx, s.r, scanCalibration, query+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list calibrations: %w", err)
	}
	return out, nil
}
