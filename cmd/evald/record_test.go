package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/sim"
)

// recordLines returns the lines of the project's sign-off record.
func recordLines(t *testing.T, cfg string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(cfg), governance.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// failingProject is project with a fourth case the simulator always fails
// (it knows no colour), signed off: 3 of 4 cases pass, under a 0.9 bar.
func failingProject(t *testing.T) (cfg, suite string) {
	t.Helper()
	cfg = project(t, simServer(t, sim.Options{WrongRate: -1}), "0.9")
	suite = filepath.Join(filepath.Dir(cfg), "suites/faq.yaml")
	edit(t, suite, "tests:\n", `tests:
  - id: colour
    vars: {question: "What colour is the logo?"}
    assert:
      - type: contains
        value: "purple"
`)
	return signtest.Update(t, cfg), suite
}

// TestFreshDatabaseRefusesUnsignedChanges is the "done when": on a
// fresh project folder with an empty database and no server, every way of
// lowering the bar in the files exits 3 with the diff and the signoff
// command, and after `evald signoff` the run goes on (0 or 1) and the
// record file holds the new entry.
func TestFreshDatabaseRefusesUnsignedChanges(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(t *testing.T, cfg, suite string)
		suite string // the suite name run (after a rename)
		want  string // in stderr
		after int    // exit code after the sign-off
	}{
		{"loosened threshold", func(t *testing.T, cfg, suite string) { edit(t, suite, "pass_rate: 0.9", "pass_rate: 0.5") },
			"faq", "pass_rate 0.90 -> 0.50 (loosened)", exitOK},
		{"deleted failing case", func(t *testing.T, cfg, suite string) {
			edit(t, suite, "  - id: colour\n    vars: {question: \"What colour is the logo?\"}\n    assert:\n      - type: contains\n        value: \"purple\"\n", "")
		}, "faq", "tests[colour] case with 1 assertion -> absent (removed)", exitOK},
		{"value loosened", func(t *testing.T, cfg, suite string) { edit(t, suite, `value: "purple"`, `value: " "`) },
			"faq", `tests[colour].assert(contains "purple") contains "purple" -> absent (removed)`, exitOK},
		{"contains to icontains", func(t *testing.T, cfg, suite string) {
			edit(t, suite, "type: contains\n        value: \"30 days\"", "type: icontains\n        value: \"30 days\"")
		},
			"faq", `tests[refund].assert(contains "30 days") contains "30 days" -> absent (removed)`, exitFailed},
		{"regex made optional", func(t *testing.T, cfg, suite string) {
			edit(t, suite, "type: contains\n        value: \"purple\"", "type: regex\n        value: \"(purple)?\"")
		}, "faq", `tests[colour].assert(regex "(purple)?") absent -> regex "(purple)?" (added)`, exitOK},
		{"assertion removed", func(t *testing.T, cfg, suite string) {
			edit(t, suite, "    assert:\n      - type: contains\n        value: \"purple\"\n", "    assert: []\n")
		}, "faq", "(removed)", exitOK},
		{"weight lowered", func(t *testing.T, cfg, suite string) {
			edit(t, suite, `value: "purple"`, "value: \"purple\"\n        weight: 0")
		},
			"faq", `contains "purple" -> contains "purple" weight 0 (changed)`, exitFailed},
		{"flipped to not-", func(t *testing.T, cfg, suite string) {
			edit(t, suite, "type: contains\n        value: \"purple\"", "type: not-contains\n        value: \"purple\"")
		},
			"faq", `not-contains "purple" (added)`, exitOK},
		{"repeats lowered", func(t *testing.T, cfg, suite string) { edit(t, suite, "repeats: 2", "repeats: 1") },
			"faq", "repeats 2 -> 1 (changed)", exitFailed},
		{"renamed suite", func(t *testing.T, cfg, suite string) {
			edit(t, suite, "name: faq", "name: g2")
			edit(t, suite, "pass_rate: 0.9", "pass_rate: 0.1")
		}, "g2", "g2: refused: the suite has no sign-off in ", exitOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, suite := failingProject(t)
			before := len(recordLines(t, cfg))
			tt.edit(t, cfg, suite)
			code, _, errOut := evald(t, "run", "--config", cfg, tt.suite)
			if code != exitRefused {
				t.Fatalf("run after %s = exit %d, want %d; stderr %q", tt.name, code, exitRefused, errOut)
			}
			for _, want := range []string{tt.want, "evald signoff --config " + cfg + " --by NAME --reason TEXT " + tt.suite} {
				if !strings.Contains(errOut, want) {
					t.Errorf("refusal %q lacks %q", errOut, want)
				}
			}
			code, out, errOut := evald(t, "signoff", "--config", cfg, "--by", "alice", "--reason", "reviewed in PR 7", tt.suite)
			if code != exitOK {
				t.Fatalf("signoff = exit %d: %s %s", code, out, errOut)
			}
			lines := recordLines(t, cfg)
			if len(lines) != before+1 || !strings.Contains(lines[len(lines)-1], `"suite":"`+tt.suite+`"`) || !strings.Contains(lines[len(lines)-1], `"by":"alice"`) {
				t.Errorf("record after the sign-off = %d lines (was %d), last %q; want the new entry", len(lines), before, lines[len(lines)-1])
			}
			if code, out, errOut := evald(t, "run", "--config", cfg, tt.suite); code != tt.after {
				t.Errorf("run after the sign-off = exit %d, want %d: %s %s", code, tt.after, out, errOut)
			}
		})
	}
}

