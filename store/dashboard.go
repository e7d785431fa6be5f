package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The dashboard's reads. They never read samples except for one run's page,
// and the trend of a pair reads the runs_pair_started index (0008) alone.

// TrendPoint summarises the finished runs of one suite on one target that
// started within one time bucket (see Trend).
type TrendPoint struct {
	// From and To are the start times of the bucket's first and last run.
	From, To time.Time
	// LastRunID is the highest run ID of the bucket.
	LastRunID int64
	// Runs counts the bucket's runs by status.
	Runs map[Status]int
	// Measured counts the runs with a pass rate; the means below are over
	// them and mean nothing when it is 0.
	Measured                   int
	PassRate, MinPass, MaxPass float64
	// Cases is the mean number of cases a run measured: the run's cases,
	// less one per errored sample when some errored (a lower bound, since a
	// case with several samples may keep a valid one).
	Cases float64
}

// Total is the number of runs in the bucket.
func (p TrendPoint) Total() int {
	n := 0
	for _, c := range p.Runs {
		n += c
	}
	return n
}

// Trend returns the pass rate of the finished production runs of suite
// on target (CI gates' candidates and arms are left out) that started at
// or after since, oldest first, in at most
// maxPoints points: one per run while there are no more than maxPoints
// runs, else one per time bucket of equal width from the first run to the
// last. It walks the runs_pair_started index, and groups in Go: a
// GROUP BY on a time expression sorts every row, which costs more than
// reading them.
func (s *Store) Trend(ctx context.Context, suite, target string, since time.Time, maxPoints int) ([]TrendPoint, error) {
	out, err := s.trend(ctx, suite, target, since, max(maxPoints, 1))
	if err != nil {
		return nil, fmt.Errorf("trend of suite %s on target %s: %w", suite, target, err)
	}
	return out, nil
}

// trendRun is one run as Trend reads it.
type trendRun struct {
	id            int64
	at            time.Time
	status        Status
	passRate      sql.NullFloat64
	cases, errors int
}

// trendQuery reads a pair's finished production runs since a time, in the
// order of the runs_pair_started index.
const trendQuery = `SELECT id, started_at, status, pass_rate, cases, errors
	FROM runs
	WHERE suite = ? AND target = ? AND ` + productionRun + ` AND started_at >= ? AND status <> ?
	ORDER BY started_at`

func (s *Store) trend(ctx context.Context, suite, target string, since time.Time, maxPoints int) ([]TrendPoint, error) {
	rows, err := s.r.QueryContext(ctx, trendQuery, suite, target, formatTime(since), StatusRunning)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		runs []trendRun
		vals = make([]any, 6)
		ptrs = make([]any, len(vals))
	)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		// Scanning into interfaces skips database/sql's conversions, which
		// cost more than the query on a year of runs.
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var r trendRun
		id, ok1 := vals[0].(int64)
		started, ok2 := vals[1].(string)
		status, ok3 := vals[2].(string)
		cases, ok4 := vals[4].(int64)
		errs, ok5 := vals[5].(int64)
		if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
			return nil, fmt.Errorf("unexpected column types %T, %T, %T, %T, %T", vals[0], vals[1], vals[2], vals[4], vals[5])
		}
		r.id, r.status, r.cases, r.errors = id, Status(status), int(cases), int(errs)
		switch pr := vals[3].(type) {
		case float64:
			r.passRate = sql.NullFloat64{Float64: pr, Valid: true}
		case int64:
			r.passRate = sql.NullFloat64{Float64: float64(pr), Valid: true}
		}
		if r.at, err = parseTime(started); err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, nil
	}
	t0 := runs[0].at
	width := time.Duration(0) // 0: a point per run
	if len(runs) > maxPoints {
		width = runs[len(runs)-1].at.Sub(t0)/time.Duration(maxPoints) + 1
	}
	var (
		out              []TrendPoint
		bucket           int64 = -1
		sumPass, sumCase float64
	)
	finish := func() {
		if len(out) == 0 {
			return
		}
		p := &out[len(out)-1]
		if p.Measured == 0 {
			p.MinPass = 0
			return
		}
		m := float64(p.Measured)
		p.PassRate, p.Cases = sumPass/m, sumCase/m
	}
	for i, r := range runs {
		b := int64(i)
		if width > 0 {
			b = int64(r.at.Sub(t0) / width)
		}
		if b != bucket {
			finish()
			bucket, sumPass, sumCase = b, 0, 0
			out = append(out, TrendPoint{From: r.at, Runs: map[Status]int{}, MinPass: 1})
		}
		p := &out[len(out)-1]
		p.To, p.LastRunID = r.at, max(p.LastRunID, r.id)
		p.Runs[r.status]++
		if r.passRate.Valid {
			p.Measured++
			pr := r.passRate.Float64
			sumPass += pr
			sumCase += measuredCases(r.cases, r.errors)
			p.MinPass, p.MaxPass = min(p.MinPass, pr), max(p.MaxPass, pr)
		}
	}
	finish()
	return out, nil
}

// measuredCases is how many cases a run's pass rate is over: all its cases
// when no sample errored, else a lower bound (one case lost per errored
// sample).
func measuredCases(cases, errs int) float64 {
	switch {
	case errs == 0:
		return float64(cases)
	case errs < cases:
		return float64(cases - errs)
	}
	return 1
}

// RunPoint is what the charts and the table of a suite's page need of a
// run: no thresholds and no detail, but the verdict's JSON evidence.
type RunPoint struct {
	ID                                         int64
	Trigger                                    string
	Status                                     Status
	StartedAt                                  time.Time
	SuiteVersion, PromptVersion, TargetVersion string
	Cases, Errors                              int
	PassRate, MeanScore                        *float64
	CostUSD                                    float64
	DurationMS                                 int64
	Verdict, VerdictDetail                     string
}

