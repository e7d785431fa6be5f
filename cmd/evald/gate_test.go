package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/server"
	"github.com/evald/evald/sim"
	"github.com/evald/evald/store"
)

// gateCases is the number of questions of the gate tests' suite.
const gateCases = 30

// gateProj is a project on disk for the gate tests: a suite of gateCases
// questions whose answers are facts of the production prompt.
type gateProj struct {
	dir, cfg string
}

type gateOpts struct {
	prodFacts   int    // facts 0..prodFacts-1 in the production prompt
	concurrency int    // default 4
	maxTokens   int    // 0: none
	price       string // default {input_per_mtok: 1, output_per_mtok: 2}
}

func newGateProj(t *testing.T, baseURL string, o gateOpts) *gateProj {
	t.Helper()
	if o.concurrency == 0 {
		o.concurrency = 4
	}
	if o.price == "" {
		o.price = "{input_per_mtok: 1, output_per_mtok: 2}"
	}
	params := ""
	if o.maxTokens > 0 {
		params = fmt.Sprintf("    params: {max_tokens: %d}\n", o.maxTokens)
	}
	p := &gateProj{dir: t.TempDir()}
	p.cfg = p.write(t, "evald.yaml", fmt.Sprintf(`storage:
  sqlite: evald.db
targets:
  - name: prod
    base_url: %s
    model: sim-1
    concurrency: %d
    retries: 1
    timeout: 10s
%s    price: %s
suites:
  - file: suites/facts.yaml
    targets: [prod]
    schedule: "@hourly"
`, baseURL, o.concurrency, params, o.price))
	p.write(t, "prompts/prod.yaml", factsPrompt("Answer from these facts.", o.prodFacts, ""))
	var tests strings.Builder
	for i := range gateCases {
		fmt.Fprintf(&tests, "  - id: q%02d\n    vars: {topic: \"topic%d item%d\"}\n    assert:\n      - type: icontains\n        value: \"number%d\"\n", i, i, i, i)
	}
	p.write(t, "suites/facts.yaml", "name: facts\nprompt: file://../prompts/prod.yaml\nrepeats: 1\ntests:\n"+tests.String()+"thresholds:\n  pass_rate: 0.4\n")
	signtest.File(t, p.cfg)
	return p
}

func (p *gateProj) write(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// candidate writes a candidate prompt knowing facts 0..n-1; tail lengthens
// every answer.
func (p *gateProj) candidate(t *testing.T, name string, n int, tail string) string {
	return p.write(t, "candidates/"+name+".yaml", factsPrompt("Candidate: answer from these facts.", n, tail))
}

func factsPrompt(preamble string, n int, tail string) string {
	var b strings.Builder
	b.WriteString("- role: system\n  content: |\n    " + preamble + "\n")
	for i := range n {
		fmt.Fprintf(&b, "    topic%d item%d => the answer is number%d%s\n", i, i, i, tail)
	}
	b.WriteString("- role: user\n  content: \"Tell me about {{topic}}\"\n")
	return b.String()
}

// countingSim is the simulator behind a handler that counts chat requests.
func countingSim(t *testing.T) (string, *sim.Server) {
	t.Helper()
	h := sim.New(sim.Options{WrongRate: -1})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return srv.URL + "/v1", h
}

func decodeRun(t *testing.T, out string) runJSON {
	t.Helper()
	var j runJSON
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &j); err != nil {
		t.Fatalf("run JSON %q: %v", out, err)
	}
	return j
}

