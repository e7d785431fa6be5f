package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Run is one evaluation of a suite on a target.
type Run struct {
	ID            int64
	Suite, Target string
	Trigger       string // schedule|manual|ci
	Status        Status
	// Role is what the run measured; CreateRun and ImportRuns write
	// RoleProduction when it is empty, and it never changes afterwards.
	Role           Role
	StartedAt      time.Time
	FinishedAt     time.Time // zero while running
	SuiteVersion   string
	PromptVersion  string
	TargetVersion  string
	ThresholdsJSON string // the thresholds applied
	Cases          int
	Samples        int
	Errors         int
	// PassRate and MeanScore are nil when no sample was valid (nothing was
	// measured). A NaN or infinite value is stored as nil too.
	PassRate, MeanScore *float64
	PromptTokens        int64
	CompletionTokens    int64
	CostUSD             float64 // a NaN or infinite cost reads back as 0
	DurationMS          int64
	Verdict             string // the drift verdict; "" until SetVerdict
	VerdictDetail       string // JSON evidence for Verdict (regression, baseline); "" until SetVerdict
	Detail              string // JSON: threshold failures, provider summary and the rest, written by FinishRun
	ErrorText           string

	// JudgeCostUSD is what grading the run's model-graded assertions cost
	// (the judge target's tokens at its price), kept apart from CostUSD.
	// Written by FinishRun and ImportRuns; 0 for runs without a judge.
	JudgeCostUSD float64

	// SamplesPrunedAt is when retention deleted the run's samples and
	// assertion results (storage.retain_samples); zero while they are kept.
	SamplesPrunedAt time.Time
}

// RunFilter selects runs. Empty fields match everything.
type RunFilter struct {
	Suite, Target, Trigger string
	Status                 Status
	// Limit caps the number of runs; see Runs and History for the default.
	Limit int
	// BeforeID, when positive, keeps runs with ID < BeforeID (paging back).
	BeforeID int64
	// AfterID, when positive, keeps runs with ID > AfterID (paging on).
	AfterID int64
	// Since and Until, when set, keep the runs that started at or after
	// Since and before Until.
	Since, Until time.Time
	// Production keeps the runs of role RoleProduction: it leaves out CI
	// gates' candidates and the arms of side-by-side comparisons.
	Production bool
	// Completed keeps the runs that completed and were judged (see
	// Status.Completed).
	Completed bool
}

// productionRun is the SQL condition of a production run (see Role).
const productionRun = `role = 'production'`

// completedRun is the SQL condition of a completed run (Status.Completed),
// with its three statuses as arguments.
const completedRun = `status IN (?, ?, ?)`

// Production reports whether r measured production (see Role).
func (r Run) Production() bool { return r.Role == RoleProduction }

// DefaultRunsLimit is how many runs Runs returns when the filter sets no limit.
const DefaultRunsLimit = 100

const runColumns = `id, suite, target, run_trigger, status, started_at, finished_at,
	suite_version, prompt_version, target_version, thresholds, cases, samples, errors,
	pass_rate, mean_score, prompt_tokens, completion_tokens, cost_usd, duration_ms,
	verdict, verdict_detail, detail, error_text, judge_cost_usd, role, samples_pruned_at`

type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner) (Run, error) {
	var (
		r                   Run
		started             string
		finished, pruned    sql.NullString
		passRate, meanScore sql.NullFloat64
		cost, judgeCost     sql.NullFloat64
	)
	err := sc.Scan(&r.ID, &r.Suite, &r.Target, &r.Trigger, &r.Status, &started, &finished,
		&r.SuiteVersion, &r.PromptVersion, &r.TargetVersion, &r.ThresholdsJSON, &r.Cases, &r.Samples, &r.Errors,
		&passRate, &meanScore, &r.PromptTokens, &r.CompletionTokens, &cost, &r.DurationMS,
		&r.Verdict, &r.VerdictDetail, &r.Detail, &r.ErrorText, &judgeCost, &r.Role, &pruned)
	if err != nil {
		return Run{}, err
	}
	if r.StartedAt, err = parseTime(started); err != nil {
		return Run{}, err
	}
	if r.FinishedAt, err = parseNullTime(finished); err != nil {
		return Run{}, err
	}
	if r.SamplesPrunedAt, err = parseNullTime(pruned); err != nil {
		return Run{}, err
	}
	r.PassRate, r.MeanScore = ptrOf(passRate), ptrOf(meanScore)
	r.CostUSD, r.JudgeCostUSD = cost.Float64, judgeCost.Float64
	return r, nil
}

