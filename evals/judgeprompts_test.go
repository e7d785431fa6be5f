package evals

import (
	"strings"
	"testing"
	"testing/fstest"
)

const gradedSuite = `name: graded
prompt:
  - role: user
    content: "{{q}}"
tests:
  - id: polite
    vars: {q: hi}
    assert:
      - type: llm-rubric
        value: is polite
      - type: contains
        value: hi
`

const strictRubric = "[system]\nBe strict.\n[user]\n<Output>{{output}}</Output>\n<Rubric>{{rubric}}</Rubric>\n"

func gradedFiles(suite string) fstest.MapFS {
	return files(
		"suites/graded.yaml", suite,
		"suites/prompts/strict.txt", strictRubric,
		"suites/prompts/facts.txt", "[system]\n[user]\n{{output}} vs {{reference}}",
	)
}

// TestJudgePrompts: the assertions of a suite with judge_prompts grade with
// them, and its version moves when a prompt that one of its types uses
// changes, and only then.
func TestJudgePrompts(t *testing.T) {
	base := mustParse(t, gradedFiles(gradedSuite), "suites/graded.yaml")
	with := gradedSuite + "judge_prompts:\n  llm-rubric: prompts/strict.txt\n"
	s := mustParse(t, gradedFiles(with), "suites/graded.yaml")
	rubric := s.Cases[0].Asserts[0].Spec()
	if got := rubric.JudgePrompts.Overrides(rubric.Type)["llm-rubric"]; !strings.Contains(got, "Be strict.") {
		t.Fatalf("llm-rubric's judge prompts = %q, want the suite's file", got)
	}
	if s.Version == base.Version {
		t.Errorf("judge_prompts for llm-rubric left the suite version as it was")
	}
	if s.PromptVersion != base.PromptVersion {
		t.Errorf("judge_prompts moved the prompt version")
	}

	for _, tt := range []struct {
		name  string
		suite string
		files map[string]string
		moves bool // against s
	}{
		{"file:// form", gradedSuite + "judge_prompts:\n  llm-rubric: file://prompts/strict.txt\n", nil, false},
		{"CRLF and final newlines", with, map[string]string{"suites/prompts/strict.txt": strings.ReplaceAll(strictRubric, "\n", "\r\n") + "\r\n\r\n"}, false},
		{"an unused prompt", with + "  factuality: prompts/facts.txt\n", nil, false},
		{"prompt edited", with, map[string]string{"suites/prompts/strict.txt": strings.Replace(strictRubric, "Be strict.", "Be lenient.", 1)}, true},
		{"prompt removed", gradedSuite, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := gradedFiles(tt.suite)
			for name, data := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			got := mustParse(t, fsys, "suites/graded.yaml")
			if moved := got.Version != s.Version; moved != tt.moves {
				t.Errorf("suite version moved = %v, want %v", moved, tt.moves)
			}
		})
	}

	// A suite without model-graded assertions keeps its version whatever
	// judge prompts it names.
	plain := strings.Replace(gradedSuite, "      - type: llm-rubric\n        value: is polite\n", "", 1)
	a := mustParse(t, gradedFiles(plain), "suites/graded.yaml")
	b := mustParse(t, gradedFiles(plain+"judge_prompts:\n  llm-rubric: prompts/strict.txt\n"), "suites/graded.yaml")
	if a.Version != b.Version {
		t.Errorf("judge_prompts moved the version of a suite without graded assertions")
	}
}
