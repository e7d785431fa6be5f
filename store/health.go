package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Probe is the readiness check: one indexed read on the read pool and one
// small write on the writer (the health_probe row). It costs the same at
// any database size, unlike Check and QuickCheck, which read the file.
func (s *Store) Probe(ctx context.Context) error {
	var at string
	if err := s.r.QueryRowContext(ctx, "SELECT checked_at FROM health_probe WHERE id = 1").Scan(&at); err != nil {
		return fmt.Errorf("read probe: %w", err)
	}
	if err := s.writeProbe(ctx); err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	return nil
}

// writeProbe updates the health_probe row in a transaction of its own.
func (s *Store) writeProbe(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE health_probe SET checked_at = ? WHERE id = 1", formatTime(s.now()))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("probe row missing (%d rows updated)", n)
		}
		return nil
	})
}

// QuickCheck runs SQLite's quick_check (the structure of every b-tree,
// without matching indexes to their tables' rows) one table at a time: each
// table is a statement of its own, so no read snapshot is held for longer
// than the largest table takes, and the WAL can be checkpointed between
// tables. It returns nil when every table checks "ok"; the error lists
// what SQLite found otherwise. Background work: it reads the whole file.
func (s *Store) QuickCheck(ctx context.Context) error {
	tables, err := queryAll(ctx, s.r, scanString,
		`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return fmt.Errorf("quick check: list tables: %w", err)
	}
	var problems []string
	for _, t := range tables {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("quick check: %w", err)
		}
		msgs, err := queryAll(ctx, s.r, scanString, `PRAGMA quick_check(`+quoteIdent(t)+`)`)
		if err != nil {
			return fmt.Errorf("quick check of table %s: %w", t, err)
		}
		if len(msgs) != 1 || msgs[0] != "ok" {
			problems = append(problems, t+": "+strings.Join(msgs, "; "))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("quick check failed: %s", strings.Join(problems, "; "))
	}
	return nil
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
