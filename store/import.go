package store

import (
	"context"
	"database/sql"
	"fmt"
)

// importRowsPerInsert keeps a multi-row INSERT of runs (26 columns) well
// under the bind-parameter limits.
const importRowsPerInsert = 64

// ImportRuns records finished runs as they are given, verdict and detail
// included, in one transaction, recording their suites too. It is for
// bringing history in from elsewhere and for generating benchmark
// databases; a live run goes through CreateRun and FinishRun. A run keeps
// its ID when it has one (it must be free) and gets the next one when its
// ID is 0. Every run needs a suite, a target, a final status and a finish
// time.
func (s *Store) ImportRuns(ctx context.Context, runs []Run) error {
	for i, r := range runs {
		switch {
		case r.Suite == "" || r.Target == "":
			return fmt.Errorf("import runs: run %d of %d: suite and target are required", i+1, len(runs))
		case !r.Status.Final():
			return fmt.Errorf("import runs: run %d of %d: status %q is not a final status", i+1, len(runs), r.Status)
		case r.StartedAt.IsZero() || r.FinishedAt.IsZero():
			return fmt.Errorf("import runs: run %d of %d: start and finish times are required", i+1, len(runs))
		}
		if _, err := roleOf(r.Role); err != nil {
			return fmt.Errorf("import runs: run %d of %d: %w", i+1, len(runs), err)
		}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		seen := map[string]bool{}
		for _, r := range runs {
			if !seen[r.Suite] {
				seen[r.Suite] = true
				if err := upsertSuite(ctx, tx, r.Suite, r.StartedAt); err != nil {
					return err
				}
			}
		}
		cols := []string{"id", "suite", "target", "run_trigger", "status", "started_at", "finished_at",
			"suite_version", "prompt_version", "target_version", "thresholds", "cases", "samples", "errors",
			"pass_rate", "mean_score", "prompt_tokens", "completion_tokens", "cost_usd", "duration_ms",
			"verdict", "verdict_detail", "detail", "error_text", "judge_cost_usd", "role"}
		ins := newBatchInsert(tx, "runs", cols, importRowsPerInsert)
		defer ins.close()
		for _, r := range runs {
			id := sql.NullInt64{Int64: r.ID, Valid: r.ID > 0}
			role, _ := roleOf(r.Role) // checked above
			err := ins.add(ctx, id, r.Suite, r.Target, r.Trigger, r.Status, formatTime(r.StartedAt), formatTime(r.FinishedAt),
				r.SuiteVersion, r.PromptVersion, r.TargetVersion, r.ThresholdsJSON, r.Cases, r.Samples, r.Errors,
				finitePtr(r.PassRate), finitePtr(r.MeanScore), r.PromptTokens, r.CompletionTokens, finite(r.CostUSD), r.DurationMS,
				r.Verdict, r.VerdictDetail, r.Detail, r.ErrorText, finite(r.JudgeCostUSD), role)
			if err != nil {
				return err
			}
		}
		return ins.flush(ctx)
	})
	if err != nil {
		return fmt.Errorf("import runs: %w", err)
	}
	return nil
}
