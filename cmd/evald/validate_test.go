package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/sim"
)

// TestValidateWarnsOfUnsetVariables: validation is about the files (CI may
// validate without secrets), so an unset variable is no error, but each
// one the config names is reported where it is named, with what follows.
func TestValidateWarnsOfUnsetVariables(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	edit(t, cfg, "storage:\n", "server:\n  tokens_env: EVALD_TEST_UNSET_TOKENS\nstorage:\n")
	withKeyEnv(t, cfg, "EVALD_TEST_UNSET_KEY")
	edit(t, cfg, "suites:\n", `  - name: grader
    base_url: http://127.0.0.1:1/v1
    api_key_env: EVALD_TEST_SET_KEY
    model: judge-1
judge: grader
suites:
`)
	appendTo(t, cfg, "alerts:\n  webhook: {url_env: EVALD_TEST_UNSET_HOOK, secret_env: EVALD_TEST_UNSET_HOOK_SECRET}\n")
	t.Setenv("EVALD_TEST_SET_KEY", "sk-do-not-print")
	for _, v := range []string{"EVALD_TEST_UNSET_TOKENS", "EVALD_TEST_UNSET_KEY", "EVALD_TEST_UNSET_HOOK", "EVALD_TEST_UNSET_HOOK_SECRET"} {
		t.Setenv(v, "") // empty is unset: there is no key in it
	}

	code, out, errOut := evald(t, "validate", "--config", cfg)
	if code != exitOK {
		t.Fatalf("validate = exit %d, stderr %q; want 0: variables are not the files' problem", code, errOut)
	}
	if !strings.Contains(out, ": ok (2 targets, 1 suite, 3 cases)") {
		t.Errorf("validate stdout = %q, want ok", out)
	}
	want := []string{
		cfg + ":2: server.tokens_env: environment variable EVALD_TEST_UNSET_TOKENS is not set (warning: the HTTP API will refuse every change)",
		cfg + ":8: targets[0].api_key_env: environment variable EVALD_TEST_UNSET_KEY is not set (warning: runs against this target will fail)",
		cfg + ":23: alerts.webhook.url_env: environment variable EVALD_TEST_UNSET_HOOK is not set (warning: evald serve will refuse to start)",
		cfg + ":23: alerts.webhook.secret_env: environment variable EVALD_TEST_UNSET_HOOK_SECRET is not set (warning: evald serve will refuse to start)",
	}
	if got := strings.Split(strings.TrimSpace(errOut), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("validate stderr:\n%s\nwant:\n%s", errOut, strings.Join(want, "\n"))
	}
	if strings.Contains(out+errOut, "sk-do-not-print") {
		t.Error("validate printed a secret's value")
	}

	// Once set, nothing is said.
	for _, v := range []string{"EVALD_TEST_UNSET_TOKENS", "EVALD_TEST_UNSET_KEY", "EVALD_TEST_UNSET_HOOK", "EVALD_TEST_UNSET_HOOK_SECRET"} {
		t.Setenv(v, "x")
	}
	if code, _, errOut := evald(t, "validate", "--config", cfg); code != exitOK || errOut != "" {
		t.Errorf("validate with every variable set = exit %d, stderr %q; want 0 and nothing", code, errOut)
	}
}

// TestValidateNamesJudgeUse: a judge's key variable says grading fails.
func TestValidateNamesJudgeUse(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	edit(t, cfg, "suites:\n", `  - name: grader
    base_url: http://127.0.0.1:1/v1
    api_key_env: EVALD_TEST_UNSET_JUDGE_KEY
    model: judge-1
judge: grader
suites:
`)
	t.Setenv("EVALD_TEST_UNSET_JUDGE_KEY", "")
	code, _, errOut := evald(t, "validate", "--config", cfg)
	want := cfg + ":13: targets[1].api_key_env: environment variable EVALD_TEST_UNSET_JUDGE_KEY is not set (warning: grading by this judge will fail)"
	if code != exitOK || strings.TrimSpace(errOut) != want {
		t.Errorf("validate = exit %d, stderr %q; want 0 and %q", code, errOut, want)
	}
}

// TestValidateSaysSuiteToolsWin: a suite's tools replace a target's
// params.tools, and validate says so where the suite declares them.
func TestValidateSaysSuiteToolsWin(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	edit(t, cfg, "    timeout: 5s\n", "    timeout: 5s\n    params:\n      tools: [{type: function, function: {name: old_tool}}]\n")
	suite := strings.TrimSuffix(cfg, "evald.yaml") + "suites/faq.yaml"
	edit(t, suite, "repeats: 2\n", "repeats: 2\ntools:\n  - type: function\n    function: {name: lookup_order}\n")
	code, _, errOut := evald(t, "validate", "--config", cfg)
	if code != exitOK {
		t.Fatalf("validate = exit %d, stderr %q; want 0", code, errOut)
	}
	if want := "suites/faq.yaml:8: tools: note: the suite's tools replace target \"prod\"'s params.tools in its runs there"; !strings.Contains(errOut, want) {
		t.Errorf("validate stderr = %q, want it to hold %q", errOut, want)
	}
}

