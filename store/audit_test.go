package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// testHash stands in for the governance package's hash: the store only
// stores hashes, any function of the entry will do.
func testHash(e AuditEntry) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d|%s|%s|%s|%s|%s",
		e.Seq, e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Payload, e.PrevHash))
	return hex.EncodeToString(sum[:])
}

// testSeal seals an entry by actor doing action, at t0 plus seq seconds
// (nanoseconds included, to check they are kept).
func testSeal(actor, action, payload string) SealFunc {
	return func(prev *AuditEntry) (AuditEntry, error) {
		e := AuditEntry{Seq: 1, Actor: actor, Action: action, Payload: []byte(payload), PrevHash: testGenesis}
		if prev != nil {
			e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
		}
		e.At = t0.Add(time.Duration(e.Seq) * time.Second)
		e.Hash = testHash(e)
		return e, nil
	}
}

// failingSeal fails without building an entry.
func failingSeal(*AuditEntry) (AuditEntry, error) { return AuditEntry{}, errors.New("seal failed") }

// auditState returns the log and head, failing the test on error.
func auditState(t testing.TB, s *Store) ([]AuditEntry, int64, string) {
	t.Helper()
	log, seq, hash, err := s.AuditLogWithHead(context.Background())
	if err != nil {
		t.Fatalf("AuditLogWithHead = %v", err)
	}
	return log, seq, hash
}

func TestAuditAppend(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	t.Run("empty", func(t *testing.T) {
		log, err := s.AuditLog(ctx)
		if err != nil || len(log) != 0 {
			t.Errorf("AuditLog of a new store = %v, %v, want none", log, err)
		}
		seq, hash, err := s.AuditHead(ctx)
		if err != nil || seq != 0 || hash != "" {
			t.Errorf(`AuditHead of a new store = %d, %q, %v, want 0, ""`, seq, hash, err)
		}
	})

	var (
		appended []AuditEntry
		prevs    []*AuditEntry // what each seal was given
	)
	for i := range 3 {
		seal := testSeal("alice", "thresholds.signed_off", fmt.Sprintf(`{"n":%d}`, i))
		e, err := s.AppendAudit(ctx, func(prev *AuditEntry) (AuditEntry, error) {
			prevs = append(prevs, prev)
			return seal(prev)
		})
		if err != nil {
			t.Fatalf("AppendAudit #%d = %v", i, err)
		}
		appended = append(appended, e)
	}

	t.Run("chain", func(t *testing.T) {
		if prevs[0] != nil {
			t.Errorf("first seal got prev %+v, want nil", prevs[0])
		}
		for i := 1; i < len(prevs); i++ {
			if diff := cmp.Diff(&appended[i-1], prevs[i]); diff != "" {
				t.Errorf("seal #%d got prev mismatch (-want +got):\n%s", i, diff)
			}
		}
		log, err := s.AuditLog(ctx)
		if err != nil {
			t.Fatalf("AuditLog = %v", err)
		}
		if diff := cmp.Diff(appended, log); diff != "" {
			t.Errorf("AuditLog mismatch (-want +got):\n%s", diff)
		}
		for _, e := range log {
			if got := testHash(e); got != e.Hash {
				t.Errorf("entry %d read back hashes to %s, stored %s: a field did not round-trip", e.Seq, got, e.Hash)
			}
		}
		seq, hash, err := s.AuditHead(ctx)
		if err != nil || seq != 3 || hash != appended[2].Hash {
			t.Errorf("AuditHead = %d, %q, %v, want 3, %q", seq, hash, err, appended[2].Hash)
		}
		log2, seq2, hash2 := auditState(t, s)
		if diff := cmp.Diff(appended, log2); diff != "" || seq2 != 3 || hash2 != appended[2].Hash {
			t.Errorf("AuditLogWithHead = head %d %q, log diff (-want +got):\n%s", seq2, hash2, diff)
		}
	})

	t.Run("failing extra write appends nothing", func(t *testing.T) {
		_, err := s.appendAuditWith(ctx, testSeal("bob", "silence.created", `{}`), func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO silences (suite, target, by_actor, reason, start_at, until_at, created_at)
				VALUES ('faq', 'prod', 'bob', 'why', 'a', 'b', 'c')`); err != nil {
				return err
			}
			return errors.New("extra failed")
		})
		if err == nil || !strings.Contains(err.Error(), "extra failed") {
			t.Fatalf("appendAuditWith(failing extra) = %v, want the extra's error", err)
		}
		assertAuditUnchanged(t, s, appended)
		assertCount(t, s, "silences", 0)
	})

	t.Run("failing seal rolls back the extra write", func(t *testing.T) {
		_, err := s.appendAuditWith(ctx, failingSeal, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO silences (suite, target, by_actor, reason, start_at, until_at, created_at)
				VALUES ('faq', 'prod', 'bob', 'why', 'a', 'b', 'c')`)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "seal failed") {
			t.Fatalf("appendAuditWith(failing seal) = %v, want the seal's error", err)
		}
		assertAuditUnchanged(t, s, appended)
		assertCount(t, s, "silences", 0)
	})

	for _, tc := range []struct {
		name string
		edit func(*AuditEntry)
		want string
	}{
		{"seq skips", func(e *AuditEntry) { e.Seq++ }, "want 4"},
		{"seq repeats", func(e *AuditEntry) { e.Seq-- }, "want 4"},
		{"prev hash not the last hash", func(e *AuditEntry) { e.PrevHash = testGenesis }, "prev_hash"},
		{"no hash", func(e *AuditEntry) { e.Hash = "" }, "no hash"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			seal := testSeal("mallory", "config.reloaded", `{}`)
			_, err := s.AppendAudit(ctx, func(prev *AuditEntry) (AuditEntry, error) {
				e, err := seal(prev)
				tc.edit(&e)
				return e, err
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AppendAudit(%s) = %v, want an error containing %q", tc.name, err, tc.want)
			}
			assertAuditUnchanged(t, s, appended)
		})
	}

	t.Run("no seal", func(t *testing.T) {
		if _, err := s.AppendAudit(ctx, nil); err == nil {
			t.Errorf("AppendAudit(nil) = nil error, want one")
		}
	})
}

