package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/sim"
	"github.com/evald/evald/store"
)

// gateCases is the size of the gate tests' suite: big enough for a
// quarter of the cases flipping to be significant, small enough to be fast.
const gateCases = 40

// factsPrompt is a prompt file (a list of messages) whose system message
// holds the facts of the questions in facts, so the simulator answers
// exactly those right.
func factsPrompt(preamble string, facts []int) string {
	var b strings.Builder
	b.WriteString("- role: system\n  content: |\n    " + preamble + "\n")
	for _, i := range facts {
		fmt.Fprintf(&b, "    topic%d item%d => the answer is number%d\n", i, i, i)
	}
	b.WriteString("- role: user\n  content: \"Tell me about {{topic}}\"\n")
	return b.String()
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// gateProject writes an evald.yaml, a suite of gateCases questions with
// repeats 2 and a production prompt knowing the facts of prodFacts, and
// loads them. The target points at baseURL with the given concurrency.
func gateProject(t testing.TB, baseURL string, concurrency int, prodFacts []int) (*configs.Project, string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) { testfiles.Write(t, dir, name, body) }
	write("evald.yaml", fmt.Sprintf(`targets:
  - name: prod
    base_url: %s
    model: sim-1
    concurrency: %d
    retries: 1
    timeout: 10s
    price: {input_per_mtok: 1, output_per_mtok: 2}
suites:
  - file: suites/facts.yaml
    targets: [prod]
    schedule: "@hourly"
`, baseURL, concurrency))
	write("prompts/prod.yaml", factsPrompt("Answer from these facts.", prodFacts))
	var tests strings.Builder
	for i := range gateCases {
		fmt.Fprintf(&tests, "  - id: q%02d\n    vars: {topic: \"topic%d item%d\"}\n    assert:\n      - type: icontains\n        value: \"number%d\"\n", i, i, i, i)
	}
	write("suites/facts.yaml", `name: facts
prompt: file://../prompts/prod.yaml
repeats: 2
tests:
`+tests.String()+`thresholds:
  pass_rate: 0.4
`)
	proj, err := configs.Load(filepath.Join(dir, "evald.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return proj, dir
}

func gateDaemon(t testing.TB, proj *configs.Project) (*Daemon, *store.Store) {
	t.Helper()
	st := testStore(t)
	return testDaemon(t, Options{Project: proj, Store: st}), st
}

// testStore opens a store in a fresh temporary folder; it is closed when
// the test ends.
func testStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// testDaemon builds a Daemon from o with a registry of its own, so that
// daemons of one test do not collide on their metrics; a failure ends the
// test.
func testDaemon(t testing.TB, o Options) *Daemon {
	t.Helper()
	o.Registry = prometheus.NewRegistry()
	if o.Project != nil {
		signtest.Project(t, o.Project) // every suite run here has a sign-off
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func simURL(t testing.TB, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	h := sim.New(sim.Options{WrongRate: -1})
	var handler http.Handler = h
	if wrap != nil {
		handler = wrap(h)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return srv.URL + "/v1"
}

func loadPrompt(t testing.TB, body string) []evals.Message {
	t.Helper()
	p := filepath.Join(t.TempDir(), "candidate.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	msgs, err := evals.LoadPrompt(p)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestGateCandidates: against the latest production run, a candidate
// prompt knowing more facts is improved, one knowing the same facts is
// unchanged and one knowing fewer is regressed (exit 1). None of them
// touches the drift state or becomes the next baseline.
func TestGateCandidates(t *testing.T) {
	ctx := context.Background()
	proj, _ := gateProject(t, simURL(t, nil), 8, seq(0, 30))
	d, st := gateDaemon(t, proj)
	prod, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *prod.Run.PassRate, 0.75; math.Abs(got-want) > 1e-9 {
		t.Fatalf("production pass rate = %v, want %v", got, want)
	}
	_, stateRun, err := st.LoadDriftState(ctx, "facts", "prod")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name      string
		facts     []int
		preamble  string
		decision  string
		status    store.Status
		delta     float64
		regressed []string // the first regressed cases listed
		nRegr     int
		improved  int
	}{
		{"better", seq(0, 40), "Answer from these facts.", DecisionImproved, store.StatusPassed, 0.25, nil, 0, 10},
		{"same", seq(0, 30), "Answer only from the facts below.", DecisionUnchanged, store.StatusPassed, 0, nil, 0, 0},
		{"worse", seq(0, 20), "Answer from these facts.", DecisionRegressed, store.StatusRegressed, -0.25, []string{"q20", "q21"}, 10, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, err := d.LatestBaseline(ctx, "facts", "prod")
			if err != nil {
				t.Fatal(err)
			}
			if base.Run.ID != prod.Run.ID {
				t.Fatalf("LatestBaseline = run %d, want the production run %d (candidates are never baselines)", base.Run.ID, prod.Run.ID)
			}
			res, err := d.Gate(ctx, GateRequest{Suite: "facts", Target: "prod", Prompt: loadPrompt(t, factsPrompt(tc.preamble, tc.facts)), Baseline: base})
			if err != nil {
				t.Fatal(err)
			}
			c := res.Candidate
			v := c.Gate
			if v == nil {
				t.Fatal("Gate returned no verdict")
			}
			if v.Decision != tc.decision || c.Run.Status != tc.status {
				t.Errorf("decision, status = %s, %s, want %s, %s (%s)", v.Decision, c.Run.Status, tc.decision, tc.status, v.Message)
			}
			if math.Abs(v.PassRate.Delta-tc.delta) > 1e-9 || v.PassRate.N != gateCases || v.Baseline.RunID != prod.Run.ID {
				t.Errorf("pass-rate comparison = %+v, want delta %v over %d cases against run %d", v.PassRate, tc.delta, gateCases, prod.Run.ID)
			}
			if tc.decision != DecisionUnchanged && v.PassRate.PTwoSided >= GateAlpha {
				t.Errorf("p = %v, want < %v", v.PassRate.PTwoSided, GateAlpha)
			}
			if v.NImprovedCases != tc.improved || v.NRegressedCases != tc.nRegr {
				t.Errorf("improved %d, regressed %d cases; want %d and %d", v.NImprovedCases, v.NRegressedCases, tc.improved, tc.nRegr)
			}
			for i, id := range tc.regressed {
				got := v.RegressedCases[i]
				if got.ID != id || got.CandidatePassed != 0 || got.BaselinePassed != 2 || !strings.Contains(got.BaselineOutput, "number") ||
					got.CandidateOutput == "" || len(got.Reasons) == 0 {
					t.Errorf("regressed case %d = %+v, want %s with both excerpts and the failing assertion", i, got, id)
				}
			}
			if c.Run.SuiteVersion == prod.Run.SuiteVersion || c.Run.PromptVersion == prod.Run.PromptVersion {
				t.Errorf("candidate versions = %s/%s, want their own (production %s/%s)", c.Run.SuiteVersion, c.Run.PromptVersion, prod.Run.SuiteVersion, prod.Run.PromptVersion)
			}
			stored, err := st.Run(ctx, c.Run.ID)
			if err != nil {
				t.Fatal(err)
			}
			var det Detail
			if err := json.Unmarshal([]byte(stored.Detail), &det); err != nil {
				t.Fatal(err)
			}
			if stored.Trigger != TriggerCI || !det.Candidate || det.Gate == nil || det.Gate.Decision != tc.decision || stored.Status != tc.status || stored.Verdict != "" {
				t.Errorf("stored candidate = trigger %s, status %s, verdict %q, detail %s; want ci, marked candidate, with its gate verdict and no drift verdict",
					stored.Trigger, stored.Status, stored.Verdict, stored.Detail)
			}
			if _, last, err := st.LoadDriftState(ctx, "facts", "prod"); err != nil || last != stateRun {
				t.Errorf("drift state last run = %d, %v; want %d (candidates never touch it)", last, err, stateRun)
			}
		})
	}
}

// TestGateNoBaseline: --baseline none applies the thresholds only.
func TestGateNoBaseline(t *testing.T) {
	ctx := context.Background()
	proj, _ := gateProject(t, simURL(t, nil), 8, seq(0, 30))
	d, _ := gateDaemon(t, proj)
	res, err := d.Gate(ctx, GateRequest{Suite: "facts", Target: "prod", Prompt: loadPrompt(t, factsPrompt("Facts.", seq(0, 10)))})
	if err != nil {
		t.Fatal(err)
	}
	if res.Candidate.Gate != nil || res.Candidate.Run.Status != store.StatusFailed || len(res.Candidate.ThresholdFailures) != 1 {
		t.Errorf("candidate = %s, gate %v, threshold failures %v; want failed on pass_rate and no comparison",
			res.Candidate.Run.Status, res.Candidate.Gate, res.Candidate.ThresholdFailures)
	}
	if _, err := d.LatestBaseline(ctx, "facts", "prod"); !errors.Is(err, ErrNoBaseline) {
		t.Errorf("LatestBaseline after a candidate only = %v, want ErrNoBaseline", err)
	}
}

// chatLog records, in arrival order, which prompt variant and question
// each chat request carried, and the model it asked for.
type chatLog struct {
	mu   sync.Mutex
	reqs []chatSeen
}

type chatSeen struct{ system, question, model string }

func (l *chatLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Model    string `json:"model"`
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
		}
		if json.Unmarshal(body, &req) == nil && len(req.Messages) == 2 {
			l.mu.Lock()
			l.reqs = append(l.reqs, chatSeen{system: strings.SplitN(req.Messages[0].Content, "\n", 2)[0], question: req.Messages[1].Content, model: req.Model})
			l.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// TestGateSideBySide: with no baseline, production and the candidate run
// now, interleaved case by case with the first arm alternating, and are
// compared; production's arm is stored but is neither fed to the drift
// detector nor a later baseline.
func TestGateSideBySide(t *testing.T) {
	ctx := context.Background()
	var log chatLog
	proj, _ := gateProject(t, simURL(t, log.wrap), 1, seq(0, 40))
	d, st := gateDaemon(t, proj)
	res, err := d.Gate(ctx, GateRequest{Suite: "facts", Target: "prod", SideBySide: true,
		Prompt: loadPrompt(t, factsPrompt("Candidate facts.", seq(0, 28)))})
	if err != nil {
		t.Fatal(err)
	}
	c, p := res.Candidate, res.Production
	if p == nil || c.Gate == nil {
		t.Fatalf("side-by-side result = %+v, want both arms and a verdict", res)
	}
	if c.Gate.Decision != DecisionRegressed || c.Run.Status != store.StatusRegressed || c.Gate.Baseline.RunID != p.Run.ID || c.Gate.Baseline.Mode != BaselineSideBySide {
		t.Errorf("candidate = %s, gate %s against run %d (%s); want regressed against production's arm %d",
			c.Run.Status, c.Gate.Decision, c.Gate.Baseline.RunID, c.Gate.Baseline.Mode, p.Run.ID)
	}
	if math.Abs(c.Gate.PassRate.Delta - -0.3) > 1e-9 || p.Run.Status != store.StatusPassed || c.Gate.Baseline.Status != store.StatusPassed {
		t.Errorf("delta %v, production %s (baseline status %s); want -0.3 and passed", c.Gate.PassRate.Delta, p.Run.Status, c.Gate.Baseline.Status)
	}

	// One request at a time: each case's two requests come back to back,
	// and the arm that goes first alternates.
	log.mu.Lock()
	reqs := log.reqs
	log.mu.Unlock()
	if got, want := len(reqs), 2*2*gateCases; got != want {
		t.Fatalf("endpoint saw %d requests, want %d", got, want)
	}
	var firsts []string
	for i := 0; i < len(reqs); i += 2 {
		a, b := reqs[i], reqs[i+1]
		if a.question != b.question || a.system == b.system {
			t.Fatalf("requests %d and %d = %+v, %+v; want one case from both arms", i, i+1, a, b)
		}
		firsts = append(firsts, a.system)
	}
	for i := 1; i < len(firsts); i++ {
		if firsts[i] == firsts[i-1] {
			t.Fatalf("pair %d starts with the same arm as pair %d (%q): the first arm must alternate", i, i-1, firsts[i])
		}
	}

	stored, err := st.Run(ctx, p.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Production() || stored.Trigger != TriggerCI || stored.Verdict != "" {
		t.Errorf("production arm stored as trigger %s, verdict %q, detail %s; want ci, no verdict, marked as the side-by-side baseline",
			stored.Trigger, stored.Verdict, stored.Detail)
	}
	if _, _, err := st.LoadDriftState(ctx, "facts", "prod"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("drift state after a side-by-side = %v, want none", err)
	}
	if _, err := d.LatestBaseline(ctx, "facts", "prod"); !errors.Is(err, ErrNoBaseline) {
		t.Errorf("LatestBaseline after a side-by-side = %v, want ErrNoBaseline", err)
	}
}

// TestGateModelOverride: --model sends the candidate model, which is a
// target version of its own; the production arm keeps the configured one.
func TestGateModelOverride(t *testing.T) {
	ctx := context.Background()
	var log chatLog
	proj, _ := gateProject(t, simURL(t, log.wrap), 4, seq(0, 40))
	d, _ := gateDaemon(t, proj)
	res, err := d.Gate(ctx, GateRequest{Suite: "facts", Target: "prod", Model: "sim-2", SideBySide: true})
	if err != nil {
		t.Fatal(err)
	}
	c, p := res.Candidate, res.Production
	if c.Run.TargetVersion == p.Run.TargetVersion || c.Run.SuiteVersion != p.Run.SuiteVersion {
		t.Errorf("target versions %s / %s, suite versions %s / %s; want different targets, same suite",
			c.Run.TargetVersion, p.Run.TargetVersion, c.Run.SuiteVersion, p.Run.SuiteVersion)
	}
	if c.Gate == nil || c.Gate.Decision != DecisionUnchanged || c.Run.Status != store.StatusPassed {
		t.Errorf("candidate = %s, %+v; want passed and unchanged", c.Run.Status, c.Gate)
	}
	models := map[string]int{}
	log.mu.Lock()
	for _, r := range log.reqs {
		models[r.model]++
	}
	log.mu.Unlock()
	if models["sim-1"] != 2*gateCases || models["sim-2"] != 2*gateCases {
		t.Errorf("models asked for = %v, want sim-1 and sim-2 %d times each", models, 2*gateCases)
	}
}

// TestGateRefused: an unsigned threshold change refuses the candidate as
// any CI run, and nothing is sent.
func TestGateRefused(t *testing.T) {
	ctx := context.Background()
	var log chatLog
	proj, dir := gateProject(t, simURL(t, log.wrap), 4, seq(0, 40))
	d, _ := gateDaemon(t, proj)
	if _, err := d.CheckThresholds(ctx, proj.Suites[0]); err != nil { // adopts the file's thresholds
		t.Fatal(err)
	}
	suite := filepath.Join(dir, "suites/facts.yaml")
	b, _ := os.ReadFile(suite)
	if err := os.WriteFile(suite, bytes.Replace(b, []byte("pass_rate: 0.4"), []byte("pass_rate: 0.1"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	proj2, err := configs.Load(proj.Config.File)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(ctx, proj2); err != nil {
		t.Fatal(err)
	}
	res, err := d.Gate(ctx, GateRequest{Suite: "facts", Target: "prod", SideBySide: true, Prompt: loadPrompt(t, factsPrompt("x", seq(0, 5)))})
	if err != nil {
		t.Fatal(err)
	}
	if res.Candidate.Run.Status != store.StatusRefused || res.Production.Run.Status != store.StatusRefused {
		t.Errorf("statuses = %s / %s, want refused", res.Candidate.Run.Status, res.Production.Run.Status)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.reqs) != 0 {
		t.Errorf("%d requests sent by a refused gate, want none", len(log.reqs))
	}
}

// TestEstimate: the dry-run estimate of prompt tokens is the simulator's
// count within 10 %, and once a run is stored its answer length is used.
func TestEstimate(t *testing.T) {
	ctx := context.Background()
	proj, _ := gateProject(t, simURL(t, nil), 8, seq(0, 40))
	d, _ := gateDaemon(t, proj)
	g := GateRequest{Suite: "facts", Target: "prod"}
	e, err := d.Estimate(ctx, g, false)
	if err != nil {
		t.Fatal(err)
	}
	if e.Requests != 2*gateCases || e.CompletionSource != FromDefault || e.CompletionPerRequest != DefaultCompletionTokens {
		t.Errorf("estimate = %d requests, completion %d from %s; want %d, %d from %s",
			e.Requests, e.CompletionPerRequest, e.CompletionSource, 2*gateCases, DefaultCompletionTokens, FromDefault)
	}
	res, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerCI})
	if err != nil {
		t.Fatal(err)
	}
	within := func(name string, est, got int64) {
		t.Helper()
		if got == 0 || math.Abs(float64(est-got))/float64(got) > 0.10 {
			t.Errorf("%s: estimated %d, the run counted %d: more than 10%% off", name, est, got)
		}
	}
	within("prompt tokens", e.PromptTokens, res.Summary.PromptTokens)
	e, err = d.Estimate(ctx, g, false)
	if err != nil {
		t.Fatal(err)
	}
	if e.CompletionSource != FromHistory || e.HistoryRunID != res.Run.ID {
		t.Errorf("completion estimate from %s (run %d), want history of run %d", e.CompletionSource, e.HistoryRunID, res.Run.ID)
	}
	within("total tokens", e.PromptTokens+e.CompletionTokens, res.Summary.PromptTokens+res.Summary.CompletionTokens)
	if got := e.CostUSD; math.Abs(got-res.Summary.CostUSD)/res.Summary.CostUSD > 0.10 {
		t.Errorf("estimated cost $%.6f, the run cost $%.6f", got, res.Summary.CostUSD)
	}

	// Side-by-side doubles the requests, one arm per prompt.
	g.SideBySide, g.Prompt = true, loadPrompt(t, factsPrompt("Short.", seq(0, 2)))
	e2, err := d.Estimate(ctx, g, true)
	if err != nil {
		t.Fatal(err)
	}
	if e2.Requests != 4*gateCases || e2.PromptTokens >= 2*e.PromptTokens || len(e2.PerCase) != 2*gateCases {
		t.Errorf("side-by-side estimate = %d requests, %d prompt tokens, %d case lines; want %d requests and fewer tokens than two production arms (%d)",
			e2.Requests, e2.PromptTokens, len(e2.PerCase), 4*gateCases, 2*e.PromptTokens)
	}
}
