package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evald/evald/governance"
	"github.com/evald/evald/sim"
)

const testAuditKey = "a test audit key, 32 bytes long!"

// auditProject is a project whose audit log holds three entries (two
// silences and a sign-off), keyed when keyed is set (the key in
// EVALD_TEST_AUDIT_KEY). It returns the config and the database paths.
func auditProject(t *testing.T, keyed bool) (cfg, db string) {
	t.Helper()
	cfg = project(t, simServer(t, sim.Options{WrongRate: -1}), "0.9")
	if keyed {
		t.Setenv("EVALD_TEST_AUDIT_KEY", testAuditKey)
		appendTo(t, cfg, "governance:\n  audit_key_env: EVALD_TEST_AUDIT_KEY\n")
	}
	for _, who := range []string{"alice", "bob"} {
		mustEvald(t, "silence", "--config", cfg, "--target", "prod", "--by", who, "--reason", "r", "--for", "1h", "faq")
	}
	// project signed the suite off; carol signs off a changed bar.
	edit(t, filepath.Join(filepath.Dir(cfg), "suites/faq.yaml"), "repeats: 2", "repeats: 3")
	mustEvald(t, "signoff", "--config", cfg, "--by", "carol", "--reason", "new bar", "faq")
	return cfg, filepath.Join(filepath.Dir(cfg), "evald.db")
}