func assertAuditUnchanged(t testing.TB, s *Store, want []AuditEntry) {
	t.Helper()
	log, seq, hash := auditState(t, s)
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("audit log changed (-want +got):\n%s", diff)
	}
	last := want[len(want)-1]
	if seq != last.Seq || hash != last.Hash {
		t.Errorf("audit head = %d %q, want %d %q (unchanged)", seq, hash, last.Seq, last.Hash)
	}
}

func assertCount(t testing.TB, s *Store, table string, want int) {
	t.Helper()
	var n int
	if err := s.r.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("rows in %s = %d, want %d", table, n, want)
	}
}

// TestAuditTampered: once the log no longer ends at its head, appending
// would hide the damage, so it is refused.
func TestAuditTampered(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, sql string
	}{
		{"last entry deleted", `DELETE FROM audit_log WHERE seq = 3`},
		{"last entry replaced", `UPDATE audit_log SET hash = 'x' WHERE seq = 3`},
		{"entry added behind evald's back", `INSERT INTO audit_log SELECT 4, at, actor, action, payload, hash, 'y' FROM audit_log WHERE seq = 3`},
		{"head deleted", `DELETE FROM audit_head`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTest(t)
			for range 3 {
				if _, err := s.AppendAudit(ctx, testSeal("alice", "config.reloaded", `{}`)); err != nil {
					t.Fatalf("AppendAudit = %v", err)
				}
			}
			if _, err := s.w.ExecContext(ctx, tc.sql); err != nil {
				t.Fatal(err)
			}
			before, err := s.AuditLog(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.AppendAudit(ctx, testSeal("alice", "config.reloaded", `{}`))
			if !errors.Is(err, ErrAuditBroken) {
				t.Errorf("AppendAudit after %s = %v, want ErrAuditBroken", tc.name, err)
			}
			after, err := s.AuditLog(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("refused append changed the log (-before +after):\n%s", diff)
			}
		})
	}

	t.Run("head shows the deletion", func(t *testing.T) {
		s, _ := openTest(t)
		for range 2 {
			if _, err := s.AppendAudit(ctx, testSeal("alice", "config.reloaded", `{}`)); err != nil {
				t.Fatalf("AppendAudit = %v", err)
			}
		}
		if _, err := s.w.ExecContext(ctx, `DELETE FROM audit_log WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		log, seq, _ := auditState(t, s)
		if len(log) != 1 || seq != 2 {
			t.Errorf("after deleting entry 2: %d entries, head %d; want 1 entry and head 2", len(log), seq)
		}
	})
}

// TestAuditConcurrentAppends: appends from many goroutines form one chain.
func TestAuditConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if _, err := s.AppendAudit(ctx, testSeal(fmt.Sprintf("actor-%d", i), "config.reloaded", `{}`)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("AppendAudit = %v", err)
	}
	log, seq, hash := auditState(t, s)
	if len(log) != n || seq != n || hash != log[n-1].Hash {
		t.Fatalf("after %d appends: %d entries, head %d; want %d and the last entry's hash", n, len(log), seq, n)
	}
	prev := testGenesis
	for i, e := range log {
		if e.Seq != int64(i+1) || e.PrevHash != prev {
			t.Errorf("entry %d: seq %d, prev_hash %.8s; want seq %d, prev_hash %.8s", i, e.Seq, e.PrevHash, i+1, prev)
		}
		prev = e.Hash
	}
}