// MeasuredCases is how many cases the run's pass rate is over, as Trend
// counts them.
func (p RunPoint) MeasuredCases() float64 { return measuredCases(p.Cases, p.Errors) }

// RunPoints returns the finished runs of suite on target that started at
// or after since, oldest first, without their details.
func (s *Store) RunPoints(ctx context.Context, suite, target string, since time.Time) ([]RunPoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, run_trigger, status, started_at, suite_version, prompt_version, target_version,
			cases, errors, pass_rate, mean_score, cost_usd, duration_ms, verdict, verdict_detail
		FROM runs
		WHERE suite = ? AND target = ? AND started_at >= ? AND status <> ?
		ORDER BY started_at, id`,
		suite, target, formatTime(since), StatusRunning)
	if err != nil {
		return nil, fmt.Errorf("run points of suite %s on target %s: %w", suite, target, err)
	}
	defer rows.Close()
	var (
		out  []RunPoint
		vals = make([]any, 15)
		ptrs = make([]any, len(vals))
		prev RunPoint
	)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	wrap := func(err error) error {
		return fmt.Errorf("run points of suite %s on target %s: %w", suite, target, err)
	}
	for rows.Next() {
		// Scanning into interfaces skips database/sql's conversions, which
		// cost more than the query on a year of runs (as in trend).
		if err := rows.Scan(ptrs...); err != nil {
			return nil, wrap(err)
		}
		var p RunPoint
		var started string
		var ok [8]bool
		p.ID, ok[0] = vals[0].(int64)
		p.Trigger, ok[1] = vals[1].(string)
		var status string
		status, ok[2] = vals[2].(string)
		p.Status = Status(status)
		started, ok[3] = vals[3].(string)
		var cases, errs int64
		cases, ok[4] = vals[7].(int64)
		errs, ok[5] = vals[8].(int64)
		p.DurationMS, ok[6] = vals[12].(int64)
		p.Verdict, ok[7] = vals[13].(string)
		for i, good := range ok {
			if !good {
				return nil, wrap(fmt.Errorf("column %d: unexpected type %T", i, vals[i]))
			}
		}
		p.Cases, p.Errors = int(cases), int(errs)
		// Consecutive runs share their versions: keep one copy.
		p.SuiteVersion = sameString(vals[4], prev.SuiteVersion)
		p.PromptVersion = sameString(vals[5], prev.PromptVersion)
		p.TargetVersion = sameString(vals[6], prev.TargetVersion)
		p.PassRate, p.MeanScore = anyFloatPtr(vals[9]), anyFloatPtr(vals[10])
		if c := anyFloatPtr(vals[11]); c != nil {
			p.CostUSD = *c
		}
		p.VerdictDetail, _ = vals[14].(string)
		var err error
		if p.StartedAt, err = parseTime(started); err != nil {
			return nil, wrap(err)
		}
		out = append(out, p)
		prev = p
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// sameString is v as a string, reusing last when they are equal.
func sameString(v any, last string) string {
	s, _ := v.(string)
	if s == last {
		return last
	}
	return s
}

// anyFloatPtr reads a REAL (or an INTEGER) column scanned into an
// interface; nil for NULL.
func anyFloatPtr(v any) *float64 {
	switch f := v.(type) {
	case float64:
		return &f
	case int64:
		x := float64(f)
		return &x
	}
	return nil
}

// PreviousRun returns the newest production run (CI gates' runs are left
// out) before run beforeID of the same suite on the same target, made from
// the same suite and target versions, whose status is one of statuses (any
// when none is given); an error wrapping ErrNotFound when there is none.
func (s *Store) PreviousRun(ctx context.Context, r Run, beforeID int64, statuses ...Status) (Run, error) {
	q := `SELECT ` + runColumns + ` FROM runs
		WHERE suite = ? AND target = ? AND id < ? AND suite_version = ? AND target_version = ? AND ` + productionRun
	args := []any{r.Suite, r.Target, beforeID, r.SuiteVersion, r.TargetVersion}
	if len(statuses) > 0 {
		q += ` AND status IN (?` + strings.Repeat(`, ?`, len(statuses)-1) + `)`
		for _, st := range statuses {
			args = append(args, st)
		}
	}
	q += ` ORDER BY id DESC LIMIT 1`
	prev, err := scanRun(s.r.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("run of suite %s on target %s before run %d: %w", r.Suite, r.Target, beforeID, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("read run of suite %s on target %s before run %d: %w", r.Suite, r.Target, beforeID, err)
	}
	return prev, nil
}

// AuditFilter selects audit entries. Empty fields match everything.
type AuditFilter struct {
	Actions []string
	// Since keeps entries at or after it.
	Since time.Time
	// BeforeSeq, when positive, keeps entries with Seq < BeforeSeq (paging back).
	BeforeSeq int64
	// Limit caps the number of entries; 0 or less: no limit.
	Limit int
}

// AuditEntries returns the audit entries matching f, newest first, as
// stored (verification is the caller's).
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var (
		where []string
		args  []any
	)
	if len(f.Actions) > 0 {
		where = append(where, `action IN (?`+strings.Repeat(`, ?`, len(f.Actions)-1)+`)`)
		for _, a := range f.Actions {
			args = append(args, a)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, `at >= ?`)
		args = append(args, formatTime(f.Since))
	}
	if f.BeforeSeq > 0 {
		where = append(where, `seq < ?`)
		args = append(args, f.BeforeSeq)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY seq DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.r, scanAudit, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}
