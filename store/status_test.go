package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestStatus(t *testing.T) {
	for _, tt := range []struct {
		status           Status
		final, completed bool
	}{
		{"", false, false},
		{StatusRunning, false, false},
		{StatusPassed, true, true},
		{StatusFailed, true, true},
		{StatusRegressed, true, true},
		{StatusErrored, true, false},
		{StatusInterrupted, true, false},
		{StatusRefused, true, false},
	} {
		if got, want := tt.status.Final(), tt.final; got != want {
			t.Errorf("Status(%q).Final() = %v, want %v", tt.status, got, want)
		}
		if got, want := tt.status.Completed(), tt.completed; got != want {
			t.Errorf("Status(%q).Completed() = %v, want %v", tt.status, got, want)
		}
	}
	order := []Status{StatusRegressed, StatusFailed, StatusErrored, StatusInterrupted, StatusRefused, StatusPassed, StatusRunning}
	for i := 1; i < len(order); i++ {
		if a, b := order[i-1], order[i]; a.Severity() <= b.Severity() {
			t.Errorf("Severity(%q) = %d, Severity(%q) = %d, want the first higher", a, a.Severity(), b, b.Severity())
		}
	}
}

func TestRunRole(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for _, role := range []Role{"", RoleProduction, RoleCandidate, RoleReference} {
		id, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Role: role})
		if err != nil {
			t.Fatalf("CreateRun(role %q) = %v", role, err)
		}
		if err := s.FinishRun(ctx, Run{ID: id, Status: StatusPassed, Role: RoleCandidate}); err != nil {
			t.Fatal(err)
		}
		r, err := s.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := role
		if want == "" {
			want = RoleProduction
		}
		if got := r.Role; got != want {
			t.Errorf("run created with role %q, finished as a candidate: role = %q, want %q (fixed at creation)", role, got, want)
		}
		if got, want := r.Production(), want == RoleProduction; got != want {
			t.Errorf("run of role %q: Production() = %v, want %v", r.Role, got, want)
		}
	}
	if _, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Role: "shadow"}); err == nil || !strings.Contains(err.Error(), `unknown run role "shadow"`) {
		t.Errorf("CreateRun(role shadow) = %v, want an unknown role error", err)
	}
	bad := importAt(t0, StatusPassed, 0.5)
	bad.Role = "shadow"
	if err := s.ImportRuns(ctx, []Run{bad}); err == nil || !strings.Contains(err.Error(), `unknown run role "shadow"`) {
		t.Errorf("ImportRuns(role shadow) = %v, want an unknown role error", err)
	}
}

// insertOldRun inserts a run of faq on prod into a database from before
// 0005 and later (id, trigger, status and detail are its arguments).
const insertOldRun = `INSERT INTO runs (id, suite, target, run_trigger, status, started_at, suite_version, prompt_version,
	target_version, thresholds, cases, samples, errors, prompt_tokens, completion_tokens, duration_ms,
	verdict, verdict_detail, detail, error_text)
	VALUES (?, 'faq', 'prod', ?, ?, '2025-01-01T00:00:00.000000000Z', 'v1', 'p1',
	't1', '{}', 1, 0, 0, 0, 0, 0, '', '', ?, '')`

// TestUpgradeBackfillsRunRole: runs stored before 0008 kept their role only
// in their detail JSON; the upgrade writes it to the role column.
func TestUpgradeBackfillsRunRole(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evald.db")
	db := oldDatabase(t, path, 7)
	details := []struct {
		detail string
		want   Role
	}{
		{``, RoleProduction},
		{`{}`, RoleProduction},
		{`not json`, RoleProduction},
		{`{"candidate":false,"valid_cases":3}`, RoleProduction},
		{`{"candidate":true,"gate_role":"candidate"}`, RoleCandidate},
		{`{"candidate":true}`, RoleCandidate},
		{`{"gate_role":"candidate"}`, RoleCandidate},
		{`{"gate_role":"side_by_side_baseline"}`, RoleReference},
		{`{"gate_role":"baseline"}`, RoleReference},
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO suites (name, first_seen) VALUES ('faq', '2025-01-01T00:00:00.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	for i, d := range details {
		if _, err := db.ExecContext(ctx, insertOldRun, i+1, "ci", "passed", d.detail); err != nil {
			t.Fatalf("seed v7 database: %v", err)
		}
	}
	db.Close()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a v7 database = %v", err)
	}
	defer s.Close()
	for i, d := range details {
		r, err := s.Run(ctx, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Role; got != d.want {
			t.Errorf("role of a run with detail %q after upgrade = %q, want %q", d.detail, got, d.want)
		}
	}
}

// TestPairQueriesUseRoleIndexes: the trend, the newest production runs and
// the previous production run read an index that leads with the pair and
// the role, the trend without touching the table.
func TestPairQueriesUseRoleIndexes(t *testing.T) {
	s, _ := openTest(t)
	for _, q := range []struct {
		name, sql string
		args      []any
		index     string
	}{
		{"trend", trendQuery, []any{"a", "b", "", StatusRunning}, "COVERING INDEX runs_pair_started (suite=? AND target=? AND role=? AND started_at>?)"},
		{"newest production runs", `SELECT ` + runColumns + ` FROM runs WHERE suite = ? AND target = ? AND ` + productionRun + ` ORDER BY id DESC LIMIT 2`,
			[]any{"a", "b"}, "INDEX runs_pair_role_id (suite=? AND target=? AND role=?)"},
		{"previous production run", `SELECT ` + runColumns + ` FROM runs WHERE suite = ? AND target = ? AND id < ? AND suite_version = ? AND target_version = ? AND ` +
			productionRun + ` ORDER BY id DESC LIMIT 1`, []any{"a", "b", 9, "s", "t"}, "INDEX runs_pair_role_id (suite=? AND target=? AND role=? AND id<?)"},
		{"latest completed production run", `SELECT ` + runColumns + ` FROM runs WHERE suite = ? AND target = ? AND ` + productionRun + ` AND ` + completedRun + ` ORDER BY id DESC LIMIT 1`,
			[]any{"a", "b", StatusPassed, StatusFailed, StatusRegressed}, "INDEX runs_pair_role_id (suite=? AND target=? AND role=?)"},
	} {
		if got := queryPlan(t, s, q.sql, q.args...); !strings.Contains(got, q.index) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("plan of the %s = %q, want it to use %s and no sort", q.name, got, q.index)
		}
	}
}

// queryPlan is SQLite's plan of query, its steps joined by "; ".
func queryPlan(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}