// A global alerts.missed_after shorter than a suite's schedule interval
// makes every run of that suite that takes longer page: validate warns,
// naming the file, line and field; one at least the interval says nothing.
func TestValidateWarnsMissedAfterShorterThanSchedule(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	edit(t, cfg, "    targets: [prod]\n", "    targets: [prod]\n    schedule: \"@daily\"\n")
	appendTo(t, cfg, "alerts:\n  missed_after: 1m\n")
	code, _, errOut := evald(t, "validate", "--config", cfg)
	if code != exitOK {
		t.Fatalf("validate = exit %d, stderr %q; want 0: a warning", code, errOut)
	}
	want := cfg + `:16: alerts.missed_after: warning: 1m0s is shorter than suite faq's schedule interval (24h0m0s, "@daily")`
	if !strings.Contains(errOut, want) {
		t.Errorf("validate stderr = %q, want it to hold %q", errOut, want)
	}
	edit(t, cfg, "missed_after: 1m", "missed_after: 25h")
	if code, _, errOut := evald(t, "validate", "--config", cfg); code != exitOK || strings.Contains(errOut, "missed_after") {
		t.Errorf("missed_after 25h on @daily: exit %d, stderr %q; want 0 and no warning", code, errOut)
	}
}

// validate checks the whole project: a suite file named after it would
// look checked, so it is refused with exit 2 and no "ok", as every command
// refuses stray arguments.
func TestValidateRefusesArguments(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	code, out, errOut := evald(t, "validate", "--config", cfg, "suites/faq.yaml")
	if code != exitUsage || strings.Contains(out, ": ok") || !strings.Contains(errOut, `takes no arguments (got ["suites/faq.yaml"]): it validates the whole project`) {
		t.Errorf("validate FILE = exit %d, stdout %q, stderr %q; want %d and the reason", code, out, errOut, exitUsage)
	}
	if code, out, _ := evald(t, "validate", "--config", cfg); code != exitOK || !strings.Contains(out, ": ok") {
		t.Errorf("validate = exit %d, stdout %q; want 0 and ok", code, out)
	}
}

// TestValidateCSVIds: a CSV without __id has cases named by file and line,
// which validate says and the JSON report shows; with __id, its ids.
func TestValidateCSVIds(t *testing.T) {
	cfg := project(t, simServer(t, sim.Options{}), "0.5")
	dir := filepath.Dir(cfg)
	testfiles.Write(t, dir, "datasets/rows.csv", "question,__expected\nWhat is the refund window in days?,contains:never said\n")
	testfiles.Write(t, dir, "datasets/named.csv", "__id,question,__expected\nwarranty-csv,Is there a warranty guarantee?,contains:never said\n")
	edit(t, filepath.Join(dir, "suites/faq.yaml"), "thresholds:", "  - file://../datasets/rows.csv\n  - file://../datasets/named.csv\nthresholds:")
	signtest.Update(t, cfg)

	code, out, errOut := evald(t, "validate", "--config", cfg)
	if code != exitOK {
		t.Fatalf("validate = exit %d, %q", code, errOut)
	}
	for _, want := range []string{"5 cases × 2 repeats", "datasets/rows.csv has no __id column: its cases are named by line (rows.csv:2, ...)"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate stdout = %q, want %q", out, want)
		}
	}
	if strings.Contains(out, "named.csv has no __id") {
		t.Errorf("validate says named.csv has no __id column: %q", out)
	}
	code, out, errOut = evald(t, "run", "--config", cfg, "--format", "json")
	if code != exitOK {
		t.Fatalf("run = exit %d, %q", code, errOut)
	}
	for _, id := range []string{`"rows.csv:2"`, `"warranty-csv"`} {
		if !strings.Contains(out, id) {
			t.Errorf("run --format json has no case %s: %s", id, out)
		}
	}
	if strings.Contains(out, `"c-`) {
		t.Errorf("run --format json names a CSV case by a hash: %s", out)
	}
}

// TestValidateSaysUnderPowered: validate gives each (suite, target) what
// drift can catch within 24 runs, and warns, naming the fixes, when a
// suite cannot see its drift.min_effect: a 20-case suite at 2 pp does; the
// embedded demo's suites do not.
func TestValidateSaysUnderPowered(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	var cases strings.Builder
	for i := range 17 {
		fmt.Fprintf(&cases, "  - id: extra%d\n    vars: {question: \"q%d\"}\n    assert:\n      - type: contains\n        value: \"x\"\n", i, i)
	}
	suite := filepath.Join(filepath.Dir(cfg), "suites/faq.yaml")
	edit(t, suite, "repeats: 2\n", "repeats: 1\n")
	edit(t, suite, "thresholds:\n", cases.String()+"thresholds:\n")
	appendTo(t, suite, "drift:\n  min_effect: 0.02\n")
	edit(t, cfg, "    targets: [prod]\n", "    targets: [prod]\n    schedule: \"@hourly\"\n")
	code, out, errOut := evald(t, "validate", "--config", cfg)
	if code != exitOK {
		t.Fatalf("validate = exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "20 cases × 1 repeat") || !strings.Contains(out, "    drift on prod: catches a drop of ") {
		t.Errorf("validate output lacks the suite's reach:\n%s", out)
	}
	warn := "    warning: faq on prod is under-powered: drift.min_effect 2.0 pp would page within 24 runs only "
	if !strings.Contains(out, warn) {
		t.Fatalf("validate output lacks %q:\n%s", warn, out)
	}
	for _, fix := range []string{"more cases (about ", "repeats: ", "drift.min_effect: "} {
		if !strings.Contains(out, fix) {
			t.Errorf("the warning does not name %q:\n%s", fix, out)
		}
	}

	code, out, errOut = evald(t, "validate", "--config", filepath.Join("..", "..", "configs", "demo", "evald.yaml"))
	if code != exitOK {
		t.Fatalf("validate of the demo = exit %d, stderr %q", code, errOut)
	}
	if n := strings.Count(out, "    drift on prod: "); n != 5 || strings.Contains(out, "warning") {
		t.Errorf("demo: %d reach lines, want 5 and no warning:\n%s", n, out)
	}
}