// TestRunCandidates: `evald run --prompt` against the latest production run
// on the simulator: more facts is improved (exit 0), the same facts
// unchanged (exit 0), fewer facts regressed (exit 1, regression filled).
func TestRunCandidates(t *testing.T) {
	base, _ := countingSim(t)
	p := newGateProj(t, base, gateOpts{prodFacts: 24})
	code, out, errOut := evald(t, "run", "--config", p.cfg, "--format", "json", "facts")
	if code != exitOK {
		t.Fatalf("production run = exit %d: %s %s", code, out, errOut)
	}
	prod := decodeRun(t, out)
	if prod.Candidate || *prod.PassRate != 0.8 {
		t.Fatalf("production run = candidate %v, pass rate %v; want a production run at 0.8", prod.Candidate, *prod.PassRate)
	}
	for _, tc := range []struct {
		name     string
		facts    int
		code     int
		status   store.Status
		decision string
		delta    float64
	}{
		{"better", 30, exitOK, store.StatusPassed, daemon.DecisionImproved, 0.2},
		{"same", 24, exitOK, store.StatusPassed, daemon.DecisionUnchanged, 0},
		{"worse", 15, exitFailed, store.StatusRegressed, daemon.DecisionRegressed, -0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := evald(t, "run", "--config", p.cfg, "--format", "json", "--prompt", p.candidate(t, tc.name, tc.facts, ""), "facts")
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", code, tc.code, out, errOut)
			}
			j := decodeRun(t, out)
			if !j.Candidate || j.Status != tc.status || j.Gate == nil || j.Gate.Decision != tc.decision || j.Baseline != daemon.BaselineLatest {
				t.Fatalf("candidate JSON = %s", out)
			}
			rg := j.Regression
			if rg.Detected != (tc.decision == daemon.DecisionRegressed) || rg.BaselineRunID == nil || *rg.BaselineRunID != prod.RunID ||
				rg.Delta == nil || math.Abs(*rg.Delta-tc.delta) > 1e-9 || rg.PValue == nil || rg.Verdict != tc.decision {
				t.Errorf("regression = %+v, want detected %v against run %d, delta %v", rg, tc.decision == daemon.DecisionRegressed, prod.RunID, tc.delta)
			}
			if tc.decision != daemon.DecisionUnchanged && *rg.PValue >= 0.05 {
				t.Errorf("p = %v, want < 0.05", *rg.PValue)
			}
		})
	}
	// The text report names the regressed cases; the log adds no warning
	// repeating the verdict.
	code, out, errOut = evald(t, "run", "--config", p.cfg, "--prompt", p.candidate(t, "worse", 15, ""), "facts")
	if code != exitFailed || !strings.Contains(out, "gate        REGRESSED") || !strings.Contains(out, "regressed   q15") || !strings.Contains(out, "30 cases × 1 repeat)") {
		t.Errorf("text report (exit %d):\n%s", code, out)
	}
	if strings.Contains(errOut, "level=WARN") {
		t.Errorf("a regressed candidate logs a warning repeating its report:\n%s", errOut)
	}
	// Regressed and below the bar: a case is listed once, as regressed or
	// as failing.
	code, out, _ = evald(t, "run", "--config", p.cfg, "--prompt", p.candidate(t, "much-worse", 5, ""), "facts")
	if code != exitFailed || !strings.Contains(out, "FAILED threshold") || !strings.Contains(out, "listed above as regressed") {
		t.Errorf("text report (exit %d):\n%s", code, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "regressed" && strings.Contains(out, "  fail  "+f[1]+" ") {
			t.Errorf("case %s is listed as regressed and as failing:\n%s", f[1], out)
		}
	}

	// A pull request that edits the suite's prompt file in place: with
	// --baseline, the checkout's suite is the candidate.
	p.write(t, "prompts/prod.yaml", factsPrompt("Answer from these facts.", 15, ""))
	code, out, errOut = evald(t, "run", "--config", p.cfg, "--baseline", "latest", "--format", "json", "facts")
	if code != exitFailed {
		t.Fatalf("in-place edit = exit %d, want %d: %s %s", code, exitFailed, out, errOut)
	}
	if j := decodeRun(t, out); !j.Candidate || j.Gate == nil || j.Gate.Baseline.RunID != prod.RunID || j.Gate.Decision != daemon.DecisionRegressed {
		t.Errorf("in-place edit JSON = %s, want a regressed candidate against run %d", out, prod.RunID)
	}
}

