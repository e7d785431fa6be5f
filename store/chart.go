package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// The suite page's charts at any length of history: past a few hundred runs
// they draw time buckets, which SQL sums here, and the page's "what
// changed" markers need only the runs where something changed.

// RunSpan is how many finished runs of suite on target started at or after
// since, and when the first of them started (zero when none).
func (s *Store) RunSpan(ctx context.Context, suite, target string, since time.Time) (int, time.Time, error) {
	var (
		n     int
		first sql.NullString
	)
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MIN(started_at) FROM runs INDEXED BY runs_pair_chart
		WHERE suite = ? AND target = ? AND started_at >= ? AND status <> ?`,
		suite, target, formatTime(since), StatusRunning).Scan(&n, &first)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count runs of suite %s on target %s: %w", suite, target, err)
	}
	t, err := parseNullTime(first)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count runs of suite %s on target %s: %w", suite, target, err)
	}
	return n, t, nil
}

// RunBucket is the finished runs of one chart bucket, summed.
type RunBucket struct {
	// Index is the bucket's number: floor((started_at - t0) / width).
	Index    int64
	From, To time.Time // the first and the last run's start
	Runs     int
	// Measured counts the runs with both a pass rate and a mean score; the
	// sums, lowest and highest are over those.
	Measured                    int
	SumPass, SumScore, SumCases float64
	MinPass, MaxPass            float64
	MinScore, MaxScore          float64
	LastID                      int64 // the newest run
	Statuses                    map[Status]int
	// S is the highest CUSUM statistic of the runs whose verdict has an
	// alarm threshold, H the threshold of the newest of them; NaN when
	// none has one.
	S, H float64
}

// RunBuckets sums the finished runs of suite on target that started at or
// after since into buckets of width from t0, oldest first; empty buckets
// are left out. A run's pass rate counts over MeasuredCases.
func (s *Store) RunBuckets(ctx context.Context, suite, target string, since, t0 time.Time, width time.Duration) ([]RunBucket, error) {
	wrap := func(err error) error {
		return fmt.Errorf("chart buckets of suite %s on target %s: %w", suite, target, err)
	}
	if width <= 0 {
		return nil, wrap(fmt.Errorf("bucket width %s is not positive", width))
	}
	// The bucket number is integer arithmetic on the start in nanoseconds
	// (started_ns, from the stored text), the same as Go's time arithmetic.
	// Every column read is in runs_pair_chart: no run's row is read.
	rows, err := s.r.QueryContext(ctx, `SELECT (started_ns - ?) / ? AS k, status, COUNT(*), MIN(started_ns), MAX(started_ns), MAX(id),
			SUM(m), SUM(CASE WHEN m THEN pass_rate END), SUM(CASE WHEN m THEN mean_score END),
			SUM(CASE WHEN NOT m THEN 0 WHEN errors = 0 THEN cases WHEN errors < cases THEN cases - errors ELSE 1 END),
			MIN(CASE WHEN m THEN pass_rate END), MAX(CASE WHEN m THEN pass_rate END),
			MIN(CASE WHEN m THEN mean_score END), MAX(CASE WHEN m THEN mean_score END),
			MAX(cusum_s), MAX(cusum_h)
		FROM (
			SELECT id, status, pass_rate, mean_score, cases, errors, started_ns, cusum_s, cusum_h,
				pass_rate IS NOT NULL AND mean_score IS NOT NULL AS m
			FROM runs INDEXED BY runs_pair_chart
			WHERE suite = ? AND target = ? AND started_at >= ? AND status <> ?
		)
		GROUP BY k, status ORDER BY k`,
		t0.UnixNano(), width.Nanoseconds(), suite, target, formatTime(since), StatusRunning)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []RunBucket
	for rows.Next() {
		var (
			k, lastID, runs      int64
			status               string
			from, to             int64
			measured             sql.NullInt64
			maxH, sp, ss, sc     sql.NullFloat64
			minP, maxP, minS, mS sql.NullFloat64
			maxCusum             sql.NullFloat64
		)
		if err := rows.Scan(&k, &status, &runs, &from, &to, &lastID, &measured, &sp, &ss, &sc,
			&minP, &maxP, &minS, &mS, &maxCusum, &maxH); err != nil {
			return nil, wrap(err)
		}
		f, t := time.Unix(0, from).UTC(), time.Unix(0, to).UTC()
		if len(out) == 0 || out[len(out)-1].Index != k {
			out = append(out, RunBucket{Index: k, From: f, To: t, Statuses: map[Status]int{},
				MinPass: math.Inf(1), MaxPass: math.Inf(-1), MinScore: math.Inf(1), MaxScore: math.Inf(-1), S: math.NaN(), H: math.NaN()})
		}
		b := &out[len(out)-1]
		if f.Before(b.From) {
			b.From = f
		}
		if t.After(b.To) {
			b.To = t
		}
		b.Runs += int(runs)
		b.Statuses[Status(status)] += int(runs)
		b.LastID = max(b.LastID, lastID)
		if maxH.Valid && (math.IsNaN(b.H) || maxH.Float64 > b.H) {
			b.H = maxH.Float64
		}
		if maxCusum.Valid && (math.IsNaN(b.S) || maxCusum.Float64 > b.S) {
			b.S = maxCusum.Float64
		}
		if measured.Int64 > 0 {
			b.Measured += int(measured.Int64)
			b.SumPass += sp.Float64
			b.SumScore += ss.Float64
			b.SumCases += sc.Float64
			b.MinPass, b.MaxPass = math.Min(b.MinPass, minP.Float64), math.Max(b.MaxPass, maxP.Float64)
			b.MinScore, b.MaxScore = math.Min(b.MinScore, minS.Float64), math.Max(b.MaxScore, mS.Float64)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// RunChange is a run where something the suite page marks happened: its
// versions differ from the run before it in the range (Prev* hold that
// run's), or its verdict pages, records a provider identity change or
// says the pair recovered.
type RunChange struct {
	RunPoint
	// First is set on the range's first run, which has no run before it.
	First                                                  bool
	PrevSuiteVersion, PrevPromptVersion, PrevTargetVersion string
}

// RunChanges returns the RunChanges among the finished runs of suite on
// target that started at or after since, oldest first.
func (s *Store) RunChanges(ctx context.Context, suite, target string, since time.Time) ([]RunChange, error) {
	wrap := func(err error) error {
		return fmt.Errorf("changes of suite %s on target %s: %w", suite, target, err)
	}
	// One pass over runs_pair_chart (no run's row) finds them, comparing
	// each run's versions with the run before it in Go: SQL's LAG buffers
	// the whole range and costs more. Then only their verdicts are read.
	rows, err := s.r.QueryContext(ctx, `SELECT id, status, started_at, suite_version, prompt_version, target_version, verdict_mark
		FROM runs INDEXED BY runs_pair_chart
		WHERE suite = ? AND target = ? AND started_at >= ? AND status <> ?
		ORDER BY started_at, id`,
		suite, target, formatTime(since), StatusRunning)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var (
		out           []RunChange
		marked        []int // indexes into out of the runs whose verdict is read
		id, mark      int64
		st, started   sql.RawBytes
		sv, pv, tv    sql.RawBytes
		psv, ppv, ptv []byte
		first         = true
	)
	for rows.Next() {
		if err := rows.Scan(&id, &st, &started, &sv, &pv, &tv, &mark); err != nil {
			return nil, wrap(err)
		}
		changed := !first && (string(sv) != string(psv) || string(pv) != string(ppv) || string(tv) != string(ptv))
		if changed || mark != 0 {
			c := RunChange{RunPoint: RunPoint{ID: id, Status: Status(st), SuiteVersion: string(sv), PromptVersion: string(pv), TargetVersion: string(tv)},
				First: first, PrevSuiteVersion: string(psv), PrevPromptVersion: string(ppv), PrevTargetVersion: string(ptv)}
			if c.StartedAt, err = parseTime(string(started)); err != nil {
				return nil, wrap(err)
			}
			if mark != 0 {
				marked = append(marked, len(out))
			}
			out = append(out, c)
		}
		psv, ppv, ptv = append(psv[:0], sv...), append(ppv[:0], pv...), append(ptv[:0], tv...)
		first = false
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	for _, i := range marked {
		var detail sql.NullString
		if err := s.r.QueryRowContext(ctx, `SELECT verdict_detail FROM runs WHERE id = ?`, out[i].ID).Scan(&detail); err != nil {
			return nil, wrap(err)
		}
		out[i].VerdictDetail = detail.String
	}
	return out, nil
}
