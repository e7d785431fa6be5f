package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/sim"
)

// judgeProject writes a config whose suite is graded by llm-rubric, with
// the simulator answering (target prod) and judging (target grader, priced
// far above prod), and returns the config path.
func judgeProject(t *testing.T, baseURL string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("evald.yaml", `storage:
  sqlite: evald.db
targets:
  - name: prod
    base_url: `+baseURL+`
    model: sim-1
    retries: 1
    timeout: 5s
    price: {input_per_mtok: 1, output_per_mtok: 2}
  - name: grader
    base_url: `+baseURL+`
    model: sim-judge
    retries: 1
    timeout: 5s
    price: {input_per_mtok: 100, output_per_mtok: 200}
judge: grader
suites:
  - file: suites/refunds.yaml
    targets: [prod]
`)
	write("suites/refunds.yaml", `name: refunds
prompt:
  - role: system
    content: |
      Answer from these facts.
      refund window return item => you have 30 days to return an item
  - role: user
    content: "{{question}}"
tests:
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
	return filepath.Join(dir, "evald.yaml")
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