func mustEvald(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := evald(t, args...)
	if code != exitOK {
		t.Fatalf("evald %s = exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func sqlExec(t *testing.T, db string, stmts ...string) {
	t.Helper()
	h, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, s := range stmts {
		if _, err := h.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// copyFile copies a closed SQLite database (its WAL was checkpointed on close).
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// recomputePlain edits entry seq's actor and reseals it and every later
// entry as plain sha256, moving the head: what someone with write access to
// the database and no key can do.
func recomputePlain(t *testing.T, db string, seq int64) {
	t.Helper()
	h, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	rows, err := h.QueryContext(ctx, `SELECT seq, at, actor, action, payload, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var entries []governance.Entry
	for rows.Next() {
		var e governance.Entry
		var at, payload string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &payload, &e.PrevHash, &e.Hash); err != nil {
			t.Fatal(err)
		}
		e.Payload = []byte(payload)
		if e.At, err = parseStoredTime(at); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		e := &entries[i]
		if e.Seq < seq {
			continue
		}
		if e.Seq == seq {
			e.Actor = "mallory"
		}
		e.PrevHash = entries[i-1].Hash
		e.Hash = e.ComputeHash()
		if _, err := h.ExecContext(ctx, `UPDATE audit_log SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Actor, e.PrevHash, e.Hash, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	last := entries[len(entries)-1]
	if _, err := h.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, last.Seq, last.Hash); err != nil {
		t.Fatal(err)
	}
}

func TestAuditVerifyWitness(t *testing.T) {
	rewind := `UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_log WHERE seq = 2) WHERE id = 1`
	for _, keyed := range []bool{false, true} {
		mode := map[bool]string{false: "plain", true: "keyed"}[keyed]
		tests := []struct {
			name   string
			tamper func(t *testing.T, cfg, db string)
			want   string
		}{
			{"rollback to an older copy", func(t *testing.T, cfg, db string) {
				// A copy after three entries; a fourth; the copy put back.
				old := filepath.Join(t.TempDir(), "old.db")
				copyFile(t, db, old)
				mustEvald(t, "silence", "--config", cfg, "--target", "prod", "--by", "dave", "--reason", "r", "--for", "1h", "faq")
				_ = os.Remove(db + "-wal")
				_ = os.Remove(db + "-shm")
				copyFile(t, old, db)
			}, "rolled back: the log ends at entry 3, but the witness recorded entry 4"},
			{"wiped log, head reset", func(t *testing.T, cfg, db string) {
				sqlExec(t, db, `DELETE FROM audit_log`, `UPDATE audit_head SET seq = 0, hash = '' WHERE id = 1`)
			}, "wiped: the log is empty, but the witness recorded entry 3"},
			{"last row deleted, head rewound", func(t *testing.T, cfg, db string) {
				sqlExec(t, db, `DELETE FROM audit_log WHERE seq = 3`, rewind)
			}, "rolled back"},
			{"row edited, chain recomputed", func(t *testing.T, cfg, db string) {
				recomputePlain(t, db, 2)
			}, map[bool]string{false: "entry 3: recomputed", true: "entry 2: rewritten without the key"}[keyed]},
			{"wiped log and head row", func(t *testing.T, cfg, db string) {
				sqlExec(t, db, `DELETE FROM audit_log`, `DELETE FROM audit_head`)
			}, "head row missing; the witness recorded entry 3"},
			{"head row deleted", func(t *testing.T, cfg, db string) {
				sqlExec(t, db, `DELETE FROM audit_head`)
			}, "head row missing; the witness recorded entry 3"},
			{"audit table dropped", func(t *testing.T, cfg, db string) {
				sqlExec(t, db, `DROP TABLE audit_log`)
			}, "table audit_log missing; the witness recorded entry 3"},
			{"witness deleted", func(t *testing.T, cfg, db string) {
				if err := os.Remove(db + ".audit-head"); err != nil {
					t.Fatal(err)
				}
			}, "witness of its head is missing"},
		}
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				cfg, db := auditProject(t, keyed)
				out := mustEvald(t, "audit", "verify", "--config", cfg)
				wantMode := map[bool]string{false: "plain sha256", true: "keyed, HMAC-SHA256 with the key in EVALD_TEST_AUDIT_KEY"}[keyed]
				if !strings.Contains(out, "intact: 3 entries") || !strings.Contains(out, wantMode) {
					t.Fatalf("audit verify before tampering = %q, want intact, 3 entries, %s", out, wantMode)
				}
				tt.tamper(t, cfg, db)
				code, _, errOut := evald(t, "audit", "verify", "--config", cfg)
				t.Logf("audit verify after %s: exit %d: %s", tt.name, code, errOut)
				if code != exitFailed || !strings.Contains(errOut, tt.want) {
					t.Errorf("audit verify after %s = exit %d %q, want %d naming %q", tt.name, code, errOut, exitFailed, tt.want)
				}
			})
		}
	}
}

// TestAuditAppendBehindWitness: a governance change on a rolled-back
// database is refused, so that its witness is not overwritten.
func TestAuditAppendBehindWitness(t *testing.T) {
	cfg, db := auditProject(t, false)
	sqlExec(t, db, `DELETE FROM audit_log WHERE seq = 3`, `UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_log WHERE seq = 2) WHERE id = 1`,
		`DELETE FROM signoffs`)
	code, _, errOut := evald(t, "silence", "--config", cfg, "--target", "prod", "--by", "dave", "--reason", "r", "--for", "1h", "faq")
	if code == exitOK || !strings.Contains(errOut, "behind its witness") {
		t.Errorf("silence on a rolled-back database = exit %d %q, want a refusal naming the witness", code, errOut)
	}
	if code, _, _ := evald(t, "audit", "verify", "--config", cfg); code != exitFailed {
		t.Errorf("audit verify = exit %d, want %d: the refused append must not re-anchor the witness", code, exitFailed)
	}
}

func TestAuditKeyed(t *testing.T) {
	cfg, db := auditProject(t, true)
	// The key is in no file.
	for _, name := range []string{db, db + ".audit-head"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), testAuditKey) {
			t.Errorf("%s holds the audit key", name)
		}
	}
	// Without the key, the keyed entries cannot be checked: a usage error
	// naming the field, not a verdict.
	t.Setenv("EVALD_TEST_AUDIT_KEY", "")
	code, _, errOut := evald(t, "audit", "verify", "--config", cfg)
	if code != exitUsage || !strings.Contains(errOut, "governance.audit_key_env") || !strings.Contains(errOut, "EVALD_TEST_AUDIT_KEY") {
		t.Errorf("audit verify with the key unset = exit %d %q, want %d naming the field", code, errOut, exitUsage)
	}
	if code, _, errOut := evald(t, "silence", "--config", cfg, "--target", "prod", "--by", "dave", "--reason", "r", "--for", "1h", "faq"); code == exitOK || !strings.Contains(errOut, "EVALD_TEST_AUDIT_KEY") {
		t.Errorf("silence with the key unset = exit %d %q, want a refusal naming the variable", code, errOut)
	}
	code, _, errOut = evald(t, "audit", "verify", "--db", db)
	if code != exitUsage || !strings.Contains(errOut, "keyed") {
		t.Errorf("audit verify --db without a config = exit %d %q, want %d saying the log is keyed", code, errOut, exitUsage)
	}
	// With a wrong key, every entry looks edited.
	t.Setenv("EVALD_TEST_AUDIT_KEY", strings.Repeat("x", 32))
	if code, _, errOut := evald(t, "audit", "verify", "--config", cfg); code != exitFailed || !strings.Contains(errOut, "entry 1: edited") {
		t.Errorf("audit verify with a wrong key = exit %d %q, want %d naming entry 1", code, errOut, exitFailed)
	}
}