// TestRunSideBySideByDefault: with no production run stored, a candidate
// is compared with production run side by side, and says so.
func TestRunSideBySideByDefault(t *testing.T) {
	base, h := countingSim(t)
	p := newGateProj(t, base, gateOpts{prodFacts: 30, concurrency: 1})
	code, out, errOut := evald(t, "run", "--config", p.cfg, "--format", "json", "--prompt", p.candidate(t, "worse", 20, ""), "facts")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d: %s %s", code, exitFailed, out, errOut)
	}
	if !strings.Contains(errOut, "comparing side by side") {
		t.Errorf("stderr %q, want a note that production runs side by side", errOut)
	}
	j := decodeRun(t, out)
	if j.Baseline != daemon.BaselineSideBySide || j.Gate.Baseline.Mode != daemon.BaselineSideBySide || j.Gate.Baseline.RunID == j.RunID {
		t.Errorf("JSON = %s, want a side-by-side baseline of its own", out)
	}
	if got := h.Requests(); got != 2*gateCases {
		t.Errorf("simulator answered %d requests, want %d (both arms)", got, 2*gateCases)
	}
	// The side-by-side production arm is no production baseline later.
	if code, _, errOut := evald(t, "run", "--config", p.cfg, "--baseline", "latest", "--prompt", p.candidate(t, "worse", 20, ""), "facts"); code != exitUsage ||
		!strings.Contains(errOut, "no completed production run") {
		t.Errorf("--baseline latest after a side-by-side only = exit %d (%s), want %d", code, errOut, exitUsage)
	}
}

