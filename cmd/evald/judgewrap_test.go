package main

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/sim"
)

// TestRunJudgeThroughWrappers: with --budget-usd and --cache, the judge's
// chat and embeddings requests pass through the wrappers, so a suite with
// llm-rubric and similar is graded, not left with missing grades.
func TestRunJudgeThroughWrappers(t *testing.T) {
	h := sim.New(sim.Options{WrongRate: -1})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	dir := t.TempDir()
	write := func(name, body string) string { return testfiles.Write(t, dir, name, body) }
	cfg := write("evald.yaml", `storage:
  sqlite: evald.db
targets:
  - name: prod
    base_url: `+srv.URL+`/v1
    model: sim-1
    price: {input_per_mtok: 1, output_per_mtok: 2}
  - name: grader
    base_url: `+srv.URL+`/v1
    model: sim-judge
    price: {input_per_mtok: 1, output_per_mtok: 2}
judge: grader
suites:
  - file: suites/refunds.yaml
    targets: [prod]
`)
	write("prompts/prod.yaml", testfiles.RefundPrompt)
	cand := write("prompts/cand.yaml", testfiles.RefundPrompt)
	write("suites/refunds.yaml", `name: refunds
prompt: file://../prompts/prod.yaml
tests:
  - id: window
    vars: {question: "What is the refund window to return an item?"}
    assert:
      - type: llm-rubric
        value: mentions the days to return
      - type: similar
        value: you have 30 days to return an item
        threshold: 0.5
`)
	signtest.File(t, cfg)
	code, out, errOut := evald(t, "run", "--config", cfg, "--prompt", cand, "--baseline", "none",
		"--budget-usd", "10", "--cache", filepath.Join(dir, "cache"), "--format", "json", "refunds")
	if code != exitOK {
		t.Fatalf("run = exit %d: %s\n%s", code, errOut, out)
	}
	j := decodeRun(t, out)
	if j.Errors != 0 || j.PassRate == nil || *j.PassRate != 1 {
		t.Errorf("run: %d errors, pass rate %v; want the judge to grade it (0 errors, pass rate 1)", j.Errors, j.PassRate)
	}
}
