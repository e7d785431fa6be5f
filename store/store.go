// Package store keeps evald's history in SQLite: suites and the suite and
// target versions runs were made from, runs, samples and their assertion
// results; the governance records (the hash-chained audit log, threshold
// sign-offs, silences, known suites) and the drift detector's state. It
// owns the schema (numbered, embedded .sql migrations), every SQL query of
// evald and the files beside the database: the single-instance and run
// locks, and the audit witness (whose contents the caller builds). It pairs
// the sign-off and silence rows with the audit entries written with them.
// Callers get
// model structs, never rows. It never decides what a score means:
// thresholds, drift, audit hashing and alerting rules live in other
// packages, and it imports none of them.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// ErrNotFound is wrapped by errors about a run or version that does not exist.
var ErrNotFound = errors.New("not found")

// ErrNotRunning is wrapped by the writes that need a run still running
// (FinishRun, AddSamples and the like) when it has ended.
var ErrNotRunning = errors.New("not running")

// Store is evald's database: one writer connection and a pool of read-only
// connections to the same WAL-mode SQLite file. It is safe for concurrent
// use; writes are serialised on the writer.
type Store struct {
	w   *sql.DB // exactly one connection: every write goes through it
	r   *sql.DB // read-only connections (query_only)
	now func() time.Time
	// path is the database file's; files beside it (the audit witness)
	// are named after it.
	path string
	// witness builds the audit witness at every append (nil: none is
	// written); see SetAuditWitness.
	witness AuditWitnessFunc
	// committed is told of every audit entry after it commits (nil: none).
	committed func(context.Context, AuditEntry)
	// runLocks releases the lock of each run this store created and has
	// not finished (see lockRun).
	runLocks map[int64]func(remove bool) error
	mu       sync.Mutex // guards witness and runLocks

	closeOnce sync.Once
	closeErr  error
}

// Pragmas every connection gets. busy_timeout comes first (the driver
// orders it so) so that the others wait for a lock instead of failing.
var (
	// auto_vacuum comes before journal_mode: a new file takes it when it is
	// created (a file created before keeps its mode: see ReclaimSpace).
	writerPragmas = []string{"busy_timeout(10000)", "foreign_keys(1)", "auto_vacuum(INCREMENTAL)", "journal_mode(WAL)", "synchronous(NORMAL)",
		// After a checkpoint, a WAL grown past this (by a long reader or a
		// burst of writes) is cut back to it.
		"journal_size_limit(67108864)"}
	readerPragmas = []string{"busy_timeout(10000)", "foreign_keys(1)", "query_only(1)"}
)

// dsn builds a modernc.org/sqlite data source name for path. The path is
// escaped so that '?', '#' or '%' in a file name stay part of the name.
func dsn(path string, pragmas []string, txlock string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if txlock != "" {
		q.Set("_txlock", txlock)
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path, checks that it is in
// WAL mode and applies the migrations this binary has. It refuses a
// database whose schema is newer than the binary knows. Open does not take
// the single-instance lock: long-lived writers call [AcquireLock] first.
func Open(ctx context.Context, path string) (_ *Store, err error) {
	if path == "" {
		return nil, errors.New("empty database path")
	}
	s := &Store{now: time.Now, path: path}
	defer func() {
		if err != nil {
			s.closeDBs()
		}
	}()

	// Writes take the lock at BEGIN (BEGIN IMMEDIATE), so a transaction never
	// fails half-way on a lock upgrade; busy_timeout covers the wait.
	s.w, err = sql.Open("sqlite", dsn(path, writerPragmas, "immediate"))
	if err != nil {
		return nil, fmt.Errorf("open writer: %w", err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return nil, fmt.Errorf("journal mode is %q, want wal (is this a regular file on a local disk?)", mode)
	}
	if err := migrate(ctx, s.w, migrations); err != nil {
		return nil, err
	}

	s.r, err = sql.Open("sqlite", dsn(path, readerPragmas, ""))
	if err != nil {
		return nil, fmt.Errorf("open readers: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	if err := s.r.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("connect reader: %w", err)
	}
	return s, nil
}

// Close closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.unlockAllRuns()
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

// closeDBs closes the readers first so that the writer, closing last,
// checkpoints the WAL into the database file.
func (s *Store) closeDBs() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// Check reports whether the database is healthy: PRAGMA integrity_check
// says "ok" and a small write commits. It is meant for crash tests and
// repairs: integrity_check reads the whole file, for seconds on a year of
// history, holding one read snapshot throughout. Readiness uses Probe, and
// the daemon's periodic check QuickCheck.
func (s *Store) Check(ctx context.Context) error {
	msgs, err := queryAll(ctx, s.r, scanString, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("integrity check failed: %s", strings.Join(msgs, "; "))
	}

	if err := s.writeProbe(ctx); err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	return nil
}

// write runs fn in a transaction on the writer and commits it, or rolls it
// back when fn fails.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // fn's error is the one that matters
		return err
	}
	return tx.Commit()
}

// read runs fn in a read-only transaction on the read pool, so that all
// its queries see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to commit
	return fn(tx)
}

// timeLayout is RFC 3339 in UTC with a fixed-width fraction, so stored times
// sort correctly as text and read back exactly.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: formatTime(t), Valid: true}
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

// finite stores NaN and ±Inf as NULL: SQLite cannot hold them, and JSON
// cannot encode them.
func finite(f float64) sql.NullFloat64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: f, Valid: true}
}

// finitePtr stores nil, NaN and ±Inf as NULL.
func finitePtr(f *float64) sql.NullFloat64 {
	if f == nil {
		return sql.NullFloat64{}
	}
	return finite(*f)
}

// ptrOf reads NULL back as nil.
func ptrOf(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	v := f.Float64
	return &v
}
