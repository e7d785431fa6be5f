package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Sample is one model answer to one case of a run, with its grading.
type Sample struct {
	RunID            int64 // set when read; AddSamples takes the run ID as an argument
	CaseID           string
	CaseIndex        int
	Repeat           int
	Output           string
	FinishReason     string
	LatencyMS        float64
	PromptTokens     int
	CompletionTokens int
	Model            string
	Fingerprint      string
	// ErrorClass and ErrorText are "" when the sample succeeded. An errored
	// sample is missing data: its Pass and Score mean nothing.
	ErrorClass, ErrorText string
	Attempts              int
	Pass                  bool
	Score                 float64 // a NaN or infinite score reads back as 0
	Results               []AssertionResult
	// The judge that graded the sample's model-graded assertions, and what
	// grading cost: "" and 0 when no assertion needed a judge (and for
	// samples recorded before the store kept them).
	JudgeModel, JudgeFingerprint             string
	JudgePromptTokens, JudgeCompletionTokens int
	JudgeCostUSD                             float64 // a NaN or infinite cost reads back as 0
	// Turns is the JSON of what each turn of an agent suite's case went
	// through (its messages, tool calls and results); "" for other
	// samples. The store keeps it as given.
	Turns string
}

// AssertionResult is the verdict of one assertion on a sample.
type AssertionResult struct {
	Type   string
	Pass   bool
	Score  float64
	Weight float64
	Reason string
	// Turn is the 1-based turn of a multi-turn case checked (0: one turn).
	Turn int
}

// Rows per INSERT statement. One multi-row statement costs far less than
// as many single-row ones (see BenchmarkAddSamples), and these sizes stay
// well under the bind-parameter limits of SQLite (32766) and PostgreSQL
// (65535).
const (
	sampleRowsPerInsert = 32
	resultRowsPerInsert = 64
)

var (
	sampleColumns = []string{"run_id", "seq", "case_id", "case_index", "repeat_index", "output", "finish_reason",
		"latency_ms", "prompt_tokens", "completion_tokens", "model", "fingerprint", "error_class", "error_text",
		"attempts", "pass", "score",
		"judge_model", "judge_fingerprint", "judge_prompt_tokens", "judge_completion_tokens", "judge_cost_usd", "turns", "passed"}
	resultColumns = []string{"run_id", "seq", "result_index", "assertion_type", "pass", "score", "weight", "reason", "turn"}
)

// AddSamples appends samples, with their assertion results, to a running
// run, in one transaction: after a crash a batch is there in full or not at
// all. It fails when the run does not exist or is no longer running.
func (s *Store) AddSamples(ctx context.Context, runID int64, samples []Sample) error {
	if err := s.addSamples(ctx, runID, samples, sampleRowsPerInsert, resultRowsPerInsert); err != nil {
		return fmt.Errorf("add samples to run %d: %w", runID, err)
	}
	return nil
}

