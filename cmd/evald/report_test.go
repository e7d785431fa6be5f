package main

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func fp(f float64) *float64 { return &f }

// goldenReport is a regressed candidate whose answers hold everything
// markdown and XML must escape.
func goldenReport() *runReport {
	nasty := "Use `rm -rf /` | then *relax* <script>alert(1)</script> & ask @octocat [here](http://x.test)\nsecond line"
	suite := &evals.Suite{Name: "faq", Repeats: 2, Thresholds: evals.Thresholds{PassRate: fp(0.9), MeanScore: fp(0.5)},
		Cases: []evals.Case{{ID: "refund", Source: "suites/faq.yaml:9"}, {ID: "shipping", Source: "suites/faq.yaml:14"},
			{ID: "warranty", Source: "suites/faq.yaml:19"}, {ID: "timeout", Source: "datasets/more.csv:2"}}}
	v := &daemon.GateVerdict{
		Decision: daemon.DecisionRegressed,
		Message:  "pass rate fell from 1.000 to 0.333 (-0.667, 95% CI -1.101 to -0.232; two-sided p = 0.03125, cmh-exact-midp over 3 paired cases): significant at α = 0.05 and at least min_effect 0.05",
		Baseline: daemon.GateSide{RunID: 7, Mode: daemon.BaselineLatest, Source: "store", Trigger: "schedule", Status: "passed",
			SuiteVersion: strings.Repeat("a", 64), PromptVersion: strings.Repeat("b", 64), TargetVersion: strings.Repeat("c", 64),
			Cases: 3, PassRate: 1, PassRateCI: [2]float64{0.439, 1}, MeanScore: 1, MeanScoreCI: [2]float64{1, 1}},
		Candidate: daemon.GateSide{RunID: 12, Cases: 3, PassRate: 0.333, PassRateCI: [2]float64{0.061, 0.792}, MeanScore: 0.4, MeanScoreCI: [2]float64{0, 1}},
		PassRate: drift.Comparison{Test: drift.TestCMHExact, N: 3, Dropped: 1, Reference: 1, Current: 1.0 / 3, Delta: -2.0 / 3,
			CILow: -1.101, CIHigh: -0.232, PTwoSided: 0.03125},
		MeanScore: drift.Comparison{Test: drift.TestPairedT, N: 3, Reference: 1, Current: 0.4, Delta: -0.6, CILow: -1.3, CIHigh: 0.1, PTwoSided: 0.07},
		Alpha:     daemon.GateAlpha, MinEffect: 0.05,
		RegressedCases: []daemon.CaseChange{
			{ID: "shipping", BaselinePassed: 2, BaselineSamples: 2, CandidatePassed: 0, CandidateSamples: 2, Delta: -1,
				BaselineOutput: "Delivery takes 3 to 5 business days.", CandidateOutput: nasty, Reasons: []string{`expected output to contain "business days"`}},
			{ID: "warranty", BaselinePassed: 2, BaselineSamples: 2, CandidatePassed: 1, CandidateSamples: 2, Delta: -0.5,
				BaselineOutput: "Every product has a two-year warranty.", CandidateOutput: "I don't know.", Reasons: []string{`expected output to contain "two-year"`}},
		},
		ImprovedCases:   []daemon.CaseChange{},
		NRegressedCases: 2,
	}
	res := &daemon.Result{
		Run: store.Run{ID: 12, Suite: "faq", Target: "prod", Trigger: "ci", Status: store.StatusRegressed,
			SuiteVersion: strings.Repeat("d", 64), PromptVersion: strings.Repeat("e", 64), TargetVersion: strings.Repeat("c", 64),
			Cases: 4, Samples: 8, Errors: 2, PassRate: fp(1.0 / 3), MeanScore: fp(0.4), PromptTokens: 400, CompletionTokens: 60, CostUSD: 0.00052, DurationMS: 1234},
		Suite:             suite,
		Summary:           runner.Summary{Outcome: runner.Completed, Cases: 4, ValidCases: 3, Samples: 8, Errors: 2, PassRate: 1.0 / 3, MeanScore: 0.4, PromptTokens: 400, CompletionTokens: 60, CostUSD: 0.00052},
		ThresholdFailures: []evals.ThresholdFailure{{Metric: "pass_rate", Want: 0.9, Got: 1.0 / 3}, {Metric: "mean_score", Want: 0.5, Got: 0.4}},
		Gate:              v,
	}
	return &runReport{res: res, candidate: true, mode: daemon.BaselineLatest, prompt: "prompts/candidate.yaml", cached: true, cacheHits: 3,
		cases: []caseRow{
			{ID: "refund", Source: "suites/faq.yaml:9", Samples: 2, Passed: 2, LatencyMS: 210},
			{ID: "shipping", Source: "suites/faq.yaml:14", Samples: 2, Passed: 0, LatencyMS: 190, Reasons: []string{`expected output to contain "business days"`}, Output: clipText(nasty, 300)},
			{ID: "warranty", Source: "suites/faq.yaml:19", Samples: 2, Passed: 1, LatencyMS: 205, Reasons: []string{`expected output to contain "two-year"`}, Output: "I don't know."},
			{ID: "timeout", Source: "datasets/more.csv:2", Missing: 2, Errors: []string{"timeout"}},
		}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestMarkdownGolden(t *testing.T) {
	out := markdownReport(goldenReport())
	golden(t, "gate.md.golden", []byte(out))
	for _, esc := range []string{`\<script\>`, `\| then`, `\*relax\*`, "\\`rm", `\[here\]`, "@\u200boctocat", `\&`} {
		if !strings.Contains(out, esc) {
			t.Errorf("markdown lacks %q: model output must be escaped as data", esc)
		}
	}
	if strings.Contains(out, "\nsecond line") {
		t.Errorf("markdown keeps a line break of the answer: it would break the table")
	}
}

func TestJUnitGolden(t *testing.T) {
	var b bytes.Buffer
	if err := writeJUnit(&b, []*runReport{goldenReport()}); err != nil {
		t.Fatal(err)
	}
	golden(t, "gate.junit.golden", b.Bytes())
	var doc junitDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("junit does not parse: %v", err)
	}
	s := doc.Suites[0]
	// 4 cases, 2 thresholds, the gate, the missing-answer case as an error.
	if s.Tests != 7 || s.Failures != 5 || s.Errors != 1 || s.Skipped != 0 {
		t.Errorf("tests/failures/errors/skipped = %d/%d/%d/%d, want 7/5/1/0", s.Tests, s.Failures, s.Errors, s.Skipped)
	}
	if got := s.Cases[1].Failure; got == nil || !strings.Contains(got.Text, "<script>alert(1)</script> & ask") {
		t.Errorf("shipping failure = %+v, want the answer as text, escaped by the encoder and read back intact", got)
	}
}

func TestMarkdownEscape(t *testing.T) {
	for in, want := range map[string]string{
		"a|b":             `a\|b`,
		"**x**":           `\*\*x\*\*`,
		"<b>hi</b>":       `\<b\>hi\</b\>`,
		"line\n\nbreak":   "line break",
		"ping @team":      "ping @\u200bteam",
		"[a](http://b)":   `\[a\](http://b)`,
		"&amp; `code` ~":  `\&amp; \` + "`code\\`" + ` \~`,
		"\x1b[31mred\x07": "\uFFFD\\[31mred\uFFFD",
	} {
		if got := md(in); got != want {
			t.Errorf("md(%q) = %q, want %q", in, got, want)
		}
	}
}