// upsertSuite records the suite's name the first time it is seen.
func upsertSuite(ctx context.Context, tx *sql.Tx, name string, now time.Time) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO suites (name, first_seen) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, formatTime(now))
	return err
}

// CreateRun records the start of a run and returns its ID. The run is
// stored with status "running" (r.Status must be "" or "running") and no
// finish time; StartedAt defaults to now and Role to RoleProduction. The
// suite is recorded too.
func (s *Store) CreateRun(ctx context.Context, r Run) (int64, error) {
	if r.Status != "" && r.Status != StatusRunning {
		return 0, fmt.Errorf("create run: status %q: a run starts as %q", r.Status, StatusRunning)
	}
	if r.Suite == "" || r.Target == "" {
		return 0, errors.New("create run: suite and target are required")
	}
	role, err := roleOf(r.Role)
	if err != nil {
		return 0, fmt.Errorf("create run: %w", err)
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = s.now()
	}
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := upsertSuite(ctx, tx, r.Suite, s.now()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (suite, target, run_trigger, status, started_at, finished_at,
			suite_version, prompt_version, target_version, thresholds, cases, samples, errors,
			pass_rate, mean_score, prompt_tokens, completion_tokens, cost_usd, duration_ms,
			verdict, verdict_detail, detail, error_text, role)
			VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Suite, r.Target, r.Trigger, StatusRunning, formatTime(r.StartedAt),
			r.SuiteVersion, r.PromptVersion, r.TargetVersion, r.ThresholdsJSON, r.Cases, r.Samples, r.Errors,
			finitePtr(r.PassRate), finitePtr(r.MeanScore), r.PromptTokens, r.CompletionTokens, finite(r.CostUSD), r.DurationMS,
			r.Verdict, r.VerdictDetail, r.Detail, r.ErrorText, role)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		// Locked before the row commits: a committed running row always
		// has a lock file, held while its process lives.
		return s.lockRun(id)
	})
	if err != nil {
		if id != 0 {
			s.unlockRun(id)
		}
		return 0, fmt.Errorf("create run: %w", err)
	}
	return id, nil
}

// FinishRun records the end of run r.ID: its final status, FinishedAt
// (default now), thresholds, aggregates (cases, samples, errors, rates,
// tokens, cost, duration), Detail and ErrorText. The identity fields
// (suite, target, trigger, versions, StartedAt) and the verdict are left as
// stored. It fails when the run does not exist (wrapping ErrNotFound) or is
// no longer running, so a run is finished once.
func (s *Store) FinishRun(ctx context.Context, r Run) error {
	if !r.Status.Final() {
		return fmt.Errorf("finish run %d: status %q is not a final status", r.ID, r.Status)
	}
	if r.FinishedAt.IsZero() {
		r.FinishedAt = s.now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error { return finishRun(ctx, tx, r) })
	if err != nil {
		return fmt.Errorf("finish run %d: %w", r.ID, err)
	}
	s.unlockRun(r.ID)
	return nil
}

// finishRun writes r's end inside tx; the run must still be running.
func finishRun(ctx context.Context, tx *sql.Tx, r Run) error {
	res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, finished_at = ?, thresholds = ?,
		cases = ?, samples = ?, errors = ?, pass_rate = ?, mean_score = ?,
		prompt_tokens = ?, completion_tokens = ?, cost_usd = ?, duration_ms = ?,
		detail = ?, error_text = ?, judge_cost_usd = ?
		WHERE id = ? AND status = ?`,
		r.Status, formatTime(r.FinishedAt), r.ThresholdsJSON,
		r.Cases, r.Samples, r.Errors, finitePtr(r.PassRate), finitePtr(r.MeanScore),
		r.PromptTokens, r.CompletionTokens, finite(r.CostUSD), r.DurationMS,
		r.Detail, r.ErrorText, finite(r.JudgeCostUSD),
		r.ID, StatusRunning)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	status, err := runStatus(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	return fmt.Errorf("run is %s, %w", status, ErrNotRunning)
}

// roleOf is the role a run is created with: RoleProduction when none is
// given; an unknown role is an error.
func roleOf(r Role) (Role, error) {
	switch r {
	case "":
		return RoleProduction, nil
	case RoleProduction, RoleCandidate, RoleReference:
		return r, nil
	}
	return "", fmt.Errorf("unknown run role %q", r)
}

// runStatus reads a run's status inside tx, wrapping ErrNotFound when the
// run does not exist.
func runStatus(ctx context.Context, tx *sql.Tx, id int64) (Status, error) {
	var status Status
	err := tx.QueryRowContext(ctx, `SELECT status FROM runs WHERE id = ?`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("no such run: %w", ErrNotFound)
	}
	return status, err
}

// SetVerdict records the drift verdict of a run and its JSON evidence
// (kept apart from the run's Detail, which it does not touch). It may be
// called again to replace them.
func (s *Store) SetVerdict(ctx context.Context, runID int64, verdict, detail string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET verdict = ?, verdict_detail = ? WHERE id = ?`, verdict, detail, runID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("no such run: %w", ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set verdict of run %d: %w", runID, err)
	}
	return nil
}

