package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/sim"
)

// judgeProject writes a config whose suite is graded by llm-rubric, with
// the simulator answering (target prod) and judging (target grader, priced
// far above prod), and returns the config path.
func judgeProject(t *testing.T, baseURL string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) { testfiles.Write(t, dir, name, body) }
	targets := testfiles.JudgeTargets{ProdURL: baseURL, GraderURL: baseURL, Prod: "retries: 1\ntimeout: 5s", Grader: "retries: 1\ntimeout: 5s"}
	write("evald.yaml", "storage:\n  sqlite: evald.db\n"+targets.YAML()+`suites:
  - file: suites/refunds.yaml
    targets: [prod]
`)
	write("suites/refunds.yaml", `name: refunds
prompt:
`+testfiles.RefundPrompt+`tests:
  - id: window
    vars: {question: "What is the refund window to return an item?"}
    assert:
      - type: llm-rubric
        value: mentions the days to return
  - id: again
    vars: {question: "How long is the window to return an item?"}
    assert:
      - type: llm-rubric
        value: mentions the days to return
thresholds:
  pass_rate: 0.5
`)
	return signtest.File(t, filepath.Join(dir, "evald.yaml"))
}

// TestRunJSONJudge: `evald run --format json` and `evald history --json`
// show the judge next to the provider: its target, the models and
// fingerprints it returned, its tokens and cost.
func TestRunJSONJudge(t *testing.T) {
	cfg := judgeProject(t, simServer(t, sim.Options{WrongRate: -1}))
	code, out, errOut := evald(t, "run", "--config", cfg, "--format", "json", "refunds")
	if code != exitOK {
		t.Fatalf("run = exit %d, stderr %q, stdout %q", code, errOut, out)
	}
	type judge struct {
		Target       string         `json:"target"`
		Models       map[string]int `json:"models"`
		Fingerprints map[string]int `json:"fingerprints"`
		Tokens       tokensJSON     `json:"tokens"`
		CostUSD      float64        `json:"cost_usd"`
	}
	var run struct {
		CostUSD float64 `json:"cost_usd"`
		Judge   *judge  `json:"judge"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatalf("run JSON %q: %v", out, err)
	}
	check := func(what string, j *judge, cost float64) {
		t.Helper()
		if j == nil || j.Target != "grader" || j.Models["sim-1"] != 2 || len(j.Fingerprints) == 0 || j.Tokens.Prompt == 0 || j.CostUSD <= cost {
			t.Errorf("%s judge = %+v, want grader with 2 graded samples from sim-1, fingerprints, tokens and a cost above the run's %v", what, j, cost)
		}
	}
	check("run", run.Judge, run.CostUSD)

	code, out, errOut = evald(t, "history", "--config", cfg, "--json")
	if code != exitOK {
		t.Fatalf("history = exit %d: %s", code, errOut)
	}
	var hist struct {
		CostUSD float64 `json:"cost_usd"`
		Judge   *judge  `json:"judge"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &hist); err != nil {
		t.Fatalf("history JSON %q: %v", out, err)
	}
	check("history", hist.Judge, hist.CostUSD)
}