// junitDoc is the JUnit schema, decoded independently of the writer.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     *float64 `xml:"time,attr"`
	Suites   []struct {
		Name     string   `xml:"name,attr"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Time     *float64 `xml:"time,attr"`
		Cases    []struct {
			ClassName string   `xml:"classname,attr"`
			Name      string   `xml:"name,attr"`
			Time      *float64 `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestRunJUnit: the JUnit report parses back: one testcase per case plus
// the thresholds and the gate, failures with the assertion messages, and
// counts that add up.
func TestRunJUnit(t *testing.T) {
	base, _ := countingSim(t)
	p := newGateProj(t, base, gateOpts{prodFacts: 30})
	if code, _, errOut := evald(t, "run", "--config", p.cfg, "facts"); code != exitOK {
		t.Fatalf("production run = exit %d: %s", code, errOut)
	}
	code, out, errOut := evald(t, "run", "--config", p.cfg, "--format", "junit", "--prompt", p.candidate(t, "worse", 20, ""), "facts")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d: %s", code, exitFailed, errOut)
	}
	if !strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("junit starts %q, want the XML declaration", out[:min(len(out), 40)])
	}
	var doc junitDoc
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("junit does not parse: %v\n%s", err, out)
	}
	if len(doc.Suites) != 1 || doc.Time == nil {
		t.Fatalf("junit = %d testsuites, time %v; want 1 and a time", len(doc.Suites), doc.Time)
	}
	s := doc.Suites[0]
	if s.Name != "facts on prod" || s.Tests != gateCases+2 || s.Tests != len(s.Cases) || s.Failures != 10+1 || s.Errors != 0 || s.Skipped != 0 || s.Time == nil {
		t.Errorf("testsuite %q: tests %d (%d testcases), failures %d, errors %d, skipped %d; want %d tests, 11 failures",
			s.Name, s.Tests, len(s.Cases), s.Failures, s.Errors, s.Skipped, gateCases+2)
	}
	if doc.Tests != s.Tests || doc.Failures != s.Failures || doc.Errors != s.Errors || doc.Skipped != s.Skipped {
		t.Errorf("testsuites totals %d/%d/%d/%d do not add up", doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
	failures := map[string]string{}
	for _, c := range s.Cases {
		if c.ClassName == "" || c.Name == "" || c.Time == nil {
			t.Errorf("testcase %+v lacks classname, name or time", c)
		}
		if c.Failure != nil {
			if c.Failure.Message == "" || c.Failure.Type == "" {
				t.Errorf("failure of %s has no message or type", c.Name)
			}
			failures[c.Name] = c.Failure.Type + ": " + c.Failure.Message
		}
	}
	if got := failures["q25"]; got != `assertion: 1 of 1 samples failed: expected output to contain (ignoring case) "number25" (got "I don't know the answer to that.")` {
		t.Errorf("failure of q25 = %q", got)
	}
	if got := failures["no regression against the latest production run (run 1)"]; !strings.HasPrefix(got, "regression: pass rate fell") {
		t.Errorf("gate testcase failure = %q; failures %v", got, failures)
	}
}

// TestRunDryRun: --dry-run sends nothing and stores nothing, and its
// estimate is the simulator's token count within 10 %.
func TestRunDryRun(t *testing.T) {
	base, h := countingSim(t)
	p := newGateProj(t, base, gateOpts{prodFacts: 30, maxTokens: 16})
	cand := p.candidate(t, "c", 30, "")
	args := []string{"run", "--config", p.cfg, "--prompt", cand, "--baseline", "none", "--format", "json", "facts"}
	code, out, errOut := evald(t, append([]string{"run", "--dry-run"}, args[1:]...)...)
	if code != exitOK {
		t.Fatalf("dry run = exit %d: %s", code, errOut)
	}
	var est dryRunJSON
	if err := json.Unmarshal([]byte(out), &est); err != nil || !est.DryRun {
		t.Fatalf("dry run JSON %q: %v", out, err)
	}
	if h.Requests() != 0 {
		t.Fatalf("dry run sent %d requests", h.Requests())
	}
	if code, out, _ := evald(t, "history", "--config", p.cfg, "--json"); code != exitOK || out != "" {
		t.Fatalf("history after a dry run = exit %d, %q; want nothing stored", code, out)
	}
	if est.Requests != gateCases || est.CompletionSource != daemon.FromMaxTokens {
		t.Errorf("estimate = %d requests, completion from %s; want %d from max_tokens", est.Requests, est.CompletionSource, gateCases)
	}

	code, out, errOut = evald(t, args...)
	if code != exitOK {
		t.Fatalf("run = exit %d: %s", code, errOut)
	}
	j := decodeRun(t, out)
	if got, want := h.Requests(), int64(est.Requests); got != want {
		t.Errorf("the run sent %d requests, the dry run announced %d", got, want)
	}
	real, guess := j.Tokens.Prompt+j.Tokens.Completion, est.PromptTokens+est.CompletionTokens
	if math.Abs(float64(guess-real))/float64(real) > 0.10 {
		t.Errorf("dry run estimated %d tokens, the run used %d: more than 10%% off", guess, real)
	}
	if math.Abs(est.CostUSD-j.CostUSD)/j.CostUSD > 0.10 {
		t.Errorf("dry run estimated $%.6f, the run cost $%.6f", est.CostUSD, j.CostUSD)
	}

	// Text: the requests, per case, and the total.
	code, out, _ = evald(t, append([]string{"run", "--dry-run"}, args[1:len(args)-3]...)...)
	if code != exitOK || !strings.Contains(out, "requests       30 (30 cases × 1 repeat)") || !strings.Contains(out, "q29") || !strings.Contains(out, "total: 30 requests") {
		t.Errorf("dry run text (exit %d):\n%s", code, out)
	}
}

// TestRunDryRunBaselineField pins what cli.md says of the dry run's
// baseline: a candidate's says how it was chosen, a production run,
// which has none, leaves it out.
func TestRunDryRunBaselineField(t *testing.T) {
	base, _ := countingSim(t)
	p := newGateProj(t, base, gateOpts{prodFacts: 30})
	for _, tc := range []struct {
		args []string
		want string // "" for no baseline field
	}{
		{nil, ""},
		{[]string{"--baseline", "none"}, "none"},
		{[]string{"--model", "sim-2"}, daemon.BaselineSideBySide},
	} {
		args := append(append([]string{"run", "--config", p.cfg, "--dry-run", "--format", "json"}, tc.args...), "facts")
		code, out, errOut := evald(t, args...)
		if code != exitOK {
			t.Fatalf("%v = exit %d: %s", args, code, errOut)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v printed %q: %v", args, out, err)
		}
		if b, ok := got["baseline"]; ok != (tc.want != "") || ok && b != tc.want {
			t.Errorf("%v: baseline %v (present %v), want %q", tc.args, b, ok, tc.want)
		}
	}
}

// TestRunBudget: --budget-usd refuses a run whose estimate exceeds it
// (nothing sent), and stops a run whose actual spend reaches it (exit 4,
// the run stored interrupted).
func TestRunBudget(t *testing.T) {
	base, h := countingSim(t)
	// Answers cost a lot: the estimate comes from the production answers,
	// and the candidate's answers are far longer.
	p := newGateProj(t, base, gateOpts{prodFacts: 30, concurrency: 1, price: "{input_per_mtok: 0.01, output_per_mtok: 100}"})
	if code, _, errOut := evald(t, "run", "--config", p.cfg, "facts"); code != exitOK {
		t.Fatalf("production run = exit %d: %s", code, errOut)
	}
	before := h.Requests()
	long := p.candidate(t, "long", 30, strings.Repeat(", and that is all there is to say about it", 10))

	code, out, errOut := evald(t, "run", "--config", p.cfg, "--prompt", long, "--budget-usd", "0.001", "facts")
	if code != exitNoResult || !strings.Contains(errOut, "exceeds --budget-usd 0.001: nothing was sent") {
		t.Errorf("over-budget estimate = exit %d, stderr %q, stdout %q; want %d and a clear message", code, errOut, out, exitNoResult)
	}
	if got := h.Requests(); got != before {
		t.Errorf("%d requests sent despite the estimate", got-before)
	}

	code, out, errOut = evald(t, "run", "--config", p.cfg, "--prompt", long, "--budget-usd", "0.05", "--format", "json", "facts")
	if code != exitNoResult || !strings.Contains(errOut, "budget reached: spent $") || !strings.Contains(errOut, "stored interrupted") {
		t.Fatalf("over-budget run = exit %d, stderr %q; want %d and a clear message", code, errOut, exitNoResult)
	}
	j := decodeRun(t, out)
	sent := h.Requests() - before
	if j.Status != store.StatusInterrupted || sent >= gateCases || sent == 0 {
		t.Errorf("run %s after %d of %d requests; want interrupted part-way", j.Status, sent, gateCases)
	}
	if j.CostUSD < 0.05 || j.CostUSD > 0.05+0.02 {
		t.Errorf("spent $%.4f for a budget of $0.05, want it stopped at the first answer past the budget", j.CostUSD)
	}
}

// TestRunCache: a CI re-run with --cache sends nothing; an expired entry
// is asked again; production measurements refuse the cache.
func TestRunCache(t *testing.T) {
	base, h := countingSim(t)
	p := newGateProj(t, base, gateOpts{prodFacts: 30})
	dir := filepath.Join(t.TempDir(), "cache")
	args := []string{"run", "--config", p.cfg, "--prompt", p.candidate(t, "c", 25, ""), "--baseline", "none", "--cache", dir, "--format", "json", "facts"}
	code, out, errOut := evald(t, args...)
	if code != exitOK {
		t.Fatalf("first run = exit %d: %s", code, errOut)
	}
	first := decodeRun(t, out)
	if first.CacheHits == nil || *first.CacheHits != 0 || h.Requests() != gateCases {
		t.Fatalf("first run: %v cache hits, %d requests; want 0 and %d", first.CacheHits, h.Requests(), gateCases)
	}
	code, out, errOut = evald(t, args...)
	if code != exitOK {
		t.Fatalf("second run = exit %d: %s", code, errOut)
	}
	second := decodeRun(t, out)
	if got := h.Requests(); got != gateCases {
		t.Errorf("the re-run sent %d requests, want none", got-gateCases)
	}
	if second.CacheHits == nil || *second.CacheHits != gateCases || *second.PassRate != *first.PassRate || second.RunID == first.RunID {
		t.Errorf("second run: %v hits, pass rate %v (first %v); want %d hits and the same answers in a run of its own",
			second.CacheHits, *second.PassRate, *first.PassRate, gateCases)
	}
	// A re-run answered fully from the cache is free (docs/ci.md): it
	// costs 0 and passes any budget, its estimate included.
	if second.CostUSD != 0 || first.CostUSD == 0 {
		t.Errorf("cost: first run $%g, cached re-run $%g; want the re-run free", first.CostUSD, second.CostUSD)
	}
	budget := append(slices.Clone(args[:len(args)-1]), "--budget-usd", "0.0001", "facts")
	if code, out, errOut := evald(t, budget...); code != exitOK || decodeRun(t, out).CostUSD != 0 {
		t.Errorf("cached re-run with --budget-usd 0.0001 = exit %d (%s); want 0 and cost 0", code, errOut)
	}
	dry := append(slices.Clone(args[:len(args)-3]), "--dry-run", "--budget-usd", "0.0001", "facts")
	if code, out, errOut := evald(t, dry...); code != exitOK || !strings.Contains(out, fmt.Sprintf("%d answered from the response cache, free", gateCases)) {
		t.Errorf("cached dry run = exit %d, %q %q; want 0 and every request answered from the cache", code, out, errOut)
	}
	if code, _, _ := evald(t, append(args[:len(args)-1], "--cache-ttl", "1ns", "facts")...); code != exitOK || h.Requests() != 2*gateCases {
		t.Errorf("expired cache: exit %d, %d requests; want every request sent again", code, h.Requests()-gateCases)
	}
	if code, _, errOut := evald(t, "run", "--config", p.cfg, "--cache", dir, "facts"); code != exitUsage || !strings.Contains(errOut, "hide drift") {
		t.Errorf("--cache on a production run = exit %d (%s), want %d", code, errOut, exitUsage)
	}
}

// TestRunRemoteBaseline: the baseline comes from a real evald server on a
// loopback port, with the bearer token from --token-env.
func TestRunRemoteBaseline(t *testing.T) {
	base, _ := countingSim(t)
	p := newGateProj(t, base, gateOpts{prodFacts: 30})
	prodDB := filepath.Join(t.TempDir(), "prod.db")
	code, out, errOut := evald(t, "run", "--config", p.cfg, "--db", prodDB, "--format", "json", "facts")
	if code != exitOK {
		t.Fatalf("production run = exit %d: %s", code, errOut)
	}
	prod := decodeRun(t, out)

	// evald serve's HTTP server over the production database.
	ctx := context.Background()
	srv, st := serveProduction(t, p.cfg, prodDB, nil)
	// In front of it, a proxy that insists on the token, as a deployment
	// behind an authenticating proxy would.
	target, err := url.Parse("http://" + srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var auths []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, `{"error":"a valid bearer token is required"}`, http.StatusUnauthorized)
			return
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)

	t.Setenv("EVALD_TEST_TOKEN", "s3cret")
	args := []string{"run", "--config", p.cfg, "--db", filepath.Join(t.TempDir(), "ci.db"), "--server", proxy.URL, "--token-env", "EVALD_TEST_TOKEN",
		"--format", "json", "--prompt", p.candidate(t, "worse", 20, ""), "facts"}
	code, out, errOut = evald(t, args...)
	if code != exitFailed {
		t.Fatalf("remote-baseline run = exit %d, want %d: %s %s", code, exitFailed, out, errOut)
	}
	j := decodeRun(t, out)
	if j.Gate == nil || j.Gate.Baseline.RunID != prod.RunID || j.Gate.Baseline.Source != proxy.URL || j.Gate.Decision != daemon.DecisionRegressed ||
		j.Gate.PassRate.N != gateCases {
		t.Errorf("gate = %+v, want regressed against run %d from %s over %d cases", j.Gate, prod.RunID, proxy.URL, gateCases)
	}
	mu.Lock()
	for _, a := range auths {
		if a != "Bearer s3cret" {
			t.Errorf("request sent Authorization %q, want the token", a)
		}
	}
	n := len(auths)
	mu.Unlock()
	if n != 3 {
		t.Errorf("%d API requests, want 3 (the sign-off in force, the run list, then the run)", n)
	}
	// The candidate went to the CI database, not to production's.
	runs, err := st.Runs(ctx, store.RunFilter{Suite: "facts"})
	if err != nil || len(runs) != 1 {
		t.Errorf("production database holds %d runs (%v), want its own one", len(runs), err)
	}

	// A wrong token is a usage error that names the server's answer.
	t.Setenv("EVALD_TEST_TOKEN", "wrong")
	if code, _, errOut := evald(t, args...); code != exitUsage || !strings.Contains(errOut, "401") {
		t.Errorf("wrong token = exit %d (%s), want %d naming the 401", code, errOut, exitUsage)
	}
	// A server that is down is exit 4.
	proxy.Close()
	t.Setenv("EVALD_TEST_TOKEN", "s3cret")
	if code, _, errOut := evald(t, args...); code != exitNoResult || !strings.Contains(errOut, "--server") {
		t.Errorf("server down = exit %d (%s), want %d", code, errOut, exitNoResult)
	}
}

