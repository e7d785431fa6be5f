package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Regrade records one regrade of a stored run (`evald regrade`): the run
// is left as it was, and this row is kept so that what the judge was paid
// counts toward the suite's daily spend (CostSince).
type Regrade struct {
	ID     int64
	Suite  string
	Target string // the regraded run's
	RunID  int64  // the regraded run
	// JudgeTarget and JudgeVersion are the judge that graded again.
	JudgeTarget  string
	JudgeVersion string
	At           time.Time // when the regrade ended
	Status       string    // the caller's: agree | disagree | errored | interrupted | no_comparison
	Graded       int
	Compared     int
	PassToFail   int
	FailToPass   int
	// The judge's tokens and what they cost (a NaN or infinite cost is
	// stored as unknown and counts as 0).
	PromptTokens     int64
	CompletionTokens int64
	CostUSD          float64
}

// SaveRegrade records a regrade and returns its id.
func (s *Store) SaveRegrade(ctx context.Context, r Regrade) (int64, error) {
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO judge_regrades (suite, target, run_id, judge_target, judge_version, at, status,
			graded, compared, pass_to_fail, fail_to_pass, prompt_tokens, completion_tokens, cost_usd)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Suite, r.Target, r.RunID, r.JudgeTarget, r.JudgeVersion, formatTime(r.At), r.Status,
			r.Graded, r.Compared, r.PassToFail, r.FailToPass, r.PromptTokens, r.CompletionTokens, finite(r.CostUSD))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("save regrade of run %d of %s: %w", r.RunID, r.Suite, err)
	}
	return id, nil
}

const regradeColumns = `id, suite, target, run_id, judge_target, judge_version, at, status,
	graded, compared, pass_to_fail, fail_to_pass, prompt_tokens, completion_tokens, cost_usd`

func scanRegrade(sc scanner) (Regrade, error) {
	var (
		r    Regrade
		at   string
		cost sql.NullFloat64
	)
	if err := sc.Scan(&r.ID, &r.Suite, &r.Target, &r.RunID, &r.JudgeTarget, &r.JudgeVersion, &at, &r.Status,
		&r.Graded, &r.Compared, &r.PassToFail, &r.FailToPass, &r.PromptTokens, &r.CompletionTokens, &cost); err != nil {
		return Regrade{}, err
	}
	r.CostUSD = cost.Float64
	var err error
	if r.At, err = parseTime(at); err != nil {
		return Regrade{}, err
	}
	return r, nil
}

// RegradeFilter selects regrades: of one suite ("": every suite's), and
// of one of its runs (0: every run's), at most Limit (DefaultRunsLimit when
// 0 or less). A run filter goes with its suite, whose (suite, at, cost_usd)
// index narrows the search: judge_regrades has no index on run_id.
type RegradeFilter struct {
	Suite string
	RunID int64
	Limit int
}

// Regrades lists the regrades f selects, newest first, so that an auditor
// can see which runs were graded again, by which judge, with what outcome
// and at what cost.
func (s *Store) Regrades(ctx context.Context, f RegradeFilter) ([]Regrade, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultRunsLimit
	}
	query := `SELECT ` + regradeColumns + ` FROM judge_regrades WHERE 1 = 1`
	var args []any
	if f.Suite != "" {
		query += ` AND suite = ?`
		args = append(args, f.Suite)
	}
	if f.RunID != 0 {
		query += ` AND run_id = ?`
		args = append(args, f.RunID)
	}
	out, err := queryAll(ctx, s.r, scanRegrade, query+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list regrades: %w", err)
	}
	return out, nil
}
