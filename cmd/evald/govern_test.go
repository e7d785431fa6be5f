package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/evald/evald/sim"
)

// edit replaces the first old in the file at path with new; a file without
// old, or a failed read or write, ends the test.
func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendTo adds text at the end of the file at path.
func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestThresholdGovernance(t *testing.T) {
	cfg := project(t, simServer(t, sim.Options{WrongRate: -1}), "0.9")
	suite := filepath.Join(filepath.Dir(cfg), "suites/faq.yaml")

	// The suite's first sign-off is in the record (project writes it).
	if code, _, errOut := evald(t, "run", "--config", cfg, "faq"); code != exitOK {
		t.Fatalf("first run = exit %d: %s", code, errOut)
	}
	// Loosening the bar in the file is refused until someone signs it off.
	edit(t, suite, "pass_rate: 0.9", "pass_rate: 0.8")
	code, out, errOut := evald(t, "run", "--config", cfg, "faq")
	if code != exitRefused {
		t.Fatalf("run with an unsigned change = exit %d, want %d; stderr %q", code, exitRefused, errOut)
	}
	for _, want := range []string{"pass_rate 0.90 -> 0.80 (loosened)", "evald signoff --config " + cfg + " --by NAME --reason TEXT faq"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("refusal message %q lacks %q", errOut, want)
		}
	}
	if !strings.Contains(out, "REFUSED") {
		t.Errorf("report = %q, want the refused run", out)
	}
	_, hist, _ := evald(t, "history", "--config", cfg, "--json")
	if !strings.Contains(hist, `"status":"refused"`) {
		t.Errorf("history lacks the refused run:\n%s", hist)
	}

	if code, _, errOut := evald(t, "signoff", "--config", cfg, "--by", "alice", "faq"); code != exitUsage || !strings.Contains(errOut, "reason") {
		t.Errorf("signoff without --reason = exit %d %q, want %d asking for a reason", code, errOut, exitUsage)
	}
	code, out, errOut = evald(t, "signoff", "faq", "--config", cfg, "--by", "alice", "--reason", "new support macro makes 0.9 unrealistic")
	if code != exitOK || !strings.Contains(out, "pass_rate 0.90 -> 0.80 (loosened)") {
		t.Fatalf("signoff = exit %d, %q %q", code, out, errOut)
	}
	if code, out, _ := evald(t, "signoff", "faq", "--config", cfg, "--by", "alice", "--reason", "again"); code != exitOK || !strings.Contains(out, "unchanged") {
		t.Errorf("second signoff = exit %d %q, want a no-op that says so", code, out)
	}
	if code, _, errOut := evald(t, "run", "--config", cfg, "faq"); code != exitOK {
		t.Fatalf("run after sign-off = exit %d: %s", code, errOut)
	}

	// Silences are audited and listed.
	if code, _, errOut := evald(t, "silence", "--config", cfg, "--target", "prod", "--by", "bob", "--reason", "provider incident", "--for", "2h", "faq"); code != exitOK {
		t.Fatalf("silence = exit %d: %s", code, errOut)
	}
	if code, out, _ := evald(t, "silence", "list", "--config", cfg); code != exitOK || !strings.Contains(out, "provider incident") || !strings.Contains(out, "active") {
		t.Errorf("silence list = exit %d %q", code, out)
	}
	if code, _, _ := evald(t, "silence", "--config", cfg, "--target", "prod", "--by", "bob", "--reason", "x", "--for", "2000h", "faq"); code != exitUsage {
		t.Errorf("a silence beyond 30 days = exit %d, want %d", code, exitUsage)
	}
	// Accepting new behaviour re-anchors the drift reference, with who and why.
	if code, _, errOut := evald(t, "accept", "--config", cfg, "--target", "prod", "--by", "carol", "--reason", "new model is fine", "faq"); code != exitOK {
		t.Fatalf("accept = exit %d: %s", code, errOut)
	}

	_, out, _ = evald(t, "audit", "log", "--config", cfg)
	for _, want := range []string{"thresholds.signed_off", "test", "alice", "silence.created", "bob", "drift.accepted", "carol"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit log lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := evald(t, "audit", "verify", "--config", cfg); code != exitOK || !strings.Contains(out, "intact: 4 entries") {
		t.Fatalf("audit verify = exit %d %q, want intact with 4 entries", code, out)
	}

	// Tampering with a row is detected and named.
	db, err := sql.Open("sqlite", filepath.Join(filepath.Dir(cfg), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = evald(t, "audit", "verify", "--config", cfg)
	if code != exitFailed || !strings.Contains(errOut, "entry 2") {
		t.Errorf("audit verify after an edit = exit %d %q, want %d naming entry 2", code, errOut, exitFailed)
	}
}

func TestAuditVerifyTamper(t *testing.T) {
	tests := []struct {
		name, sql, want string
	}{
		{"edit", `UPDATE audit_log SET payload = '{"suite":"faq"}' WHERE seq = 2`, "entry 2"},
		{"delete middle", `DELETE FROM audit_log WHERE seq = 2`, "entry 3"},
		{"delete last", `DELETE FROM audit_log WHERE seq = 3`, "3"},
		{"swap", `UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 100`, "entry 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := project(t, simServer(t, sim.Options{WrongRate: -1}), "0.9")
			if code, _, errOut := evald(t, "run", "--config", cfg, "faq"); code != exitOK {
				t.Fatalf("run = exit %d: %s", code, errOut)
			}
			for _, who := range []string{"alice", "bob"} {
				if code, _, errOut := evald(t, "silence", "--config", cfg, "--target", "prod", "--by", who, "--reason", "r", "--for", "1h", "faq"); code != exitOK {
					t.Fatalf("silence = exit %d: %s", code, errOut)
				}
			}
			if code, _, _ := evald(t, "audit", "verify", "--config", cfg); code != exitOK {
				t.Fatalf("audit verify before tampering = exit %d", code)
			}
			db, err := sql.Open("sqlite", filepath.Join(filepath.Dir(cfg), "evald.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for stmt := range strings.SplitSeq(tt.sql, ";") {
				if _, err := db.ExecContext(context.Background(), stmt); err != nil {
					t.Fatal(err)
				}
			}
			code, _, errOut := evald(t, "audit", "verify", "--config", cfg)
			if code != exitFailed || !strings.Contains(errOut, tt.want) {
				t.Errorf("audit verify after %s = exit %d %q, want %d naming %q", tt.name, code, errOut, exitFailed, tt.want)
			}
		})
	}
}

// TestRefusedRunJSON: a refused run sent nothing, and its JSON says so
// with empty objects, as every other status prints them, never null.
func TestRefusedRunJSON(t *testing.T) {
	cfg := project(t, simServer(t, sim.Options{WrongRate: -1}), "0.9")
	if code, _, errOut := evald(t, "run", "--config", cfg, "faq"); code != exitOK {
		t.Fatalf("first run = exit %d: %s", code, errOut)
	}
	edit(t, filepath.Join(filepath.Dir(cfg), "suites/faq.yaml"), "pass_rate: 0.9", "pass_rate: 0.8")
	code, out, errOut := evald(t, "run", "--config", cfg, "--format", "json", "faq")
	if code != exitRefused {
		t.Fatalf("run = exit %d, want %d: %s", code, exitRefused, errOut)
	}
	for _, want := range []string{`"status":"refused"`, `"provider":{"models":{},"fingerprints":{}}`, `"errors_by_class":{}`} {
		if !strings.Contains(out, want) {
			t.Errorf("refused run JSON lacks %s:\n%s", want, out)
		}
	}
}

// TestRefusedRunMarkdown: the markdown report of a refused run carries
// the governance diff stderr shows: what a pull-request comment needs.
func TestRefusedRunMarkdown(t *testing.T) {
	cfg := project(t, simServer(t, sim.Options{WrongRate: -1}), "0.9")
	edit(t, filepath.Join(filepath.Dir(cfg), "suites/faq.yaml"), "pass_rate: 0.9", "pass_rate: 0.8")
	code, out, errOut := evald(t, "run", "--config", cfg, "--format", "markdown", "faq")
	if code != exitRefused {
		t.Fatalf("run = exit %d, want %d: %s", code, exitRefused, errOut)
	}
	for _, want := range []string{
		"**REFUSED**: the suite's governed set (thresholds, cases, assertions, judge) differs from the signed-off one as below",
		"| pass\\_rate | 0.90 | 0.80 | loosened |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("refused run markdown lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "pass_rate 0.90 -> 0.80 (loosened)") {
		t.Errorf("stderr lacks the diff the report shows: %s", errOut)
	}
}

// TestSilenceListUsage: silence list says what it takes when given more.
func TestSilenceListUsage(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"extra"}, `evald silence: list takes no suite name: it lists every silence (got ["extra"])`},
		{[]string{"--target", "prod"}, "evald silence: list takes only --config and --db (got --target)"},
	} {
		code, _, errOut := evald(t, append([]string{"silence", "list", "--config", cfg}, tc.args...)...)
		if code != exitUsage || strings.TrimSpace(errOut) != tc.want {
			t.Errorf("silence list %v = exit %d, %q; want %d, %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
	if code, out, errOut := evald(t, "silence", "list", "--config", cfg); code != exitOK || !strings.HasPrefix(out, "SUITE") {
		t.Errorf("silence list = exit %d, %q %q", code, out, errOut)
	}
}