// TestRunGateUsage: flag combinations that mean nothing are exit 2.
func TestRunGateUsage(t *testing.T) {
	p := newGateProj(t, "http://127.0.0.1:1/v1", gateOpts{prodFacts: 3})
	cand := p.candidate(t, "c", 3, "")
	bad := p.write(t, "candidates/bad.yaml", "- role: system\n  content: \"{{nosuchvar}}\"\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--baseline", "yesterday"}, "--baseline must be"},
		{[]string{"--baseline", "side-by-side"}, "needs --prompt or --model"},
		{[]string{"--server", "http://127.0.0.1:1"}, "--server supplies the baseline of a candidate"},
		{[]string{"--prompt", cand, "--server", "ftp://x"}, "--server must be an http(s) URL"},
		{[]string{"--prompt", cand, "--budget-usd", "-1"}, "--budget-usd must be positive"},
		{[]string{"--prompt", filepath.Join(p.dir, "missing.yaml")}, "--prompt:"},
		{[]string{"--prompt", bad, "--baseline", "none"}, "nosuchvar"},
		{[]string{"--prompt", cand, "--baseline", "42"}, "run 42 is not in the store"},
		{[]string{"--format", "xml"}, "--format must be one of"},
	} {
		args := append([]string{"run", "--config", p.cfg}, tc.args...)
		args = append(args, "facts")
		if code, _, errOut := evald(t, args...); code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("evald %v = exit %d, stderr %q; want %d with %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
}

// serveProduction starts evald serve's HTTP server over the database db
// with the project's config and API tokens (token to name), as production
// runs it, and returns it with its store; both are closed at cleanup.
func serveProduction(t *testing.T, cfg, db string, tokens map[string]string) (*server.Server, *store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	proj, err := configs.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(daemon.Options{Project: proj, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Addr: "127.0.0.1:0", Daemon: d, Store: st, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Stop(context.Background()) })
	return srv, st
}