// InterruptRunning marks every run still "running" as "interrupted",
// finished now, with reason as its error text, and returns how many it
// marked. It is crash recovery for startup, under the single-instance
// lock: any run still running then was left by a process that is gone,
// except runs with one of the spare triggers, which another live process
// may still be recording.
func (s *Store) InterruptRunning(ctx context.Context, reason string, spare ...string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		q := `UPDATE runs SET status = ?, finished_at = ?, error_text = ? WHERE status = ?`
		args := []any{StatusInterrupted, formatTime(s.now()), reason, StatusRunning}
		for _, t := range spare {
			q += ` AND run_trigger <> ?`
			args = append(args, t)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("interrupt running runs: %w", err)
	}
	return int(n), nil
}

// Run returns the run with the given ID, or an error wrapping ErrNotFound.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("read run %d: %w", id, err)
	}
	return r, nil
}

// Runs returns the runs matching f, newest first (by ID). A Limit of 0 or
// less means DefaultRunsLimit.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultRunsLimit
	}
	runs, err := s.queryRuns(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return runs, nil
}

// History returns the newest f.Limit runs matching f (all of them when
// Limit is 0 or less) in the order they started, oldest first. It holds
// them all: `evald history` streams them with EachRun instead.
func (s *Store) History(ctx context.Context, f RunFilter) ([]Run, error) {
	var runs []Run
	err := s.EachRun(ctx, f, OldestFirst, func(r Run) error {
		runs = append(runs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return runs, nil
}

// Order is the order EachRun visits runs in.
type Order int

const (
	// NewestFirst visits the highest run ID first.
	NewestFirst Order = iota
	// OldestFirst visits the lowest run ID first.
	OldestFirst
)

// eachRunPage is how many runs EachRun reads per query: its memory, and
// the length of the read snapshot each query holds.
const eachRunPage = 500

// EachRun calls fn with each run matching f, in order; with f.Limit > 0
// only the newest f.Limit of them (still visited in order). It reads a
// page of runs per query, keyed on the run ID, so its memory stays the
// same at any size and no read snapshot is held for long; a run recorded
// while it pages may or may not be visited. It stops at fn's first error
// and returns it.
func (s *Store) EachRun(ctx context.Context, f RunFilter, order Order, fn func(Run) error) error {
	remaining := f.Limit
	if order == OldestFirst && f.Limit > 0 {
		// The oldest of the newest f.Limit runs is where the walk starts.
		where, args := runWhere(f)
		ids, err := queryAll(ctx, s.r, scanInt64, `SELECT id FROM runs`+where+` ORDER BY id DESC LIMIT 1 OFFSET ?`,
			append(args, f.Limit-1)...)
		if err != nil {
			return fmt.Errorf("list runs: %w", err)
		}
		if len(ids) == 1 {
			f.AfterID = max(f.AfterID, ids[0]-1)
		}
		remaining = 0
	}
	for {
		page := f
		page.Limit = eachRunPage
		if remaining > 0 {
			page.Limit = min(eachRunPage, remaining)
		}
		where, args := runWhere(page)
		q := `SELECT ` + runColumns + ` FROM runs` + where + ` ORDER BY id DESC LIMIT ?`
		if order == OldestFirst {
			q = `SELECT ` + runColumns + ` FROM runs` + where + ` ORDER BY id LIMIT ?`
		}
		runs, err := queryAll(ctx, s.r, scanRun, q, append(args, page.Limit)...)
		if err != nil {
			return fmt.Errorf("list runs: %w", err)
		}
		for _, r := range runs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(runs) < page.Limit {
			return nil
		}
		if remaining > 0 {
			if remaining -= len(runs); remaining == 0 {
				return nil
			}
		}
		last := runs[len(runs)-1].ID
		if order == OldestFirst {
			f.AfterID = last
		} else {
			f.BeforeID = last
		}
	}
}

// queryRuns returns the runs matching f, newest first; no limit when
// f.Limit <= 0.
func (s *Store) queryRuns(ctx context.Context, f RunFilter) ([]Run, error) {
	where, args := runWhere(f)
	q := `SELECT ` + runColumns + ` FROM runs` + where + ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return queryAll(ctx, s.r, scanRun, q, args...)
}

// runWhere is f's WHERE clause (with its leading space; "" for none) and
// its arguments. It ignores f.Limit.
func runWhere(f RunFilter) (string, []any) {
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, val string }{
		{"suite", f.Suite}, {"target", f.Target}, {"run_trigger", f.Trigger}, {"status", string(f.Status)},
	} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	if f.AfterID > 0 {
		where = append(where, "id > ?")
		args = append(args, f.AfterID)
	}
	if !f.Since.IsZero() {
		where = append(where, "started_at >= ?")
		args = append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "started_at < ?")
		args = append(args, formatTime(f.Until))
	}
	if f.Production {
		where = append(where, productionRun)
	}
	if f.Completed {
		where = append(where, completedRun)
		args = append(args, StatusPassed, StatusFailed, StatusRegressed)
	}
	if len(where) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(where, ` AND `), args
}

// CostSince returns what suite has cost since since, in USD, on every
// target: its runs that started then or later (the model under test and
// the judge that graded its answers), and the calibrations of its judge
// and regrades of its runs recorded then or later, which pay the judge
// outside any run. One statement, so the three sums are one snapshot.
func (s *Store) CostSince(ctx context.Context, suite string, since time.Time) (float64, error) {
	var cost float64
	t := formatTime(since)
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(SUM(cost_usd), 0) + COALESCE(SUM(judge_cost_usd), 0) FROM runs WHERE suite = ? AND started_at >= ?)
		+ (SELECT COALESCE(SUM(cost_usd), 0) FROM judge_calibrations WHERE suite = ? AND at >= ?)
		+ (SELECT COALESCE(SUM(cost_usd), 0) FROM judge_regrades WHERE suite = ? AND at >= ?)`,
		suite, t, suite, t, suite, t).Scan(&cost)
	if err != nil {
		return 0, fmt.Errorf("cost of suite %s: %w", suite, err)
	}
	return cost, nil
}

// RunTextWidths are the longest texts of the runs EachRun would visit with
// a filter: what a table of them needs to align its columns up front.
type RunTextWidths struct {
	Runs          int
	Suite, Target int
	// Trigger is the longest trigger of each role's runs (0: no such run).
	Trigger map[Role]int
	MaxID   int64
}

// TextWidths measures the runs matching f (the newest f.Limit of them when
// f.Limit > 0), in one query that holds none of them.
func (s *Store) TextWidths(ctx context.Context, f RunFilter) (RunTextWidths, error) {
	where, args := runWhere(f)
	from := `runs` + where
	if f.Limit > 0 {
		from = `(SELECT id, suite, target, run_trigger, role FROM runs` + where + ` ORDER BY id DESC LIMIT ?)`
		args = append(args, f.Limit)
	}
	w := RunTextWidths{Trigger: map[Role]int{}}
	rows, err := s.r.QueryContext(ctx, `SELECT role, count(*), max(length(suite)), max(length(target)), max(length(run_trigger)), max(id)
		FROM `+from+` GROUP BY role`, args...)
	if err != nil {
		return w, fmt.Errorf("measure runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			role                   Role
			n, suite, target, trig int
			maxID                  int64
		)
		if err := rows.Scan(&role, &n, &suite, &target, &trig, &maxID); err != nil {
			return w, fmt.Errorf("measure runs: %w", err)
		}
		w.Runs += n
		w.Suite, w.Target, w.MaxID = max(w.Suite, suite), max(w.Target, target), max(w.MaxID, maxID)
		w.Trigger[role] = trig
	}
	if err := rows.Err(); err != nil {
		return w, fmt.Errorf("measure runs: %w", err)
	}
	return w, nil
}

// PageEnd is the oldest of the newest f.Limit runs matching f (the last
// run of a page of them) and whether older ones match too; 0 and false
// when no more than f.Limit runs match. f.Limit must be positive.
func (s *Store) PageEnd(ctx context.Context, f RunFilter) (last int64, more bool, err error) {
	where, args := runWhere(f)
	ids, err := queryAll(ctx, s.r, scanInt64, `SELECT id FROM runs`+where+` ORDER BY id DESC LIMIT 2 OFFSET ?`,
		append(args, max(f.Limit, 1)-1)...)
	if err != nil {
		return 0, false, fmt.Errorf("page of runs: %w", err)
	}
	if len(ids) < 2 {
		return 0, false, nil
	}
	return ids[0], true, nil
}
