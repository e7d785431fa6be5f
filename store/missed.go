package store

import (
	"context"
	"fmt"
)

// LastCompleted returns the newest limit production runs of suite on
// target that completed (Status.Completed: passed, failed or regressed),
// newest first: what the missed-run watch measures a pair's silence and
// usual duration from.
func (s *Store) LastCompleted(ctx context.Context, suite, target string, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = 1
	}
	runs, err := queryAll(ctx, s.r, scanRun, `SELECT `+runColumns+` FROM runs
		WHERE suite = ? AND target = ? AND `+productionRun+` AND status IN (?, ?, ?)
		ORDER BY id DESC LIMIT ?`,
		suite, target, StatusPassed, StatusFailed, StatusRegressed, limit)
	if err != nil {
		return nil, fmt.Errorf("last completed runs of %s on %s: %w", suite, target, err)
	}
	return runs, nil
}
