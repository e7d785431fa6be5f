package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/store"
)

// demoOutput runs `evald demo` with args on a database in a temporary
// folder until stop returns true for a line it printed, and returns the
// lines and the database's path. The deadline only guards against a hung
// test.
func demoOutput(t *testing.T, stop func(line string) bool, args ...string) ([]string, string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "evald.db")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := cmdDemo(ctx, append([]string{"--db", db, "--addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
		done <- err
	}()
	var lines []string
	stopped := false
	sc := bufio.NewScanner(pr)
	deadline := time.AfterFunc(3*time.Minute, cancel)
	defer deadline.Stop()
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if !stopped && stop(sc.Text()) {
			stopped = true
			cancel()
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("demo: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if !stopped {
		t.Fatalf("demo stopped (deadline) before the line awaited:\n%s", strings.Join(lines, "\n"))
	}
	return lines, db
}

// TestDemoJudgedSuite: the demo's judged suite runs at start, graded by the
// demo's own simulated judge (no key needed), its run line names the judge's
// model, the run records the judge's models and cost, and the judge's
// calibration set is graded after it, once, for that identity.
func TestDemoJudgedSuite(t *testing.T) {
	lines, db := demoOutput(t, func(l string) bool { return strings.Contains(l, ">> judge calibration") }, "--drift-after", "0")
	out := strings.Join(lines, "\n")

	var runLine string
	for i, l := range lines {
		if strings.Contains(l, " support-quality ") && i+1 < len(lines) && strings.Contains(lines[i+1], ">> judge calibration") {
			runLine = l + "\n" + lines[i+1]
		}
	}
	for _, want := range []string{"model sim-1  judge sim-judge-1", "judge calibration ok (target judge, model sim-judge-1): 0 of 5 items disagree, limit 20%"} {
		if !strings.Contains(runLine, want) {
			t.Errorf("support-quality run line lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "grades the model-graded assertions of support-quality (never updates)\n") {
		t.Errorf("banner does not name the judged suite:\n%s", out)
	}

	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(t.Context(), store.RunFilter{Suite: "support-quality"})
	if err != nil || len(runs) == 0 {
		t.Fatalf("support-quality runs = %d (%v), want at least one", len(runs), err)
	}
	first := runs[len(runs)-1]
	var det daemon.Detail
	if err := json.Unmarshal([]byte(first.Detail), &det); err != nil {
		t.Fatalf("run %d detail: %v", first.ID, err)
	}
	samples := first.Samples
	if j := det.Judge; j == nil || j.Target != "judge" || j.Models["sim-judge-1"] != samples || j.CostUSD <= 0 || first.JudgeCostUSD != j.CostUSD {
		t.Errorf("run %d judge = %+v (judge cost column %v); want target judge, every one of %d samples graded by sim-judge-1, and a cost", first.ID, j, first.JudgeCostUSD, samples)
	}
	if len(det.PendingSignoff) > 0 {
		t.Errorf("run %d is pending sign-off (%v): the demo records its suites' first sign-offs", first.ID, det.PendingSignoff)
	}
	if det.Models["sim-1"] != samples {
		t.Errorf("run %d answered by %v, want sim-1 for all %d samples", first.ID, det.Models, samples)
	}

	cals, err := st.Calibrations(t.Context(), "support-quality", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cals) != 1 {
		t.Fatalf("%d calibrations, want 1 (the judge's identity did not change)", len(cals))
	}
	c := cals[0]
	if c.JudgeTarget != "judge" || c.JudgeModel != "sim-judge-1" || c.Trigger != store.CalibrationAfterRun || c.RunID != first.ID ||
		c.Status != "ok" || c.Items != 5 || c.Disagreements != 0 {
		t.Errorf("calibration = %+v, want judge's sim-judge-1 after run %d, ok with 5 items agreeing", c, first.ID)
	}

	// The other suites have no judge.
	others, err := st.Runs(t.Context(), store.RunFilter{Suite: "faq"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range others {
		if r.JudgeCostUSD != 0 {
			t.Errorf("faq run %d has a judge cost %v, want none", r.ID, r.JudgeCostUSD)
		}
	}
}

// TestDemoJudgeDrift: with --judge-drift-after 1 the demo's judge updates
// after the judged suite's first run. The next run is graded by the new
// judge (the demo probes cached grades every run), its line says the
// judge's identity changed, and the calibration set is graded again and
// fails, which opens a judge_calibration_failed incident, while the model
// under test is untouched. It waits for the judged suite's schedule (13s).
func TestDemoJudgeDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the demo's schedule")
	}
	const updated = "sim-judge-1-judge-update"
	lines, db := demoOutput(t, func(l string) bool { return strings.Contains(l, ">> judge calibration failed") }, "--drift-after", "0", "--judge-drift-after", "1")
	out := strings.Join(lines, "\n")
	for _, want := range []string{
		"(silent update after 1 runs of support-quality)",
		"model sim-1  judge " + updated,
		`>> identity changed: judge, new model "` + updated + `"`,
		">> judge calibration failed (target judge, model " + updated + "): 2 of 5 items disagree, limit 20%",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}

	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cals, err := st.Calibrations(t.Context(), "support-quality", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cals) != 2 || cals[1].JudgeModel != "sim-judge-1" || cals[1].Status != "ok" || cals[0].JudgeModel != updated || cals[0].Status != "failed" {
		t.Errorf("calibrations (newest first) = %+v; want sim-judge-1 ok, then %s failed", cals, updated)
	}
	if _, err := st.OpenIncident(t.Context(), "support-quality", "judge", "judge_calibration_failed"); err != nil {
		t.Errorf("open judge_calibration_failed incident: %v", err)
	}
	runs, err := st.Runs(t.Context(), store.RunFilter{Suite: "support-quality"})
	if err != nil || len(runs) < 2 {
		t.Fatalf("support-quality runs = %d (%v), want 2", len(runs), err)
	}
	var det daemon.Detail
	if err := json.Unmarshal([]byte(runs[0].Detail), &det); err != nil {
		t.Fatal(err)
	}
	if det.Judge == nil || det.Judge.Models[updated] != runs[0].Samples || det.Models["sim-1"] != runs[0].Samples {
		t.Errorf("run %d: answered by %v, graded by %+v; want sim-1, and every sample by %s", runs[0].ID, det.Models, det.Judge, updated)
	}
}

// TestDemoPrintedCommands: the commands the demo prints work as printed
// from any folder: they name the demo's database and a copy of its
// project on disk, which `evald accept` needs.
func TestDemoPrintedCommands(t *testing.T) {
	lines, db := demoOutput(t, func(l string) bool { return strings.Contains(l, " faq ") && strings.Contains(l, " run ") }, "--drift-after", "0")
	out := strings.Join(lines, "\n")
	t.Chdir(t.TempDir())
	args := pasted(t, out, "history")
	if got := strings.Join(args, " "); !strings.Contains(got, "--config ") || !strings.Contains(got, "--db "+db) {
		t.Errorf("printed history command %q, want the demo's --config and --db %s", got, db)
	}
	code, hist, errOut := evald(t, args...)
	if code != exitOK || !strings.Contains(hist, "faq") {
		t.Fatalf("the printed %q = exit %d: %s%s", args, code, hist, errOut)
	}
	// The accept command the demo prints on a page carries the same flags.
	var b strings.Builder
	printRunLine(&b, &daemon.Result{Run: store.Run{Suite: "faq", Target: "prod", Status: store.StatusRegressed},
		Verdict: &drift.Verdict{Kind: drift.KindRegressed, Page: true, Message: "pass rate down"}}, demoCmd(args))
	accept := pasted(t, b.String(), "accept")
	if code, out, errOut := evald(t, accept...); code != exitOK || !strings.Contains(out, "accepted by alice") {
		t.Errorf("the printed %q = exit %d: %s%s", accept, code, out, errOut)
	}
}

// demoCmd reads the --config and --db of a printed command back.
func demoCmd(args []string) cmdLine {
	var c cmdLine
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--config":
			c.config = args[i+1]
		case "--db":
			c.db = args[i+1]
		}
	}
	return c
}

// TestDemoSummary: when the demo stops it sums up: runs per suite, the
// pages, and where the database stays.
func TestDemoSummary(t *testing.T) {
	lines, db := demoOutput(t, func(l string) bool { return strings.Contains(l, " faq ") && strings.Contains(l, " run ") }, "--drift-after", "0")
	out := strings.Join(lines, "\n")
	i := strings.Index(out, "evald demo stopped after ")
	if i < 0 {
		t.Fatalf("no summary at the end:\n%s", out)
	}
	summary := out[i:]
	for _, want := range []string{"  faq              1 run (1 ", "  support-quality  ", "pages: none\n", "database: " + db + " (kept; see evald history --config "} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}

	// Pages are listed, with the run that paged.
	tally := demoTally{runs: map[string]map[string]int{}}
	tally.add(&daemon.Result{Run: store.Run{ID: 7, Suite: "faq", Target: "prod", Status: store.StatusRegressed},
		Verdict: &drift.Verdict{Kind: drift.KindProviderChanged, Page: true}})
	tally.add(&daemon.Result{Run: store.Run{ID: 8, Suite: "faq", Target: "prod", Status: store.StatusPassed}})
	proj, err := configs.Demo("http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	tally.print(&b, proj, 90*time.Second, "x.db", cmdLine{})
	for _, want := range []string{"stopped after 1m30s: 2 runs\n", "  faq              2 runs (1 passed, 1 regressed)\n", "  tone             0 runs\n", "pages: 1\n  faq on prod, run 7: provider_changed\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

// TestDemoBehaviourNotice: the demo's replica switches to greedy decoding;
// its pass rate stays put and nothing pages, and a behaviour_changed
// notice names the cases that moved, on the run line and in the summary.
func TestDemoBehaviourNotice(t *testing.T) {
	if testing.Short() {
		t.Skip("about 30 runs of the replica at one a second")
	}
	lines, _ := demoOutput(t, func(l string) bool { return strings.Contains(l, ">> behaviour changed: ") }, "--drift-after", "0", "--greedy-after", "20")
	out := strings.Join(lines, "\n")
	for _, want := range []string{"(greedy decoding after 20 runs of faq-replica)", "drift: behaviour_changed", ">> behaviour changed: ",
		"behaviour notices (information, no page): 1\n  faq-replica on replica, run ", "pages: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}
