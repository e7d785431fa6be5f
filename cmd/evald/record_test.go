package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
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

// TestRunServerComparesRecords: `evald run --server` asks production for
// the sign-off it enforces and refuses (exit 3) when the checkout's record
// does not hold it; a record that adds a newer sign-off to production's
// goes on.
func TestRunServerComparesRecords(t *testing.T) {
	base, _ := countingSim(t)
	p := newGateProj(t, base, gateOpts{prodFacts: 30})
	srv, _ := serveProduction(t, p.cfg, filepath.Join(t.TempDir(), "prod.db"), nil)
	url := "http://" + srv.Addr()
	cand := p.candidate(t, "same", 30, "")

	// checkout copies production's project; edit changes the copy.
	checkout := func(t *testing.T, edit func(cfg, suite, record string)) string {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "pr")
		if err := os.CopyFS(dir, os.DirFS(p.dir)); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "evald.yaml")
		edit(cfg, filepath.Join(dir, "suites/facts.yaml"), filepath.Join(dir, governance.RecordFile))
		return cfg
	}
	run := func(cfg string) (int, string) {
		code, _, errOut := evald(t, "run", "--config", cfg, "--db", filepath.Join(t.TempDir(), "ci.db"), "--server", url, "--prompt", cand, "facts")
		return code, errOut
	}

	t.Run("record rewritten", func(t *testing.T) {
		// The pull request lowers the bar and replaces the record with a
		// first sign-off of its own: locally consistent, but production's
		// entry is gone.
		cfg := checkout(t, func(cfg, suite, record string) {
			edit(t, suite, "pass_rate: 0.4", "pass_rate: 0.1")
			if err := os.Remove(record); err != nil {
				t.Fatal(err)
			}
			signtest.File(t, cfg)
		})
		code, errOut := run(cfg)
		if code != exitRefused || !strings.Contains(errOut, "the sign-off record differs from production's") || !strings.Contains(errOut, "facts: "+url+" enforces sign-off") {
			t.Errorf("run = exit %d %q, want %d naming production's sign-off", code, errOut, exitRefused)
		}
	})
	t.Run("record extended", func(t *testing.T) {
		cfg := checkout(t, func(cfg, suite, record string) {
			edit(t, suite, "pass_rate: 0.4", "pass_rate: 0.3")
			signtest.Update(t, cfg)
		})
		if code, errOut := run(cfg); code == exitRefused || code == exitUsage {
			t.Errorf("run with production's sign-off and a newer one = exit %d %q, want the gate to run", code, errOut)
		}
	})
}

// signerServer serves the project at cfg over HTTP with alice's and bob's
// tokens, as evald serve does.
func signerServer(t *testing.T, cfg string) string {
	t.Helper()
	srv, _ := serveProduction(t, cfg, filepath.Join(t.TempDir(), "serve.db"), map[string]string{"tok-alice": "alice", "tok-bob": "bob"})
	return "http://" + srv.Addr()
}

func postSignoff(t *testing.T, base, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/suites/faq/signoff", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHTTPSignerIsTheToken: over HTTP the record names the token's owner,
// never a name in the body, and no git identity (the server's would not be
// the signer's).
func TestHTTPSignerIsTheToken(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	edit(t, filepath.Join(filepath.Dir(cfg), "suites/faq.yaml"), "pass_rate: 0.9", "pass_rate: 0.8")
	base := signerServer(t, cfg)
	if code, body := postSignoff(t, base, "tok-alice", `{"reason":"agreed","by":"mallory"}`); code != http.StatusBadRequest {
		t.Errorf("signoff naming its signer = %d %s, want 400", code, body)
	}
	if code, body := postSignoff(t, base, "tok-alice", `{"reason":"agreed in review"}`); code != http.StatusOK {
		t.Fatalf("signoff = %d %s, want 200", code, body)
	}
	lines := recordLines(t, cfg)
	last := lines[len(lines)-1]
	if len(lines) != 2 || !strings.Contains(last, `"by":"alice"`) || strings.Contains(last, `"git"`) || !strings.Contains(last, `"pass_rate":0.8`) {
		t.Errorf("record = %q, want a second entry by alice (the token), with no git identity", lines)
	}
	// The record the server wrote is the one evald run checks: the run
	// is not refused (its endpoint is down: exit 4).
	code, _, errOut := evald(t, "run", "--config", cfg, "faq")
	if code != exitNoResult {
		t.Errorf("run after the HTTP sign-off = exit %d: %s", code, errOut)
	}
}

// TestRequireDistinctSigner: with governance.require_distinct_signer the
// author of the suite file's last commit cannot sign its change off, from
// the command line (as --by or as the local git user) or over HTTP.
func TestRequireDistinctSigner(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	dir := filepath.Dir(cfg)
	appendTo(t, cfg, "governance:\n  require_distinct_signer: true\n")
	suite := filepath.Join(dir, "suites/faq.yaml")
	edit(t, suite, "pass_rate: 0.9", "pass_rate: 0.8")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("config", "user.name", "carol")
	git("config", "user.email", "carol@example.com")
	git("add", "suites/faq.yaml")
	git("-c", "user.name=alice", "-c", "user.email=alice@example.com", "commit", "-q", "-m", "lower the bar")

	code, _, errOut := evald(t, "signoff", "--config", cfg, "--by", "Alice", "--reason", "mine", "faq")
	if code != exitRefused || !strings.Contains(errOut, "require_distinct_signer") || !strings.Contains(errOut, "alice last changed") {
		t.Errorf("signoff by the author = exit %d %q, want %d naming the rule and the author", code, errOut, exitRefused)
	}
	if code, body := postSignoff(t, signerServer(t, cfg), "tok-alice", `{"reason":"mine"}`); code != http.StatusForbidden {
		t.Errorf("HTTP signoff by the author's token = %d %s, want 403", code, body)
	}
	git("config", "user.name", "alice")
	if code, _, errOut := evald(t, "signoff", "--config", cfg, "--by", "bob", "--reason", "typed another name", "faq"); code != exitRefused {
		t.Errorf("signoff --by bob by the author's git user = exit %d %q, want %d", code, errOut, exitRefused)
	}
	git("config", "user.name", "carol")
	if code, out, errOut := evald(t, "signoff", "--config", cfg, "--by", "bob", "--reason", "reviewed", "faq"); code != exitOK {
		t.Fatalf("signoff by bob = exit %d: %s %s", code, out, errOut)
	}
	lines := recordLines(t, cfg)
	if last := lines[len(lines)-1]; !strings.Contains(last, `"by":"bob"`) || !strings.Contains(last, `"git":"carol <carol@example.com>"`) {
		t.Errorf("record's new entry = %s, want bob with carol's git identity", last)
	}
}

// TestCIRecipeRefusesLoweredThreshold runs docs/ci.md's GitHub Actions
// command as written (a fresh database per job, --baseline latest
// against production's server) on a pull request that lowers a
// threshold: exit 3, even before production has a run to compare with.
func TestCIRecipeRefusesLoweredThreshold(t *testing.T) {
	base, h := countingSim(t)
	p := newGateProj(t, base, gateOpts{prodFacts: 30})
	url := signerServer(t, p.cfg)
	edit(t, filepath.Join(p.dir, "suites/facts.yaml"), "pass_rate: 0.4", "pass_rate: 0.1")
	report := filepath.Join(t.TempDir(), "evald-report.md")
	before := h.Requests()
	code, _, errOut := evald(t, "run", "--config", p.cfg, "--db", filepath.Join(t.TempDir(), "evald-ci.db"),
		"--baseline", "latest", "--server", url, "--budget-usd", "2", "--cache", filepath.Join(t.TempDir(), "cache"),
		"--format", "markdown", "--out", report)
	if code != exitRefused || !strings.Contains(errOut, "pass_rate 0.40 -> 0.10 (loosened)") {
		t.Errorf("the CI recipe on a lowered threshold = exit %d %q, want %d with the diff", code, errOut, exitRefused)
	}
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), "REFUSED") && !strings.Contains(string(b), "efused") {
		t.Errorf("report = %q (%v), want the refusal", b, err)
	}
	if n := h.Requests() - before; n != 0 {
		t.Errorf("%d requests sent for a refused run, want none", n)
	}
}