// TestTighteningNeedsNoSignoff: a stricter bar runs without a sign-off and
// is audited.
func TestTighteningNeedsNoSignoff(t *testing.T) {
	cfg := project(t, simServer(t, sim.Options{WrongRate: -1}), "0.9")
	suite := filepath.Join(filepath.Dir(cfg), "suites/faq.yaml")
	edit(t, suite, "pass_rate: 0.9", "pass_rate: 0.95")
	edit(t, suite, "value: \"two-year\"", "value: \"two-year\"\n      - type: not-icontains\n        value: \"as an ai\"\n        weight: 0")
	if code, out, errOut := evald(t, "run", "--config", cfg, "faq"); code != exitOK {
		t.Fatalf("run with a stricter bar = exit %d: %s %s", code, out, errOut)
	}
	_, out, _ := evald(t, "audit", "log", "--config", cfg)
	if !strings.Contains(out, "suite.tightened") || !strings.Contains(out, "pass_rate") {
		t.Errorf("audit log lacks the tightening:\n%s", out)
	}
}

// TestRecordTamperIsRefused: a record whose entry was edited by hand does
// not load; the error names the file and line.
func TestRecordTamperIsRefused(t *testing.T) {
	cfg := project(t, simServer(t, sim.Options{WrongRate: -1}), "0.9")
	rec := filepath.Join(filepath.Dir(cfg), governance.RecordFile)
	edit(t, rec, `"pass_rate":0.9`, `"pass_rate":0.5`)
	code, _, errOut := evald(t, "run", "--config", cfg, "faq")
	if code != exitUsage || !strings.Contains(errOut, rec+":1: set_hash") {
		t.Errorf("run with an edited record = exit %d %q, want %d naming %s:1", code, errOut, exitUsage, rec)
	}
}

// TestJudgeChangeIsRefused: the judge of graded assertions is part of the
// governed set: pointing it at another model (or target) is refused until
// someone signs it off.
func TestJudgeChangeIsRefused(t *testing.T) {
	for _, tt := range []struct{ name, old, new, want string }{
		{"model", "model: sim-judge", "model: sim-lenient", "judge grader (model sim-judge) -> grader (model sim-lenient) (changed)"},
		{"target", "judge: grader", "judge: prod", "judge grader (model sim-judge) -> prod (model sim-1) (changed)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := judgeProject(t, simServer(t, sim.Options{WrongRate: -1}))
			edit(t, cfg, tt.old, tt.new)
			code, _, errOut := evald(t, "run", "--config", cfg, "refunds")
			if code != exitRefused || !strings.Contains(errOut, tt.want) {
				t.Errorf("run with another judge = exit %d %q, want %d with %q", code, errOut, exitRefused, tt.want)
			}
		})
	}
}
