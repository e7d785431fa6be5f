package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Every run this binary creates is locked until it finishes: an exclusive
// flock on DB.runs.d/ID.lock, taken before the run's row commits and held
// by the process that records the run. The kernel drops it when that
// process dies, however it dies (kill -9 included), so a run still
// "running" whose lock is free was left by a dead process.

func (s *Store) runLockPath(id int64) string {
	return filepath.Join(s.path+".runs.d", strconv.FormatInt(id, 10)+".lock")
}

// lockRun locks the new run id (inside the transaction creating it).
func (s *Store) lockRun(id int64) error {
	release, err := lockNewFile(s.runLockPath(id))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runLocks == nil {
		s.runLocks = map[int64]func(remove bool) error{}
	}
	s.runLocks[id] = release
	return nil
}

// unlockRun releases run id's lock, if this store holds it, and removes its
// file: the run's row is final (or was never committed).
func (s *Store) unlockRun(id int64) {
	s.mu.Lock()
	release := s.runLocks[id]
	delete(s.runLocks, id)
	s.mu.Unlock()
	if release != nil {
		_ = release(true) // a file left behind only costs a directory entry
	}
}

// unlockAllRuns releases the locks of runs still running when the store
// closes, leaving their files: the next evald start finds them free and
// marks the runs interrupted.
func (s *Store) unlockAllRuns() {
	s.mu.Lock()
	locks := s.runLocks
	s.runLocks = nil
	s.mu.Unlock()
	for _, release := range locks {
		_ = release(false)
	}
}

// InterruptAbandoned marks "interrupted", finished now with reason as its
// error text, every run still "running" whose recording process is gone:
// its lock file exists and nobody holds it. Runs held by a live process
// (this one included) are left alone, and so are runs without a lock file
// (recorded by an older evald: serve's start closes those, see
// InterruptRunning). It returns the IDs it marked. Every evald command
// calls it when it opens the database.
func (s *Store) InterruptAbandoned(ctx context.Context, reason string) ([]int64, error) {
	ids, err := queryAll(ctx, s.r, scanInt64, `SELECT id FROM runs WHERE status = ? ORDER BY id`, StatusRunning)
	if err != nil {
		return nil, fmt.Errorf("list running runs: %w", err)
	}
	var marked []int64
	for _, id := range ids {
		name := s.runLockPath(id)
		release, ok, err := tryLockFile(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return marked, fmt.Errorf("check run %d's lock: %w", id, err)
		case !ok:
			continue // its process is alive
		}
		err = s.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, finished_at = ?, error_text = ? WHERE id = ? AND status = ?`,
				StatusInterrupted, formatTime(s.now()), reason, id, StatusRunning)
			return err
		})
		if err == nil {
			marked = append(marked, id)
			_ = os.Remove(name)
		}
		_ = release()
		if err != nil {
			return marked, fmt.Errorf("interrupt run %d: %w", id, err)
		}
	}
	s.removeStaleRunLocks(ctx, ids)
	return marked, nil
}

// removeStaleRunLocks removes the free lock files of runs that are no
// longer running (their process died after serve's start had closed them,
// or before it could remove the file). Files of IDs past the last
// committed run are left: a process may be creating that run.
func (s *Store) removeStaleRunLocks(ctx context.Context, running []int64) {
	files, err := os.ReadDir(s.path + ".runs.d")
	if err != nil {
		return
	}
	var maxID int64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM runs`).Scan(&maxID); err != nil {
		return
	}
	for _, f := range files {
		id, err := strconv.ParseInt(strings.TrimSuffix(f.Name(), ".lock"), 10, 64)
		if err != nil || !strings.HasSuffix(f.Name(), ".lock") || id > maxID || slices.Contains(running, id) {
			continue
		}
		name := s.runLockPath(id)
		if release, ok, err := tryLockFile(name); err == nil && ok {
			_ = os.Remove(name)
			_ = release()
		}
	}
}
