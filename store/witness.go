package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// AuditWitnessFunc builds the new contents of the audit witness file for
// e, the entry just appended, given its current contents (nil when there is
// no witness file). An error refuses the append.
type AuditWitnessFunc = func(old []byte, e AuditEntry) ([]byte, error)

// WitnessPath is the audit witness file of the database at dbPath: the
// audit log's head, kept outside the database.
func WitnessPath(dbPath string) string { return dbPath + ".audit-head" }

// SetAuditWitness makes every later audit append write, inside its
// transaction (under the database's write lock, so that appends of several
// processes write their witnesses in the order of their entries), the
// file WitnessPath names with what fn returns. The file is replaced
// atomically (a temporary file beside it, synced, then renamed, and the
// folder synced). When the witness cannot be written the append is
// refused; when the transaction then fails to commit, the old witness is
// put back. nil stops writing witnesses.
func (s *Store) SetAuditWitness(fn AuditWitnessFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.witness = fn
}

func (s *Store) witnessFunc() AuditWitnessFunc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.witness
}

// AuditWitness returns the contents of the audit witness file, or an error
// wrapping fs.ErrNotExist when there is none.
func (s *Store) AuditWitness() ([]byte, error) {
	b, err := os.ReadFile(WitnessPath(s.path))
	if err != nil {
		return nil, fmt.Errorf("read audit witness: %w", err)
	}
	return b, nil
}

// writeWitness writes e's witness and returns how to put the old one back.
func (s *Store) writeWitness(fn AuditWitnessFunc, e AuditEntry) (restore func(), err error) {
	name := WitnessPath(s.path)
	old, err := os.ReadFile(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return nil, fmt.Errorf("read audit witness: %w", err)
	}
	next, err := fn(old, e)
	if err != nil {
		return nil, err
	}
	if err := replaceFile(name, next); err != nil {
		return nil, fmt.Errorf("write audit witness: %w", err)
	}
	return func() {
		if old == nil {
			_ = os.Remove(name)
			return
		}
		_ = replaceFile(name, old)
	}, nil
}

// replaceFile atomically replaces name with data: a temporary file in the
// same folder, synced, renamed over name, then the folder synced so that
// the rename survives a crash.
func replaceFile(name string, data []byte) (err error) {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil // renamed; a folder that cannot be opened cannot be synced either
	}
	defer d.Close()
	_ = d.Sync() // some file systems do not sync folders; the rename stands
	return nil
}

// OnAuditCommitted makes fn be called with every audit entry this store
// appends, after its transaction commits, with the append's context (nil:
// none). fn runs before AppendAudit and its kin return.
func (s *Store) OnAuditCommitted(fn func(context.Context, AuditEntry)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = fn
}