// TestDryRunJudge: the dry run prints the judge's requests, tokens and
// cost on a line of their own and counts them in the total; its JSON
// carries them under "judge". Nothing is sent.
func TestDryRunJudge(t *testing.T) {
	base, h := countingSim(t)
	cfg := judgeProject(t, base)
	code, out, errOut := evald(t, "run", "--config", cfg, "--dry-run", "refunds")
	if code != exitOK {
		t.Fatalf("dry run = exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "  judge          grader: 2 requests, ~") || !strings.Contains(out, "total: 2 requests + 2 judge requests, ~$") {
		t.Errorf("dry run text lacks the judge line or the judge in the total:\n%s", out)
	}
	code, out, errOut = evald(t, "run", "--config", cfg, "--dry-run", "--format", "json", "refunds")
	if code != exitOK {
		t.Fatalf("dry run json = exit %d: %s", code, errOut)
	}
	var e struct {
		CostUSD float64 `json:"cost_usd"`
		Judge   *struct {
			Target       string  `json:"target"`
			Requests     int     `json:"requests"`
			PromptTokens int64   `json:"prompt_tokens"`
			CostUSD      float64 `json:"cost_usd"`
		} `json:"judge"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("dry run JSON %q: %v", out, err)
	}
	if j := e.Judge; j == nil || j.Target != "grader" || j.Requests != 2 || j.PromptTokens == 0 || j.CostUSD <= e.CostUSD {
		t.Errorf("dry run judge = %+v, want grader, 2 requests, tokens, and a cost above the run's %v", j, e.CostUSD)
	}
	if h.Requests() != 0 {
		t.Errorf("dry run sent %d requests", h.Requests())
	}
}

// TestRunBudgetJudge: --budget-usd counts the judge: an estimate the tested
// model alone fits in is refused once grading is added, and a run with a
// judge under a sufficient budget runs (its judge can still grade).
func TestRunBudgetJudge(t *testing.T) {
	base, h := countingSim(t)
	cfg := judgeProject(t, base)
	code, out, errOut := evald(t, "run", "--config", cfg, "--dry-run", "--format", "json", "refunds")
	if code != exitOK {
		t.Fatalf("dry run = exit %d: %s", code, errOut)
	}
	var e struct {
		CostUSD float64 `json:"cost_usd"`
		Judge   struct {
			CostUSD float64 `json:"cost_usd"`
		} `json:"judge"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	between := e.CostUSD + e.Judge.CostUSD/2
	code, _, errOut = evald(t, "run", "--config", cfg, "--budget-usd", jsNum(between), "refunds")
	if code != exitNoResult || !strings.Contains(errOut, "exceeds --budget-usd") || h.Requests() != 0 {
		t.Errorf("run with a budget above the model's estimate and below the judge's = exit %d, %d requests, stderr %q; want refused, nothing sent", code, h.Requests(), errOut)
	}
	code, out, errOut = evald(t, "run", "--config", cfg, "--budget-usd", "10", "--format", "json", "refunds")
	if code != exitOK {
		t.Fatalf("run within budget = exit %d, stderr %q, stdout %q", code, errOut, out)
	}
	var run struct {
		Errors int `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil || run.Errors != 0 {
		t.Errorf("run within budget: %d errors (%v), want the judge to grade every sample: %s", run.Errors, err, out)
	}
}

func jsNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// fakeJudge answers every chat and embedding request with fixed usage.
type fakeJudge struct{}

func (fakeJudge) Complete(context.Context, []evals.Message) (runner.Response, error) {
	return runner.Response{Text: "ok", PromptTokens: 1000, CompletionTokens: 100}, nil
}

func (fakeJudge) Embed(_ context.Context, texts []string) ([][]float64, runner.Response, error) {
	return make([][]float64, len(texts)), runner.Response{PromptTokens: 500}, nil
}

// TestSpendMeterJudge: a judge's provider stays one when metered, and both
// its chats and its embeddings spend the budget at the judge's price.
func TestSpendMeterJudge(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	m := &spendMeter{budget: 1, cancel: cancel}
	p := m.wrap(fakeJudge{}, configs.Price{InputPerMTok: 100, OutputPerMTok: 1000})
	jp, ok := p.(runner.JudgeProvider)
	if !ok {
		t.Fatalf("metered judge provider is a %T, not a runner.JudgeProvider", p)
	}
	if _, err := jp.Complete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := jp.Embed(ctx, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	// 1000×100/1e6 + 100×1000/1e6 for the chat, 500×100/1e6 for the embedding.
	if got, want := m.total(), 0.1+0.1+0.05; got < want-1e-12 || got > want+1e-12 {
		t.Errorf("spent $%v, want $%v", got, want)
	}
	c := (&responseCache{}).wrap(p, "v")
	if _, ok := c.(runner.JudgeProvider); !ok {
		t.Errorf("cached judge provider is a %T, not a runner.JudgeProvider", c)
	}
}

// TestDryRunJudgeEmbeddings: the judge line says how many of its requests
// are embeddings and their tokens, and the JSON carries both fields.
func TestDryRunJudgeEmbeddings(t *testing.T) {
	e := daemon.Estimate{Suite: "s", Target: "prod", Cases: 1, Repeats: 2, Requests: 2,
		Judge: &daemon.JudgeEstimate{Target: "grader", Requests: 4, PromptTokens: 300, CompletionTokens: 200,
			CompletionPerRequest: 100, EmbeddingRequests: 2, EmbeddingTokens: 120, CostUSD: 0.01}}
	plans := []jobPlan{{estimate: e}}
	var text strings.Builder
	if err := writeDryRun(&text, "text", plans, e.TotalUSD(), 0); err != nil {
		t.Fatal(err)
	}
	if want := "  judge          grader: 4 requests (2 embeddings, ~120 of the prompt tokens), ~300 prompt tokens, ~200 answer tokens"; !strings.Contains(text.String(), want) {
		t.Errorf("dry run text lacks %q:\n%s", want, text.String())
	}
	var js strings.Builder
	if err := writeDryRun(&js, "json", plans, e.TotalUSD(), 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"embedding_requests":2,"embedding_tokens":120`) {
		t.Errorf("dry run JSON lacks the embedding fields: %s", js.String())
	}
}
