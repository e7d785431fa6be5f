package evals

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/scoring"
)

const calibratedSuite = `name: faq
prompt:
  - role: system
    content: Be brief.
  - role: user
    content: "Customer question: {{question}}"
defaultTest:
  vars: {tone: friendly}
tests:
  - id: window
    vars: {question: "How long do I have to return an item?"}
    assert:
      - type: contains
        value: "30"
      - type: llm-rubric
        value: mentions 30 days
calibration:
  max_disagreement: 0.25
  items:
    - case: window
      output: "You have 30 days to return an item."
      expect: pass
    - vars: {question: "Is there a warranty?", topic: warranty}
      assert:
        - {type: llm-rubric, value: "mentions {{topic}}"}
        - {type: not-llm-rubric, value: is rude}
      output: "We do not sell that."
      expect: fail
`

func TestParseCalibration(t *testing.T) {
	s := mustParse(t, files("suites/faq.yaml", calibratedSuite), "suites/faq.yaml")
	c := s.Calibration
	if c == nil {
		t.Fatal("Calibration = nil, want the parsed set")
	}
	if got, want := c.MaxDisagreement, 0.25; got != want {
		t.Errorf("MaxDisagreement = %v, want %v", got, want)
	}
	if got, want := c.Line, 17; got != want {
		t.Errorf("Line = %d, want %d", got, want)
	}
	if len(c.Items) != 2 {
		t.Fatalf("Items = %d, want 2", len(c.Items))
	}
	type item struct {
		Case, Input, Output, Expected, Source string
		Vars                                  map[string]any
		Asserts                               []scoring.Spec
	}
	got := make([]item, len(c.Items))
	for i, it := range c.Items {
		var sp []scoring.Spec
		for _, a := range it.Asserts {
			sp = append(sp, a.Spec())
		}
		got[i] = item{it.Case, it.Input, it.Output, it.Expected(), it.Source, it.Vars, sp}
	}
	want := []item{
		{
			Case: "window", Input: "Customer question: How long do I have to return an item?",
			Output: "You have 30 days to return an item.", Expected: "pass", Source: "suites/faq.yaml:20",
			Vars: map[string]any{"question": "How long do I have to return an item?", "tone": "friendly"},
			// Only the case's model-graded assertion: contains says nothing about the judge.
			Asserts: []scoring.Spec{{Type: "llm-rubric", Value: "mentions 30 days", Weight: 1}},
		},
		{
			Input: "Customer question: Is there a warranty?", Output: "We do not sell that.", Expected: "fail", Source: "suites/faq.yaml:23",
			Vars: map[string]any{"question": "Is there a warranty?", "topic": "warranty", "tone": "friendly"},
			Asserts: []scoring.Spec{
				{Type: "llm-rubric", Value: "mentions warranty", Weight: 1},
				{Type: "not-llm-rubric", Value: "is rude", Weight: 1},
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if len(c.Hash) != 64 {
		t.Errorf("Hash = %q, want 64 hex digits", c.Hash)
	}
}

func TestCalibrationDefaultsAndVersions(t *testing.T) {
	base := mustParse(t, files("s.yaml", calibratedSuite), "s.yaml")
	noCal := calibratedSuite[:strings.Index(calibratedSuite, "calibration:")]
	plain := mustParse(t, files("s.yaml", noCal), "s.yaml")
	if plain.Calibration != nil {
		t.Errorf("Calibration of a suite without one = %+v, want nil", plain.Calibration)
	}
	// The set checks the judge and does not change what a run measures.
	if base.Version != plain.Version {
		t.Errorf("suite version with a calibration set = %s, without = %s; want them equal", base.Version, plain.Version)
	}

	reformatted := strings.Replace(calibratedSuite, "      output: \"You have 30 days to return an item.\"", "      output: >-\n        You have 30 days to return an item.", 1)
	if got := mustParse(t, files("s.yaml", reformatted), "s.yaml").Calibration.Hash; got != base.Calibration.Hash {
		t.Errorf("hash after reformatting = %s, want %s (unchanged)", got, base.Calibration.Hash)
	}
	for name, edit := range map[string][2]string{
		"output":           {"We do not sell that.", "We never sold that."},
		"expect":           {"expect: fail", "expect: pass"},
		"max_disagreement": {"max_disagreement: 0.25", "max_disagreement: 0.3"},
		"case rubric":      {"value: mentions 30 days", "value: mentions thirty days"},
	} {
		edited := mustParse(t, files("s.yaml", strings.Replace(calibratedSuite, edit[0], edit[1], 1)), "s.yaml")
		if edited.Calibration.Hash == base.Calibration.Hash {
			t.Errorf("editing the %s kept the calibration hash %s; want a new one (it makes the daemon calibrate again)", name, base.Calibration.Hash)
		}
	}

	def := strings.Replace(calibratedSuite, "  max_disagreement: 0.25\n", "", 1)
	if got, want := mustParse(t, files("s.yaml", def), "s.yaml").Calibration.MaxDisagreement, DefaultMaxDisagreement; got != want {
		t.Errorf("default MaxDisagreement = %v, want %v", got, want)
	}
}

// TestCalibrationUsesJudgePrompts: an item's own assertions grade with the
// suite's judge_prompts, as the suite's cases do.
func TestCalibrationUsesJudgePrompts(t *testing.T) {
	suite := calibratedSuite + "judge_prompts:\n  llm-rubric: prompts/strict.txt\n"
	s := mustParse(t, files("suites/faq.yaml", suite,
		"suites/prompts/strict.txt", "[system]\nBe strict.\n[user]\n<Output>{{output}}</Output>\n<Rubric>{{rubric}}</Rubric>\n"), "suites/faq.yaml")
	for i, it := range s.Calibration.Items {
		for _, a := range it.Asserts {
			sp := a.Spec()
			if got := sp.JudgePrompts.Overrides(sp.Type)["llm-rubric"]; !strings.Contains(got, "Be strict.") {
				t.Errorf("item %d, %s: judge prompt = %q, want the suite's file", i, sp.Type, got)
			}
		}
	}
}