// TestAuditSwitchToKeyed: a plain log goes on keyed once a key is set; the
// plain entries before stay verifiable.
func TestAuditSwitchToKeyed(t *testing.T) {
	cfg, _ := auditProject(t, false)
	t.Setenv("EVALD_TEST_AUDIT_KEY", testAuditKey)
	appendTo(t, cfg, "governance:\n  audit_key_env: EVALD_TEST_AUDIT_KEY\n")
	if out := mustEvald(t, "audit", "verify", "--config", cfg); !strings.Contains(out, "plain sha256 so far") {
		t.Errorf("audit verify after setting a key = %q, want plain so far", out)
	}
	mustEvald(t, "silence", "--config", cfg, "--target", "prod", "--by", "dave", "--reason", "r", "--for", "1h", "faq")
	if out := mustEvald(t, "audit", "verify", "--config", cfg); !strings.Contains(out, "intact: 4 entries") || !strings.Contains(out, "from entry 4; plain sha256 before it") {
		t.Errorf("audit verify after the switch = %q, want keyed from entry 4", out)
	}
}

func parseStoredTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// TestSignoffInsertedWithSQL: a sign-off row written straight into the
// database, without its audit entry, is not trusted by evald run and is
// reported by audit verify.
func TestSignoffInsertedWithSQL(t *testing.T) {
	cfg, db := auditProject(t, false)
	suite := filepath.Join(filepath.Dir(cfg), "suites/faq.yaml")
	edit(t, suite, "pass_rate: 0.9", "pass_rate: 0.1")
	if code, _, errOut := evald(t, "run", "--config", cfg, "faq"); code != exitRefused {
		t.Fatalf("run with a loosened bar = exit %d, want %d: %s", code, exitRefused, errOut)
	}
	// The loosened set as evald would sign it off, copied from a scratch
	// project where it was signed off for real.
	scratch, scratchDB := auditProject(t, false)
	edit(t, filepath.Join(filepath.Dir(scratch), "suites/faq.yaml"), "pass_rate: 0.9", "pass_rate: 0.1")
	mustEvald(t, "signoff", "--config", scratch, "--by", "mallory", "--reason", "r", "faq")
	h, err := sql.Open("sqlite", scratchDB)
	if err != nil {
		t.Fatal(err)
	}
	var setJSON, hash, prev string
	if err := h.QueryRowContext(context.Background(), `SELECT set_json, hash, prev_hash FROM signoffs ORDER BY id DESC LIMIT 1`).Scan(&setJSON, &hash, &prev); err != nil {
		t.Fatal(err)
	}
	h.Close()
	sqlExec(t, db, `INSERT INTO signoffs (suite, set_json, hash, by_actor, reason, at, prev_hash) VALUES ('faq', '`+setJSON+`', '`+hash+`', 'mallory', 'r', '2026-01-01T00:00:00.000000000Z', '`+prev+`')`)

	code, _, errOut := evald(t, "run", "--config", cfg, "faq")
	if code != exitRefused {
		t.Errorf("run after a sign-off row inserted with SQL = exit %d, want %d (the row ignored): %s", code, exitRefused, errOut)
	}
	if !strings.Contains(errOut, "sign-off does not match the audit log: ignored") {
		t.Errorf("run's stderr = %q, want the ignored row logged", errOut)
	}
	code, _, errOut = evald(t, "audit", "verify", "--config", cfg)
	if code != exitFailed || !strings.Contains(errOut, "sign-off row 2 of suite faq") || !strings.Contains(errOut, "matches no audit entry") {
		t.Errorf("audit verify = exit %d %q, want %d naming the inserted row", code, errOut, exitFailed)
	}
}