// TestRecordRolledBack: a database that saw a later sign-off keeps it in
// force when the record loses that entry (its last line deleted and the
// suite file put back). The run is refused, naming the later sign-off, and
// the audit log credits nobody with the old entry anew.
func TestRecordRolledBack(t *testing.T) {
	cfg, suite := failingProject(t)
	db := filepath.Join(filepath.Dir(cfg), "evald.db")
	if code, _, errOut := evald(t, "run", "--config", cfg, "faq"); code != exitFailed {
		t.Fatalf("run under the signed bar = exit %d (%s), want %d", code, errOut, exitFailed)
	}
	record := filepath.Join(filepath.Dir(cfg), governance.RecordFile)
	oldRecord, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	oldSuite, err := os.ReadFile(suite)
	if err != nil {
		t.Fatal(err)
	}
	edit(t, suite, "pass_rate: 0.9", "pass_rate: 0.95")
	mustEvald(t, "signoff", "--config", cfg, "--by", "bob", "--reason", "stricter", "faq")
	before := mustEvald(t, "audit", "log", "--config", cfg, "--json")

	// The rollback: the suite file and the record as they were.
	for f, b := range map[string][]byte{record: oldRecord, suite: oldSuite} {
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errOut := evald(t, "run", "--config", cfg, "--db", db, "faq")
	if code != exitRefused || !strings.Contains(errOut, "by bob") || !strings.Contains(errOut, "the later entry is gone from") ||
		!strings.Contains(errOut, "pass_rate 0.95 -> 0.90 (loosened)") {
		t.Errorf("run after the record was rolled back = exit %d %q, want %d naming bob's later sign-off and the loosened bar", code, errOut, exitRefused)
	}
	if after := mustEvald(t, "audit", "log", "--config", cfg, "--json"); after != before {
		t.Errorf("the rolled-back record was written to the audit log:\n%s\nwas\n%s", after, before)
	}
}

// TestValidateSigned: validate --signed checks the files against the record
// with no run: exit 3 with the diff and the signoff command for a lowered
// bar, 0 once it is signed off.
func TestValidateSigned(t *testing.T) {
	cfg, suite := failingProject(t)
	mustEvald(t, "validate", "--signed", "--config", cfg)
	edit(t, suite, "pass_rate: 0.9", "pass_rate: 0.5")
	code, _, errOut := evald(t, "validate", "--signed", "--config", cfg)
	if code != exitRefused || !strings.Contains(errOut, "pass_rate 0.90 -> 0.50 (loosened)") || !strings.Contains(errOut, "evald signoff") ||
		!strings.Contains(errOut, "1 suite waiting for a sign-off") {
		t.Errorf("validate --signed with a lowered bar = exit %d %q, want %d with the diff and the signoff command", code, errOut, exitRefused)
	}
	if code, _, _ := evald(t, "validate", "--config", cfg); code != exitOK {
		t.Errorf("validate without --signed = exit %d, want %d: it reports, it does not refuse", code, exitOK)
	}
	mustEvald(t, "signoff", "--config", cfg, "--by", "bob", "--reason", "half", "faq")
	mustEvald(t, "validate", "--signed", "--config", cfg)
}
