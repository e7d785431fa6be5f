package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/sim"
)

// judgeDouble is the judge endpoint of the regrade tests: the simulator,
// whose grading replies the test can alter. It counts grading requests
// from the moment it is armed.
type judgeDouble struct {
	*httptest.Server
	// strict turns every passing verdict into a failing one.
	strict atomic.Bool
	// garbage, when set, picks the grading requests (counted from 1 since
	// arming) that get an unreadable reply.
	garbage atomic.Pointer[func(n int64) bool]
	// onGrade, when set, is called with the grading request's count before
	// it is answered; it returns false to leave the request unanswered.
	onGrade atomic.Pointer[func(n int64) bool]
	graded  atomic.Int64
}

func newJudgeDouble(t *testing.T) *judgeDouble {
	t.Helper()
	h := sim.New(sim.Options{WrongRate: -1})
	jd := &judgeDouble{}
	jd.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			h.ServeHTTP(w, r)
			return
		}
		n := jd.graded.Add(1)
		if f := jd.onGrade.Load(); f != nil && !(*f)(n) {
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var resp map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		msg := resp["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
		content, _ := msg["content"].(string)
		if jd.strict.Load() {
			content = strings.ReplaceAll(content, `"pass":true`, `"pass":false`)
		}
		if f := jd.garbage.Load(); f != nil && (*f)(n) {
			content = "Hard to say.\x1b[2J Both readings have merit."
		}
		msg["content"] = content
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(func() { h.Close(); jd.Close() })
	return jd
}

// arm restarts the count of grading requests.
func (jd *judgeDouble) arm() { jd.graded.Store(0) }

// regradeProject writes a config whose suite refunds is graded by the
// judge (3 llm-rubric cases, 2 of them passing, and a contains case, 4
// repeats), and whose suite faq has no model-graded assertion.
func regradeProject(t *testing.T, prodURL, judgeURL string) (cfg, dir string) {
	t.Helper()
	dir = t.TempDir()
	write := func(name, body string) { testfiles.Write(t, dir, name, body) }
	targets := testfiles.JudgeTargets{ProdURL: prodURL, GraderURL: judgeURL,
		Prod:   "concurrency: 4\nretries: 1\ntimeout: 5s",
		Grader: "concurrency: 1\nretries: 1\ntimeout: 5s"}
	write("evald.yaml", "storage:\n  sqlite: evald.db\n"+targets.YAML()+`suites:
  - file: suites/refunds.yaml
    targets: [prod]
  - file: suites/faq.yaml
    targets: [prod]
`)
	write("suites/refunds.yaml", `name: refunds
prompt:
`+testfiles.RefundPrompt+`repeats: 4
tests:
  - id: window
    vars: {question: "What is the refund window to return an item?"}
    assert:
      - type: llm-rubric
        value: mentions the days to return
  - id: days
    vars: {question: "How many days to return an item?"}
    assert:
      - type: llm-rubric
        value: says how many days there are to return
  - id: warranty
    vars: {question: "How long do I have to return an item?"}
    assert:
      - type: llm-rubric
        value: mentions warranty coverage terms
  - id: plain
    vars: {question: "Can I return an item?"}
    assert:
      - type: contains
        value: "30 days"
thresholds:
  pass_rate: 0.5
`)
	write("suites/faq.yaml", `name: faq
prompt:
  - role: user
    content: "{{question}}"
tests:
  - id: refund
    vars: {question: "What is the refund window?"}
    assert:
      - type: icontains
        value: "days"
`)
	return signtest.File(t, filepath.Join(dir, "evald.yaml")), dir
}

// runID runs suite and returns the new run's id.
func runID(t *testing.T, cfg, suite string) int64 {
	t.Helper()
	code, out, errOut := evald(t, "run", "--config", cfg, "--format", "json", suite)
	if code != exitOK && code != exitFailed {
		t.Fatalf("run %s = exit %d: %s", suite, code, errOut)
	}
	var r struct {
		RunID int64 `json:"run_id"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.RunID == 0 {
		t.Fatalf("run %s printed %q: %v", suite, out, err)
	}
	return r.RunID
}

// regradeJSON is the part of the report the tests read.
type regradeJSON struct {
	Status     string `json:"status"`
	Conclusion string `json:"conclusion"`
	Samples    struct {
		Stored, Graded, Missing, Compared int
		NoCase                            int `json:"no_case"`
		ToGrade                           int `json:"to_grade"`
	} `json:"samples"`
	SuiteChanged bool `json:"suite_changed"`
	Stored       struct {
		PassRate       *float64 `json:"pass_rate"`
		SamplePassRate *float64 `json:"sample_pass_rate"`
	} `json:"stored"`
	Regraded struct {
		PassRate       *float64 `json:"pass_rate"`
		SamplePassRate *float64 `json:"sample_pass_rate"`
	} `json:"regraded"`
	PassToFail []struct {
		ID     string `json:"id"`
		Reason string `json:"reason"`
	} `json:"pass_to_fail"`
	NPassToFail int     `json:"n_pass_to_fail"`
	NFailToPass int     `json:"n_fail_to_pass"`
	PMid        float64 `json:"p_mid"`
	Missing     struct {
		JudgeError       int `json:"judge_error"`
		JudgeUnparseable int `json:"judge_unparseable"`
		Examples         []struct {
			Class, Text string
		} `json:"examples"`
	} `json:"missing"`
	JudgeThen *struct {
		TargetVersion string `json:"target_version"`
	} `json:"judge_then"`
	JudgeNow struct {
		TargetVersion string         `json:"target_version"`
		Models        map[string]int `json:"models"`
	} `json:"judge_now"`
	CostUSD float64 `json:"cost_usd"`
}

func decodeRegrade(t *testing.T, out string) regradeJSON {
	t.Helper()
	var r regradeJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("regrade --format json printed %q: %v", out, err)
	}
	return r
}

func TestRegradeAgreeThenDisagree(t *testing.T) {
	jd := newJudgeDouble(t)
	cfg, _ := regradeProject(t, simServer(t, sim.Options{WrongRate: -1}), jd.URL+"/v1")
	id := runID(t, cfg, "refunds")
	jd.arm()

	code, out, errOut := evald(t, "regrade", "--config", cfg, "--run", fmt.Sprint(id), "--format", "json", "refunds")
	if code != exitOK {
		t.Fatalf("regrade by the same judge = exit %d, want 0; stdout %s stderr %s", code, out, errOut)
	}
	r := decodeRegrade(t, out)
	if r.Status != "agree" || r.NPassToFail+r.NFailToPass != 0 || r.Samples.Compared != 16 || r.Samples.Stored != 16 {
		t.Errorf("regrade = %+v, want agree, no flips, 16 of 16 samples compared", r)
	}
	if got := jd.graded.Load(); got != 12 {
		t.Errorf("judge requests of the regrade = %d, want one per llm-rubric sample (12)", got)
	}
	if r.Stored.PassRate == nil || r.Regraded.PassRate == nil || *r.Stored.PassRate != 0.75 || *r.Regraded.PassRate != 0.75 {
		t.Errorf("pass rates stored %v, regraded %v; want 0.75 both", r.Stored.PassRate, r.Regraded.PassRate)
	}
	if r.JudgeThen == nil || r.JudgeThen.TargetVersion != r.JudgeNow.TargetVersion || len(r.JudgeNow.Models) == 0 || r.CostUSD <= 0 {
		t.Errorf("judge then %+v, now %+v, cost %v; want the same judge, its models, a paid regrade", r.JudgeThen, r.JudgeNow, r.CostUSD)
	}
	if !strings.Contains(r.Conclusion, "not the judge's doing") {
		t.Errorf("conclusion = %q", r.Conclusion)
	}
	code, out, _ = evald(t, "regrade", "--run", fmt.Sprint(id), "refunds", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "agree: ") || !strings.Contains(out, "0 pass->fail, 0 fail->pass") {
		t.Errorf("regrade text = exit %d:\n%s", code, out)
	}

	jd.strict.Store(true)
	code, out, errOut = evald(t, "regrade", "--config", cfg, "--run", fmt.Sprint(id), "--format", "json", "refunds")
	if code != exitFailed {
		t.Fatalf("regrade by a stricter judge = exit %d, want 1; stdout %s stderr %s", code, out, errOut)
	}
	r = decodeRegrade(t, out)
	if r.Status != "disagree" || r.NPassToFail != 8 || r.NFailToPass != 0 || r.PMid >= 0.01 {
		t.Errorf("regrade = %+v, want disagree with 8 pass->fail and mid-p < 0.01", r)
	}
	flipped := map[string]int{}
	for _, f := range r.PassToFail {
		flipped[f.ID]++
		if f.Reason == "" {
			t.Errorf("flip %+v has no reason", f)
		}
	}
	if flipped["window"] != 4 || flipped["days"] != 4 || len(flipped) != 2 {
		t.Errorf("pass->fail cases = %v, want window and days, 4 each", flipped)
	}
	if *r.Regraded.PassRate != 0.25 || *r.Stored.PassRate != 0.75 {
		t.Errorf("pass rates stored %v, regraded %v; want 0.75 then 0.25", *r.Stored.PassRate, *r.Regraded.PassRate)
	}
	code, out, _ = evald(t, "regrade", "--config", cfg, "--run", fmt.Sprint(id), "refunds")
	if code != exitFailed || !strings.Contains(out, "pass->fail  window #0") || !strings.Contains(out, "disagree: the judge changed") {
		t.Errorf("regrade text = exit %d:\n%s", code, out)
	}

	// The regrade changed nothing stored: the run reads as it did.
	code, out, _ = evald(t, "history", "--config", cfg, "--json", "refunds")
	if code != exitOK || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"pass_rate":0.75`) {
		t.Errorf("history after the regrades = exit %d:\n%s", code, out)
	}
}

func TestRegradeUsageErrors(t *testing.T) {
	jd := newJudgeDouble(t)
	cfg, _ := regradeProject(t, simServer(t, sim.Options{WrongRate: -1}), jd.URL+"/v1")
	refunds := runID(t, cfg, "refunds")
	faq := runID(t, cfg, "faq")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--run", "999", "refunds"}, "no run 999"},
		{[]string{"--run", fmt.Sprint(faq), "refunds"}, `is a run of suite "faq", not "refunds"`},
		{[]string{"--run", fmt.Sprint(faq), "faq"}, "no model-graded assertions"},
		{[]string{"--run", fmt.Sprint(refunds), "refnds"}, `no suite named "refnds"`},
		{[]string{"refunds"}, "--run ID is required"},
		{[]string{"--run", fmt.Sprint(refunds), "--format", "xml", "refunds"}, "--format"},
		{[]string{"--run", fmt.Sprint(refunds)}, "exactly one suite"},
	} {
		code, out, errOut := evald(t, append([]string{"regrade", "--config", cfg}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("regrade %v = exit %d, stderr %q; want %d saying %q (stdout %q)", tc.args, code, errOut, exitUsage, tc.want, out)
		}
	}
}

func TestRegradeSuiteChanged(t *testing.T) {
	jd := newJudgeDouble(t)
	cfg, dir := regradeProject(t, simServer(t, sim.Options{WrongRate: -1}), jd.URL+"/v1")
	id := runID(t, cfg, "refunds")
	_, out, _ := evald(t, "history", "--config", cfg, "--json")
	var h struct {
		SuiteVersion string `json:"suite_version"`
	}
	json.Unmarshal([]byte(out), &h)

	// The warranty case is dropped from the suite.
	path := filepath.Join(dir, "suites/refunds.yaml")
	edit(t, path, `  - id: warranty
    vars: {question: "How long do I have to return an item?"}
    assert:
      - type: llm-rubric
        value: mentions warranty coverage terms
`, "")

	code, _, errOut := evald(t, "regrade", "--config", cfg, "--run", fmt.Sprint(id), "refunds")
	if code != exitUsage || !strings.Contains(errOut, h.SuiteVersion[:12]) || !strings.Contains(errOut, "--allow-suite-change") {
		t.Fatalf("regrade of a changed suite = exit %d, stderr %q; want 2 naming the run's version %s and the flag", code, errOut, h.SuiteVersion[:12])
	}
	code, out, errOut = evald(t, "regrade", "--config", cfg, "--run", fmt.Sprint(id), "--allow-suite-change", "--format", "json", "refunds")
	if code != exitOK {
		t.Fatalf("regrade --allow-suite-change = exit %d: %s %s", code, out, errOut)
	}
	r := decodeRegrade(t, out)
	if !r.SuiteChanged || r.Samples.NoCase != 4 || r.Samples.Compared != 12 || r.Status != "agree" {
		t.Errorf("regrade --allow-suite-change = %+v; want suite_changed, 4 samples of a removed case, 12 compared, agree", r)
	}
}

func TestRegradeUnreadableJudge(t *testing.T) {
	jd := newJudgeDouble(t)
	cfg, _ := regradeProject(t, simServer(t, sim.Options{WrongRate: -1}), jd.URL+"/v1")
	id := runID(t, cfg, "refunds")

	t.Run("within the error budget", func(t *testing.T) {
		first := func(n int64) bool { return n == 1 }
		jd.garbage.Store(&first)
		jd.arm()
		code, out, errOut := evald(t, "regrade", "--config", cfg, "--run", fmt.Sprint(id), "--format", "json", "refunds")
		if code != exitOK {
			t.Fatalf("regrade = exit %d: %s %s", code, out, errOut)
		}
		r := decodeRegrade(t, out)
		if r.Samples.Missing != 1 || r.Missing.JudgeUnparseable != 1 || r.Samples.Compared != 15 || r.NPassToFail != 0 {
			t.Errorf("regrade = %+v, want 1 unreadable grade counted as missing, 15 compared, no flips", r)
		}
		if len(r.Missing.Examples) != 1 || !strings.Contains(r.Missing.Examples[0].Text, "Hard to say") {
			t.Errorf("missing examples = %+v, want the judge's raw reply", r.Missing.Examples)
		}
		jd.arm()
		code, out, _ = evald(t, "regrade", "--config", cfg, "--run", fmt.Sprint(id), "refunds")
		if code != exitOK || !strings.Contains(out, "missing grades: 1 (0 judge errors, 1 unreadable replies)") || strings.Contains(out, "\x1b") {
			t.Errorf("regrade text = exit %d, want the missing grade without the reply's escape codes:\n%q", code, out)
		}
	})
	t.Run("beyond the error budget", func(t *testing.T) {
		all := func(int64) bool { return true }
		jd.garbage.Store(&all)
		code, out, _ := evald(t, "regrade", "--config", cfg, "--run", fmt.Sprint(id), "--format", "json", "refunds")
		if code != exitNoResult {
			t.Fatalf("regrade = exit %d, want %d: %s", code, exitNoResult, out)
		}
		r := decodeRegrade(t, out)
		if r.Status != "errored" || r.Missing.JudgeUnparseable != 12 || r.NPassToFail != 0 || r.Samples.Compared != 4 {
			t.Errorf("regrade = %+v, want errored, 12 missing grades and no fails, the 4 plain samples compared", r)
		}
	})
}

// TestRegradeInterrupted: Ctrl-C on the third grading request stops the
// regrade; it prints a partial report marked interrupted and exits 4.
func TestRegradeInterrupted(t *testing.T) {
	jd := newJudgeDouble(t)
	cfg, _ := regradeProject(t, simServer(t, sim.Options{WrongRate: -1}), jd.URL+"/v1")
	id := runID(t, cfg, "refunds")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := func(n int64) bool {
		if n < 3 {
			return true
		}
		cancel()
		return false
	}
	jd.onGrade.Store(&stop)
	jd.arm()
	var out, errb bytes.Buffer
	err := cmdRegrade(ctx, []string{"--config", cfg, "--run", fmt.Sprint(id), "--format", "json", "refunds"}, &out, &errb)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitNoResult {
		t.Fatalf("interrupted regrade = %v, want exit %d; stderr %s", err, exitNoResult, errb.String())
	}
	r := decodeRegrade(t, out.String())
	if r.Status != "interrupted" || r.Samples.Graded >= r.Samples.ToGrade || r.Samples.Graded < 2 {
		t.Errorf("interrupted regrade = %+v, want a partial report marked interrupted", r)
	}
	if !strings.Contains(r.Conclusion, "partial") {
		t.Errorf("conclusion = %q, want it to say the result is partial", r.Conclusion)
	}
}
