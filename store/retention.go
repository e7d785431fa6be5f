package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Keep names the runs whose samples retention must leave alone.
type Keep struct {
	// Runs are kept by ID (drift references, the runs incidents point at,
	// each pair's newest completed production run).
	Runs []int64
	// From keeps, per pair, every run from a run ID on (an open incident's
	// runs since it opened).
	From []KeepFrom
}

// KeepFrom keeps the runs of Suite on Target with an ID of at least RunID.
type KeepFrom struct {
	Suite, Target string
	RunID         int64
}

// PruneSamples deletes the samples and assertion results of at most batch
// runs that started before cutoff and still have them, the oldest first,
// leaving out running runs and those keep names, and marks each run with
// the time (SamplesPrunedAt). The runs, their verdicts and aggregates stay.
// It returns how many runs it pruned: fewer than batch when none is left.
// One transaction: a batch is pruned in full or not at all.
func (s *Store) PruneSamples(ctx context.Context, cutoff time.Time, keep Keep, batch int) (int, error) {
	ids, err := json.Marshal(nonNil(keep.Runs))
	if err != nil {
		return 0, fmt.Errorf("prune samples: %w", err)
	}
	from := make([][3]any, len(keep.From))
	for i, k := range keep.From {
		from[i] = [3]any{k.Suite, k.Target, k.RunID}
	}
	froms, err := json.Marshal(from)
	if err != nil {
		return 0, fmt.Errorf("prune samples: %w", err)
	}
	var n int
	err = s.write(ctx, func(tx *sql.Tx) error {
		runs, err := queryAll(ctx, tx, scanInt64, `SELECT id FROM runs INDEXED BY runs_unpruned
			WHERE samples_pruned_at IS NULL AND started_at < ? AND status <> ?
			AND id NOT IN (SELECT value FROM json_each(?))
			AND NOT EXISTS (SELECT 1 FROM json_each(?) k WHERE k.value ->> 0 = runs.suite AND k.value ->> 1 = runs.target AND runs.id >= k.value ->> 2)
			ORDER BY started_at LIMIT ?`,
			formatTime(cutoff), StatusRunning, string(ids), string(froms), max(batch, 1))
		if err != nil {
			return err
		}
		if n = len(runs); n == 0 {
			return nil
		}
		in := `(?` + strings.Repeat(`, ?`, n-1) + `)`
		args := make([]any, n)
		for i, id := range runs {
			args[i] = id
		}
		for _, q := range []string{
			`DELETE FROM assertion_results WHERE run_id IN ` + in,
			`DELETE FROM samples WHERE run_id IN ` + in,
		} {
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE runs SET samples_pruned_at = ? WHERE id IN `+in,
			append([]any{formatTime(s.now())}, args...)...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune samples: %w", err)
	}
	return n, nil
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// ReclaimSpace hands up to pages free pages back to the file system when
// the database was created with auto_vacuum=INCREMENTAL (every database
// this store created since retention; see docs/formats.md for older ones),
// and returns how many free pages remain. Without incremental vacuum it
// does nothing: freed pages are reused by later writes instead.
func (s *Store) ReclaimSpace(ctx context.Context, pages int) (free int64, err error) {
	var mode int
	if err := s.w.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return 0, fmt.Errorf("reclaim space: %w", err)
	}
	if mode == 2 {
		if err := s.incrementalVacuum(ctx, pages); err != nil {
			return 0, fmt.Errorf("reclaim space: %w", err)
		}
	}
	if err := s.w.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
		return 0, fmt.Errorf("reclaim space: %w", err)
	}
	return free, nil
}

// incrementalVacuum frees up to pages pages; the pragma does its work as
// its rows are stepped through.
func (s *Store) incrementalVacuum(ctx context.Context, pages int) error {
	rows, err := s.w.QueryContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, max(pages, 1)))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}
