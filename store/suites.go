package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SuiteVersion is a suite's content-addressed version and the canonical
// JSON it was computed from.
type SuiteVersion struct {
	Suite, Version, PromptVersion string
	Canonical                     []byte    // canonical JSON
	CreatedAt                     time.Time // set by the store on first save when zero
}

// TargetVersion is a target's content-addressed version and the canonical
// JSON it was computed from.
type TargetVersion struct {
	Target, Version string
	Canonical       []byte    // canonical JSON
	CreatedAt       time.Time // set by the store on first save when zero
}

// SaveSuiteVersion records a suite version, and the suite, unless already
// recorded. The version is the identity: saving it again, even with other
// content, keeps the first record.
func (s *Store) SaveSuiteVersion(ctx context.Context, v SuiteVersion) error {
	if v.Suite == "" || v.Version == "" {
		return errors.New("save suite version: suite and version are required")
	}
	now := s.now()
	if v.CreatedAt.IsZero() {
		v.CreatedAt = now
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := upsertSuite(ctx, tx, v.Suite, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO suite_versions (suite, version, prompt_version, canonical, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (suite, version) DO NOTHING`,
			v.Suite, v.Version, v.PromptVersion, string(v.Canonical), formatTime(v.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("save version %s of suite %s: %w", v.Version, v.Suite, err)
	}
	return nil
}

// SaveTargetVersion records a target version unless already recorded. The
// version is the identity: saving it again keeps the first record.
func (s *Store) SaveTargetVersion(ctx context.Context, v TargetVersion) error {
	if v.Target == "" || v.Version == "" {
		return errors.New("save target version: target and version are required")
	}
	if v.CreatedAt.IsZero() {
		v.CreatedAt = s.now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO target_versions (target, version, canonical, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (target, version) DO NOTHING`,
			v.Target, v.Version, string(v.Canonical), formatTime(v.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("save version %s of target %s: %w", v.Version, v.Target, err)
	}
	return nil
}

// SuiteVersion returns a recorded suite version, or an error wrapping
// ErrNotFound.
func (s *Store) SuiteVersion(ctx context.Context, suite, version string) (SuiteVersion, error) {
	v := SuiteVersion{Suite: suite, Version: version}
	var canonical, created string
	err := s.r.QueryRowContext(ctx, `SELECT prompt_version, canonical, created_at FROM suite_versions
		WHERE suite = ? AND version = ?`, suite, version).Scan(&v.PromptVersion, &canonical, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return SuiteVersion{}, fmt.Errorf("version %s of suite %s: %w", version, suite, ErrNotFound)
	}
	if err == nil {
		v.CreatedAt, err = parseTime(created)
	}
	if err != nil {
		return SuiteVersion{}, fmt.Errorf("read version %s of suite %s: %w", version, suite, err)
	}
	v.Canonical = []byte(canonical)
	return v, nil
}

// TargetVersion returns a recorded target version, or an error wrapping
// ErrNotFound.
func (s *Store) TargetVersion(ctx context.Context, target, version string) (TargetVersion, error) {
	v := TargetVersion{Target: target, Version: version}
	var canonical, created string
	err := s.r.QueryRowContext(ctx, `SELECT canonical, created_at FROM target_versions
		WHERE target = ? AND version = ?`, target, version).Scan(&canonical, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return TargetVersion{}, fmt.Errorf("version %s of target %s: %w", version, target, ErrNotFound)
	}
	if err == nil {
		v.CreatedAt, err = parseTime(created)
	}
	if err != nil {
		return TargetVersion{}, fmt.Errorf("read version %s of target %s: %w", version, target, err)
	}
	v.Canonical = []byte(canonical)
	return v, nil
}

// Suites returns the names of every suite seen, sorted.
func (s *Store) Suites(ctx context.Context) ([]string, error) {
	names, err := queryAll(ctx, s.r, scanString, `SELECT name FROM suites ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list suites: %w", err)
	}
	return names, nil
}

// KnownSuite is a suite the store has seen, and whether it is still
// watched: a suite does not silently stop being watched, its removal is
// recorded (MarkSuiteRemoved).
type KnownSuite struct {
	Name      string
	FirstSeen time.Time
	CaseCount int       // its number of cases when last recorded; 0 when never recorded
	RemovedAt time.Time // when it left the config; zero while watched
}

// KnownSuites returns every suite seen, watched or removed, sorted by name.
func (s *Store) KnownSuites(ctx context.Context) ([]KnownSuite, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, first_seen, case_count, removed_at FROM suites ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list known suites: %w", err)
	}
	defer rows.Close()
	var out []KnownSuite
	for rows.Next() {
		var (
			ks        KnownSuite
			firstSeen string
			removed   sql.NullString
		)
		if err := rows.Scan(&ks.Name, &firstSeen, &ks.CaseCount, &removed); err != nil {
			return nil, fmt.Errorf("list known suites: %w", err)
		}
		if ks.FirstSeen, err = parseTime(firstSeen); err != nil {
			return nil, fmt.Errorf("list known suites: %w", err)
		}
		if ks.RemovedAt, err = parseNullTime(removed); err != nil {
			return nil, fmt.Errorf("list known suites: %w", err)
		}
		out = append(out, ks)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list known suites: %w", err)
	}
	return out, nil
}

// SetSuiteCaseCount records that suite is watched with n cases: it records
// the suite when new, sets its case count and clears a removal (a suite
// back in the config is watched again). When seal is not nil its audit
// entry (a shrink of the cases, say) is appended in the same transaction
// and returned; when nil nothing is audited.
func (s *Store) SetSuiteCaseCount(ctx context.Context, suite string, n int, seal SealFunc) (AuditEntry, error) {
	if suite == "" || n < 0 {
		return AuditEntry{}, fmt.Errorf("set case count of suite %q to %d: a suite name and a count >= 0 are required", suite, n)
	}
	set := func(tx *sql.Tx) error {
		if err := upsertSuite(ctx, tx, suite, s.now()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE suites SET case_count = ?, removed_at = NULL WHERE name = ?`, n, suite)
		return err
	}
	var (
		e   AuditEntry
		err error
	)
	if seal == nil {
		err = s.write(ctx, set)
	} else {
		e, err = s.appendAuditWith(ctx, seal, set)
	}
	if err != nil {
		return AuditEntry{}, fmt.Errorf("set case count of suite %s: %w", suite, err)
	}
	return e, nil
}

// MarkSuiteRemoved records that suite left the config, now, and appends
// seal's audit entry, in one transaction. It fails wrapping ErrNotFound
// when the suite is unknown and ErrConflict when it is already removed.
func (s *Store) MarkSuiteRemoved(ctx context.Context, suite string, seal SealFunc) (AuditEntry, error) {
	e, err := s.appendAuditWith(ctx, seal, func(tx *sql.Tx) error {
		var removed sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT removed_at FROM suites WHERE name = ?`, suite).Scan(&removed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("no such suite: %w", ErrNotFound)
		case err != nil:
			return err
		case removed.Valid:
			return fmt.Errorf("%w: removed already, at %s", ErrConflict, removed.String)
		}
		_, err = tx.ExecContext(ctx, `UPDATE suites SET removed_at = ? WHERE name = ?`, formatTime(s.now()), suite)
		return err
	})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("mark suite %s removed: %w", suite, err)
	}
	return e, nil
}