// TestSilenceInsertedWithSQL: a silence written straight into the database
// mutes nothing and is reported by audit verify.
func TestSilenceInsertedWithSQL(t *testing.T) {
	cfg, db := auditProject(t, false)
	sqlExec(t, db, `INSERT INTO silences (suite, target, by_actor, reason, start_at, until_at, created_at)
		VALUES ('faq', 'prod', 'mallory', 'quiet', '2026-01-01T00:00:00.000000000Z', '2999-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z')`)
	code, _, errOut := evald(t, "audit", "verify", "--config", cfg)
	if code != exitFailed || !strings.Contains(errOut, "silence 3 of suite faq on prod (by mallory") {
		t.Errorf("audit verify = exit %d %q, want %d naming the inserted silence", code, errOut, exitFailed)
	}
}

// TestKeyedSignoffForgedWithEntry: in a keyed chain, a sign-off row forged
// together with a plain audit entry for it (head moved, as someone with
// write access to the database and no key can do) is not trusted by evald
// run, and audit verify names the forged entry.
func TestKeyedSignoffForgedWithEntry(t *testing.T) {
	cfg, db := auditProject(t, true)
	edit(t, filepath.Join(filepath.Dir(cfg), "suites/faq.yaml"), "pass_rate: 0.9", "pass_rate: 0.1")
	scratch, scratchDB := auditProject(t, true)
	edit(t, filepath.Join(filepath.Dir(scratch), "suites/faq.yaml"), "pass_rate: 0.9", "pass_rate: 0.1")
	mustEvald(t, "signoff", "--config", scratch, "--by", "mallory", "--reason", "looser", "faq")

	ctx := context.Background()
	h, err := sql.Open("sqlite", scratchDB)
	if err != nil {
		t.Fatal(err)
	}
	var setJSON, hash, prevHash string
	if err := h.QueryRowContext(ctx, `SELECT set_json, hash, prev_hash FROM signoffs ORDER BY id DESC LIMIT 1`).Scan(&setJSON, &hash, &prevHash); err != nil {
		t.Fatal(err)
	}
	h.Close()

	h, err = sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var last governance.Entry
	var at string
	if err := h.QueryRowContext(ctx, `SELECT seq, hash, at FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&last.Seq, &last.Hash, &at); err != nil {
		t.Fatal(err)
	}
	e := governance.Entry{Seq: last.Seq + 1, At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Actor: "mallory", Action: governance.ActionThresholdsSignedOff,
		Payload: []byte(`{"hash":"` + hash + `","prev_hash":"` + prevHash + `","reason":"looser","suite":"faq"}`), PrevHash: last.Hash}
	e.Hash = e.ComputeHash()
	for _, stmt := range []string{
		`INSERT INTO signoffs (suite, set_json, hash, by_actor, reason, at, prev_hash) VALUES ('faq', '` + setJSON + `', '` + hash + `', 'mallory', 'looser', '2026-12-01T00:00:00.000000000Z', '` + prevHash + `')`,
		fmt.Sprintf(`INSERT INTO audit_log (seq, at, actor, action, payload, prev_hash, hash) VALUES (%d, '2026-12-01T00:00:00.000000000Z', 'mallory', '%s', '%s', '%s', '%s')`,
			e.Seq, e.Action, e.Payload, e.PrevHash, e.Hash),
		fmt.Sprintf(`UPDATE audit_head SET seq = %d, hash = '%s' WHERE id = 1`, e.Seq, e.Hash),
	} {
		if _, err := h.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	code, _, errOut := evald(t, "run", "--config", cfg, "faq")
	t.Logf("run after the forgery: exit %d: %s", code, errOut)
	if code == exitOK || code == exitFailed {
		t.Errorf("run after a forged sign-off and entry = exit %d, want a refusal or an error: %s", code, errOut)
	}
	code, _, errOut = evald(t, "audit", "verify", "--config", cfg)
	if want := fmt.Sprintf("entry %d: rewritten without the key", e.Seq); code != exitFailed || !strings.Contains(errOut, want) {
		t.Errorf("audit verify = exit %d %q, want %d naming %q", code, errOut, exitFailed, want)
	}
}

// TestRefusedSignoffLeavesRecord: a sign-off the store refuses (here, on a
// database behind its witness) exits non-zero and adds nothing to the
// record file, which a fresh CI runner would otherwise trust.
func TestRefusedSignoffLeavesRecord(t *testing.T) {
	cfg, db := auditProject(t, false)
	record := filepath.Join(filepath.Dir(cfg), "evald.signoffs")
	before, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	sqlExec(t, db, `DELETE FROM audit_log WHERE seq = 3`, `UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_log WHERE seq = 2) WHERE id = 1`)
	edit(t, filepath.Join(filepath.Dir(cfg), "suites/faq.yaml"), "repeats: 3", "repeats: 1")
	code, _, errOut := evald(t, "signoff", "--config", cfg, "--by", "dave", "--reason", "fewer", "faq")
	if code == exitOK || !strings.Contains(errOut, "behind its witness") {
		t.Fatalf("signoff on a rolled-back database = exit %d %q, want a refusal naming the witness", code, errOut)
	}
	after, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Errorf("a refused sign-off changed the record:\n%s\nwas\n%s", after, before)
	}
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	if code, _, errOut := evald(t, "run", "--config", cfg, "--db", fresh, "faq"); code != exitRefused {
		t.Errorf("run on a fresh database after the refused sign-off = exit %d (%s), want %d", code, errOut, exitRefused)
	}
}

// TestKeyedChainEditedStopsRuns: in a keyed chain, an entry edited with SQL
// (here the signer of the newest sign-off, so that its row no longer pairs)
// fails the run, which records nothing on top of the broken entry.
func TestKeyedChainEditedStopsRuns(t *testing.T) {
	cfg, db := auditProject(t, true)
	sqlExec(t, db, `UPDATE audit_log SET actor = 'mallory' WHERE seq = (SELECT max(seq) FROM audit_log)`)
	before := mustEvald(t, "audit", "log", "--config", cfg, "--json")
	code, _, errOut := evald(t, "run", "--config", cfg, "faq")
	if code == exitOK || code == exitFailed || !strings.Contains(errOut, "does not verify") {
		t.Errorf("run on an edited keyed chain = exit %d %q, want an error saying the chain does not verify", code, errOut)
	}
	if after := mustEvald(t, "audit", "log", "--config", cfg, "--json"); after != before {
		t.Errorf("the run appended to a broken keyed chain:\n%s\nwas\n%s", after, before)
	}
}
