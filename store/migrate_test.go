package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMigrationsEmbedded(t *testing.T) {
	ms, err := loadMigrations(migrations)
	if err != nil {
		t.Fatalf("loadMigrations(embedded) = %v", err)
	}
	if len(ms) == 0 || ms[0].name != "0001_init.sql" {
		t.Errorf("embedded migrations = %d, first %q, want 0001_init.sql first", len(ms), ms[0].name)
	}
}

func TestNewerDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evald.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	s.Close()
	ms, err := loadMigrations(migrations)
	if err != nil {
		t.Fatal(err)
	}
	latest := len(ms)
	db := rawDB(t, path)
	if _, err := db.ExecContext(ctx, "PRAGMA user_version = 1000"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, err = Open(ctx, path)
	if err == nil {
		t.Fatalf("Open of a database at schema version 1000 = nil error, want a refusal")
	}
	for _, want := range []string{"1000", "(" + strconv.Itoa(latest) + ")", "newer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error = %q, want it to contain %q", err, want)
		}
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	v1 := "CREATE TABLE a (x INTEGER);"
	v2 := "CREATE TABLE b (x INTEGER); INSERT INTO a (x) VALUES (1);"
	bad := "CREATE TABLE c (x INTEGER); THIS IS NOT SQL;"

	t.Run("applies in order, one version per file", func(t *testing.T) {
		db := rawDB(t, filepath.Join(t.TempDir(), "m.db"))
		fsys := fstest.MapFS{
			"0002_b.sql": {Data: []byte(v2)},
			"0001_a.sql": {Data: []byte(v1)},
		}
		if err := migrate(ctx, db, fsys); err != nil {
			t.Fatalf("migrate = %v", err)
		}
		if got, want := pragma(t, db, "user_version"), "2"; got != want {
			t.Errorf("user_version = %s, want %s", got, want)
		}
		// Running again applies nothing: the INSERT of 0002 would add a row.
		if err := migrate(ctx, db, fsys); err != nil {
			t.Fatalf("second migrate = %v", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM a").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if got, want := n, 1; got != want {
			t.Errorf("rows in a after migrating twice = %d, want %d", got, want)
		}
	})

	t.Run("failed migration rolls back whole", func(t *testing.T) {
		db := rawDB(t, filepath.Join(t.TempDir(), "m.db"))
		fsys := fstest.MapFS{
			"0001_a.sql":   {Data: []byte(v1)},
			"0002_bad.sql": {Data: []byte(bad)},
		}
		err := migrate(ctx, db, fsys)
		if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
			t.Fatalf("migrate = %v, want an error naming 0002_bad.sql", err)
		}
		if got, want := pragma(t, db, "user_version"), "1"; got != want {
			t.Errorf("user_version after failed 0002 = %s, want %s", got, want)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'c'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("table c of the failed migration exists, want it rolled back")
		}
	})

	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"gap", fstest.MapFS{"0001_a.sql": {Data: []byte(v1)}, "0003_c.sql": {Data: []byte(v1)}}, "want version 2"},
		{"duplicate", fstest.MapFS{"0001_a.sql": {Data: []byte(v1)}, "0001_b.sql": {Data: []byte(v1)}}, "want version 2"},
		{"no number", fstest.MapFS{"init.sql": {Data: []byte(v1)}}, "positive number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := rawDB(t, filepath.Join(t.TempDir(), "m.db"))
			if err := migrate(ctx, db, tc.fsys); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("migrate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestUpgradeFromV1: a database made by the first schema, with data, opens
// under the newest one with its data kept and the new tables empty.
func TestUpgradeFromV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evald.db")
	sql1, err := fs.ReadFile(migrations, "0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, fstest.MapFS{"0001_init.sql": {Data: sql1}}); err != nil {
		t.Fatalf("migrate to v1 = %v", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO suites (name, first_seen) VALUES ('faq', ?)`, formatTime(t0)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a v1 database = %v", err)
	}
	defer s.Close()
	if got, want := pragma(t, s.w, "user_version"), latestSchema(t); got != want {
		t.Errorf("user_version after upgrade = %s, want %s", got, want)
	}
	known, err := s.KnownSuites(ctx)
	if err != nil {
		t.Fatalf("KnownSuites = %v", err)
	}
	if diff := cmp.Diff([]KnownSuite{{Name: "faq", FirstSeen: t0}}, known); diff != "" {
		t.Errorf("KnownSuites after upgrade mismatch, want faq watched without a case count (-want +got):\n%s", diff)
	}
	if seq, hash, err := s.AuditHead(ctx); err != nil || seq != 0 || hash != "" {
		t.Errorf(`AuditHead after upgrade = %d, %q, %v, want 0, ""`, seq, hash, err)
	}
	if _, err := s.AppendAudit(ctx, testSeal("bootstrap", "suite.adopted", `{}`)); err != nil {
		t.Errorf("AppendAudit after upgrade = %v", err)
	}
}

// oldDatabase creates path as a binary of schema version left it: the
// embedded migrations up to that version applied, none after. It returns
// the file open without the store, for the test to seed old rows.
func oldDatabase(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	ms, err := loadMigrations(migrations)
	if err != nil {
		t.Fatal(err)
	}
	if version < 1 || version > len(ms) {
		t.Fatalf("oldDatabase: no schema version %d (the embedded migrations run 1 to %d)", version, len(ms))
	}
	old := fstest.MapFS{}
	for _, m := range ms[:version] {
		old[m.name] = &fstest.MapFile{Data: []byte(m.sql)}
	}
	db := rawDB(t, path)
	if err := migrate(context.Background(), db, old); err != nil {
		t.Fatalf("migrate to v%d = %v", version, err)
	}
	if got := pragma(t, db, "user_version"); got != strconv.Itoa(version) {
		t.Fatalf("user_version after migrating to v%d = %s", version, got)
	}
	return db
}

// TestUpgradeKeepsSamplesWithoutJudge: samples written before 0005 read
// back with an empty judge and zero judge spend, and new samples on the
// upgraded file keep theirs.
func TestUpgradeKeepsSamplesWithoutJudge(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evald.db")
	db := oldDatabase(t, path, 4)
	if _, err := db.ExecContext(ctx, insertOldRun, 1, "manual", "running", ""); err != nil {
		t.Fatalf("seed v4 database: %v", err)
	}
	for _, q := range []string{
		`INSERT INTO suites (name, first_seen) VALUES ('faq', '2025-01-01T00:00:00.000000000Z')`,
		`INSERT INTO samples (run_id, seq, case_id, case_index, repeat_index, output, finish_reason, latency_ms,
			prompt_tokens, completion_tokens, model, fingerprint, error_class, error_text, attempts, pass, score)
			VALUES (1, 0, 'c', 0, 0, 'ok', 'stop', 5, 10, 2, 'm', 'fp', '', '', 1, 1, 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("seed v4 database: %v", err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a v4 database = %v", err)
	}
	defer s.Close()
	judged := Sample{CaseID: "c", Repeat: 1, Output: "ok", Attempts: 1, Pass: true, Score: 1,
		JudgeModel: "judge-1", JudgeFingerprint: "fp_j", JudgePromptTokens: 300, JudgeCompletionTokens: 20, JudgeCostUSD: 0.002}
	if err := s.AddSamples(ctx, 1, []Sample{judged}); err != nil {
		t.Fatalf("AddSamples after upgrade = %v", err)
	}
	got, err := s.Samples(ctx, 1)
	if err != nil {
		t.Fatalf("Samples after upgrade = %v", err)
	}
	judged.RunID = 1
	want := []Sample{
		{RunID: 1, CaseID: "c", Output: "ok", FinishReason: "stop", LatencyMS: 5, PromptTokens: 10, CompletionTokens: 2,
			Model: "m", Fingerprint: "fp", Attempts: 1, Pass: true, Score: 1},
		judged,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Samples after upgrade mismatch, want the old sample without a judge (-want +got):\n%s", diff)
	}
	if err := s.FinishRun(ctx, Run{ID: 1, Status: "passed", CostUSD: 1, JudgeCostUSD: 0.5}); err != nil {
		t.Fatalf("FinishRun after upgrade = %v", err)
	}
	if cost, err := s.CostSince(ctx, "faq", t0.AddDate(-10, 0, 0)); err != nil || cost != 1.5 {
		t.Errorf("CostSince after upgrade = %v, %v, want 1.5 (the run and its judge)", cost, err)
	}
}

// TestUpgradeBackfillsCalibrationCost: calibrations stored before 0007
// kept their judge's cost only in their detail JSON; the upgrade copies it
// into the cost_usd column, so the daily spend counts them. A detail
// without a numeric cost, or not JSON at all, leaves the cost unknown
// instead of failing the upgrade.
func TestUpgradeBackfillsCalibrationCost(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evald.db")
	db := oldDatabase(t, path, 6)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i, c := range []struct {
		suite  string
		at     time.Time
		detail string
	}{
		{"faq", day.Add(time.Hour), `{"results":[],"prompt_tokens":900,"cost_usd":0.75,"calls":3}`},
		{"faq", day.Add(2 * time.Hour), `{"cost_usd":2}`}, // an integer
		{"faq", day.Add(3 * time.Hour), `{"results":[]}`}, // no cost
		{"faq", day.Add(4 * time.Hour), `{"cost_usd":"0.5"}`},
		{"faq", day.Add(5 * time.Hour), `not json`},
		{"faq", day.Add(-time.Hour), `{"cost_usd":8}`}, // the day before
		{"chat", day.Add(time.Hour), `{"cost_usd":16}`},
	} {
		if _, err := db.ExecContext(ctx, `INSERT INTO judge_calibrations (id, suite, judge_target, judge_version, set_hash, cal_trigger,
			at, items, agreements, disagreements, missing, max_disagreement, status, detail)
			VALUES (?, ?, 'grader', 'v1', 'h', 'manual', ?, 1, 1, 0, 0, 0.2, 'ok', ?)`, i+1, c.suite, formatTime(c.at), c.detail); err != nil {
			t.Fatalf("seed v6 database: %v", err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a v6 database = %v", err)
	}
	defer s.Close()
	list, err := s.Calibrations(ctx, "faq", 0)
	if err != nil {
		t.Fatalf("Calibrations after upgrade = %v", err)
	}
	costs := map[int64]float64{}
	for _, c := range list {
		costs[c.ID] = c.CostUSD
	}
	if diff := cmp.Diff(map[int64]float64{1: 0.75, 2: 2, 3: 0, 4: 0, 5: 0, 6: 8}, costs); diff != "" {
		t.Errorf("calibration costs after upgrade, by id (-want +got):\n%s", diff)
	}
	var unknown int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM judge_calibrations WHERE cost_usd IS NULL`).Scan(&unknown); err != nil {
		t.Fatal(err)
	}
	if unknown != 3 {
		t.Errorf("calibrations with an unknown cost after upgrade = %d, want 3 (no cost, a text cost, a detail that is not JSON)", unknown)
	}
	if cost, err := s.CostSince(ctx, "faq", day); err != nil || cost != 2.75 {
		t.Errorf("CostSince(faq, the day) after upgrade = %v, %v, want 2.75 (its backfilled calibrations of the day)", cost, err)
	}
	// The regrades' table is there, and counts.
	if _, err := s.SaveRegrade(ctx, Regrade{Suite: "faq", Target: "prod", RunID: 1, JudgeTarget: "grader", JudgeVersion: "v1",
		At: day.Add(6 * time.Hour), Status: "agree", CostUSD: 0.25}); err != nil {
		t.Fatalf("SaveRegrade after upgrade = %v", err)
	}
	if cost, err := s.CostSince(ctx, "faq", day); err != nil || cost != 3 {
		t.Errorf("CostSince(faq, the day) with a regrade = %v, %v, want 3", cost, err)
	}
}