// addSamples is AddSamples with the statement sizes as parameters, for the
// benchmark: 1 and 1 give row-at-a-time prepared inserts.
func (s *Store) addSamples(ctx context.Context, runID int64, samples []Sample, sampleRows, resultRows int) error {
	if len(samples) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		status, err := runStatus(ctx, tx, runID)
		if err != nil {
			return err
		}
		if status != StatusRunning {
			return fmt.Errorf("run is %s, %w", status, ErrNotRunning)
		}
		var next int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq) + 1, 0) FROM samples WHERE run_id = ?`, runID).Scan(&next); err != nil {
			return fmt.Errorf("next sample position: %w", err)
		}

		// All samples first, then all results: results reference samples.
		si := newBatchInsert(tx, "samples", sampleColumns, sampleRows)
		defer si.close()
		for i, sm := range samples {
			err := si.add(ctx, runID, next+int64(i), sm.CaseID, sm.CaseIndex, sm.Repeat, sm.Output, sm.FinishReason,
				finite(sm.LatencyMS), sm.PromptTokens, sm.CompletionTokens, sm.Model, sm.Fingerprint,
				sm.ErrorClass, sm.ErrorText, sm.Attempts, sm.Pass, finite(sm.Score),
				sm.JudgeModel, sm.JudgeFingerprint, sm.JudgePromptTokens, sm.JudgeCompletionTokens, finite(sm.JudgeCostUSD), sm.Turns,
				compactPasses(sm.Results))
			if err != nil {
				return err
			}
		}
		if err := si.flush(ctx); err != nil {
			return err
		}
		ri := newBatchInsert(tx, "assertion_results", resultColumns, resultRows)
		defer ri.close()
		for i, sm := range samples {
			for j, r := range sm.Results {
				if compactable(r) {
					continue
				}
				if err := ri.add(ctx, runID, next+int64(i), j, r.Type, r.Pass, finite(r.Score), finite(r.Weight), r.Reason, r.Turn); err != nil {
					return err
				}
			}
		}
		return ri.flush(ctx)
	})
}

// batchInsert buffers rows and inserts them perStmt rows to a statement.
// The full-size statement is prepared once per transaction and reused;
// the remainder gets a statement of its own size.
type batchInsert struct {
	tx      *sql.Tx
	table   string
	head    string // INSERT INTO table (columns) VALUES
	cols    int
	perStmt int
	full    *sql.Stmt
	args    []any
}

func newBatchInsert(tx *sql.Tx, table string, columns []string, perStmt int) *batchInsert {
	return &batchInsert{
		tx:      tx,
		table:   table,
		head:    "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ",
		cols:    len(columns),
		perStmt: max(1, perStmt),
	}
}

// add buffers one row and inserts the buffer when it is full.
func (b *batchInsert) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	if len(b.args) < b.perStmt*b.cols {
		return nil
	}
	if b.full == nil {
		st, err := b.tx.PrepareContext(ctx, b.valuesSQL(b.perStmt))
		if err != nil {
			return fmt.Errorf("prepare insert into %s: %w", b.table, err)
		}
		b.full = st
	}
	if _, err := b.full.ExecContext(ctx, b.args...); err != nil {
		return fmt.Errorf("insert into %s: %w", b.table, err)
	}
	b.reset()
	return nil
}

// flush inserts the buffered rows.
func (b *batchInsert) flush(ctx context.Context) error {
	n := len(b.args) / b.cols
	if n == 0 {
		return nil
	}
	if _, err := b.tx.ExecContext(ctx, b.valuesSQL(n), b.args...); err != nil {
		return fmt.Errorf("insert into %s: %w", b.table, err)
	}
	b.reset()
	return nil
}

// reset empties the buffer, dropping its references to the rows' strings.
func (b *batchInsert) reset() {
	clear(b.args)
	b.args = b.args[:0]
}

func (b *batchInsert) close() {
	if b.full != nil {
		_ = b.full.Close() // closing a statement of a finished transaction only frees it
	}
}

// valuesSQL is the INSERT statement for rows rows.
func (b *batchInsert) valuesSQL(rows int) string {
	row := "(" + strings.Repeat("?, ", b.cols-1) + "?)"
	var sb strings.Builder
	sb.Grow(len(b.head) + rows*(len(row)+2))
	sb.WriteString(b.head)
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
	}
	return sb.String()
}

// Samples returns the samples of a run with their assertion results,
// ordered by case index, then repeat, then the order they were added. A
// sample without results has nil Results; a run without samples, or no
// such run, has none. Both reads share one snapshot, so a batch being
// written is seen in full or not at all.
func (s *Store) Samples(ctx context.Context, runID int64) ([]Sample, error) {
	out, err := s.samples(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("read samples of run %d: %w", runID, err)
	}
	return out, nil
}

func (s *Store) samples(ctx context.Context, runID int64) ([]Sample, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to commit

	rows, err := tx.QueryContext(ctx, `SELECT seq, case_id, case_index, repeat_index, output, finish_reason,
		latency_ms, prompt_tokens, completion_tokens, model, fingerprint, error_class, error_text, attempts, pass, score,
		judge_model, judge_fingerprint, judge_prompt_tokens, judge_completion_tokens, judge_cost_usd, turns, passed
		FROM samples WHERE run_id = ? ORDER BY case_index, repeat_index, seq`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out   []Sample
		bySeq = map[int64]int{}
		// results holds each sample's results, compact and rows, with
		// their indexes, until they are put in order.
		results = map[int64][]indexedResult{}
	)
	for rows.Next() {
		var (
			sm                        Sample
			seq                       int64
			latency, score, judgeCost sql.NullFloat64
			passed                    string
		)
		if err := rows.Scan(&seq, &sm.CaseID, &sm.CaseIndex, &sm.Repeat, &sm.Output, &sm.FinishReason,
			&latency, &sm.PromptTokens, &sm.CompletionTokens, &sm.Model, &sm.Fingerprint, &sm.ErrorClass, &sm.ErrorText,
			&sm.Attempts, &sm.Pass, &score,
			&sm.JudgeModel, &sm.JudgeFingerprint, &sm.JudgePromptTokens, &sm.JudgeCompletionTokens, &judgeCost, &sm.Turns, &passed); err != nil {
			return nil, err
		}
		if results[seq], err = expandPasses(passed); err != nil {
			return nil, fmt.Errorf("sample %d of run %d: %w", seq, runID, err)
		}
		sm.RunID, sm.LatencyMS, sm.Score, sm.JudgeCostUSD = runID, latency.Float64, score.Float64, judgeCost.Float64
		bySeq[seq] = len(out)
		out = append(out, sm)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}

	rrows, err := tx.QueryContext(ctx, `SELECT seq, result_index, assertion_type, pass, score, weight, reason, turn
		FROM assertion_results WHERE run_id = ? ORDER BY seq, result_index`, runID)
	if err != nil {
		return nil, fmt.Errorf("assertion results: %w", err)
	}
	defer rrows.Close()
	for rrows.Next() {
		var (
			r             AssertionResult
			seq           int64
			index         int
			score, weight sql.NullFloat64
		)
		if err := rrows.Scan(&seq, &index, &r.Type, &r.Pass, &score, &weight, &r.Reason, &r.Turn); err != nil {
			return nil, fmt.Errorf("assertion results: %w", err)
		}
		r.Score, r.Weight = score.Float64, weight.Float64
		if _, ok := bySeq[seq]; !ok {
			return nil, fmt.Errorf("assertion result of missing sample %d", seq)
		}
		results[seq] = append(results[seq], indexedResult{index, r})
	}
	if err := rrows.Err(); err != nil {
		return nil, fmt.Errorf("assertion results: %w", err)
	}
	for seq, rs := range results {
		if len(rs) == 0 {
			continue
		}
		slices.SortFunc(rs, func(a, b indexedResult) int { return a.index - b.index })
		sm := &out[bySeq[seq]]
		sm.Results = make([]AssertionResult, len(rs))
		for i, r := range rs {
			sm.Results[i] = r.AssertionResult
		}
	}
	return out, nil
}

// indexedResult is an assertion result with its place among its sample's.
type indexedResult struct {
	index int
	AssertionResult
}

// compactable reports whether r is kept in its sample's compact text
// rather than as a row: a pass with no reason, finite numbers and a type
// that needs no quoting.
func compactable(r AssertionResult) bool {
	return r.Pass && r.Reason == "" && r.Type != "" && !strings.ContainsAny(r.Type, " \n\t") &&
		finite(r.Score).Valid && finite(r.Weight).Valid
}

// compactPasses is the compact text of results' compactable ones: a line
// "index type score weight turn" each.
func compactPasses(results []AssertionResult) string {
	var b []byte
	for i, r := range results {
		if !compactable(r) {
			continue
		}
		if len(b) > 0 {
			b = append(b, '\n')
		}
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ' ')
		b = append(b, r.Type...)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, r.Score, 'g', -1, 64)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, r.Weight, 'g', -1, 64)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.Turn), 10)
	}
	return string(b)
}

// expandPasses reads compactPasses' text back.
func expandPasses(text string) ([]indexedResult, error) {
	if text == "" {
		return nil, nil
	}
	var out []indexedResult
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 5 {
			return nil, fmt.Errorf("compact assertion result %q: want 5 fields", line)
		}
		index, err1 := strconv.Atoi(f[0])
		score, err2 := strconv.ParseFloat(f[2], 64)
		weight, err3 := strconv.ParseFloat(f[3], 64)
		turn, err4 := strconv.Atoi(f[4])
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, fmt.Errorf("compact assertion result %q: %w", line, err)
		}
		out = append(out, indexedResult{index, AssertionResult{Type: f[1], Pass: true, Score: score, Weight: weight, Turn: turn}})
	}
	return out, nil
}
