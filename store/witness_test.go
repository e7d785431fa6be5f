package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestAuditWitness(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	if _, err := s.AuditWitness(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("AuditWitness() on a new database = %v, want fs.ErrNotExist", err)
	}
	var olds []string
	s.SetAuditWitness(func(old []byte, e AuditEntry) ([]byte, error) {
		olds = append(olds, string(old))
		return fmt.Appendf(nil, "%d %s", e.Seq, e.Hash), nil
	})
	var last AuditEntry
	for range 2 {
		e, err := s.AppendAudit(ctx, testSeal("alice", "a", `{}`))
		if err != nil {
			t.Fatalf("AppendAudit = %v", err)
		}
		last = e
	}
	got, err := os.ReadFile(WitnessPath(path))
	if want := fmt.Sprintf("%d %s", last.Seq, last.Hash); err != nil || string(got) != want {
		t.Errorf("witness file = %q, %v; want %q", got, err, want)
	}
	if len(olds) != 2 || olds[0] != "" || olds[1] == "" {
		t.Errorf("witness func saw old contents %q, want none then the first witness", olds)
	}

	// A witness that cannot be built refuses the append, and the file stays.
	refuse := errors.New("behind its witness")
	s.SetAuditWitness(func([]byte, AuditEntry) ([]byte, error) { return nil, refuse })
	if _, err := s.AppendAudit(ctx, testSeal("alice", "a", `{}`)); !errors.Is(err, refuse) {
		t.Errorf("AppendAudit with a refusing witness = %v, want it to wrap the refusal", err)
	}
	if log, seq, _ := auditState(t, s); len(log) != 2 || seq != 2 {
		t.Errorf("after a refused witness the log has %d entries, head %d; want 2, 2", len(log), seq)
	}
	if got2, _ := os.ReadFile(WitnessPath(path)); string(got2) != string(got) {
		t.Errorf("witness after a refused append = %q, want %q", got2, got)
	}
	if tmp, _ := filepath.Glob(WitnessPath(path) + ".tmp-*"); len(tmp) != 0 {
		t.Errorf("temporary witness files left behind: %q", tmp)
	}
}
