package scoring

import (
	"strings"
	"testing"
)

func TestParseJudgePromptErrors(t *testing.T) {
	for _, tc := range []struct {
		name, prompt, text, msg string
	}{
		{"unknown prompt", "rubric", "[system]\n[user]\n{{output}}",
			`unknown judge prompt "rubric" (known: answer-relevance, factuality, g-eval, g-eval-steps, llm-rubric, model-graded-closedqa)`},
		{"no system line", "llm-rubric", "Grade this.\n[user]\n{{output}} {{rubric}}", "must start with a [system] line"},
		{"empty file", "llm-rubric", "", "must start with a [system] line"},
		{"no user line", "llm-rubric", "[system]\nYou grade.\n{{output}} {{rubric}}", "has no [user] line"},
		{"two user lines", "llm-rubric", "[system]\nx\n[user]\n{{output}}\n[user]\n{{rubric}}", "line 5: a second [user] line"},
		{"two system lines", "llm-rubric", "[system]\nx\n[system]\n[user]\n{{output}}", "line 3: a second [system] line"},
		{"empty user", "llm-rubric", "[system]\n{{output}} {{rubric}}\n[user]\n  \n", "the [user] section is empty"},
		{"missing rubric", "llm-rubric", "[system]\nGrade it.\n[user]\n<Output>{{output}}</Output>",
			"the [user] section lacks {{rubric}} (llm-rubric needs {{output}} and {{rubric}} there)"},
		{"required in system only", "factuality", "[system]\n{{reference}}\n[user]\n{{output}}",
			"the [user] section lacks {{reference}} (factuality needs {{output}} and {{reference}} there)"},
		{"g-eval lacks two", "g-eval", "[system]\nRate.\n[user]\n{{output}}",
			"the [user] section lacks {{criteria}} and {{steps}} (g-eval needs {{output}}, {{criteria}} and {{steps}} there)"},
		{"misspelt placeholder", "llm-rubric", "[system]\nx\n[user]\n{{ouput}} {{output}} {{rubric}}",
			`unknown placeholder "{{ouput}}": llm-rubric knows {{output}}, {{rubric}} and {{input}}`},
		{"spaced placeholder", "g-eval-steps", "[system]\nx\n[user]\n{{ criteria }}",
			`unknown placeholder "{{ criteria }}": g-eval-steps knows {{criteria}}`},
		{"input not known to answer-relevance", "answer-relevance", "[system]\nx\n[user]\n{{output}} for {{input}}",
			`unknown placeholder "{{input}}": answer-relevance knows {{output}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJudgePrompt(tc.prompt, tc.text)
			if err == nil || err.Error() != tc.msg {
				t.Errorf("ParseJudgePrompt(%q) error = %v, want %q", tc.prompt, err, tc.msg)
			}
		})
	}
}

func TestParseJudgePromptForms(t *testing.T) {
	// A BOM, leading blank lines, CRLF and spaces around the markers are
	// fine; an empty system section sends no system message.
	p, err := ParseJudgePrompt("llm-rubric", "\ufeff\n\r\n[system] \r\n\r\n [user]\r\nOut: {{output}}\r\nRubric: {{rubric}}\r\n")
	if err != nil {
		t.Fatalf("ParseJudgePrompt: %v", err)
	}
	msgs := p.render("output", "hi", "rubric", "polite", "input", "q")
	if len(msgs) != 1 || msgs[0].Role != "user" || msgs[0].Content != "Out: hi\nRubric: polite" {
		t.Errorf("render = %+v, want one user message", msgs)
	}
	if got, want := p.Text(), "[system]\n\n[user]\nOut: {{output}}\nRubric: {{rubric}}"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
}

// TestJudgePromptsOverride: a compiled assertion grades with the suite's
// prompt, and Overrides reports the replaced prompts a type uses.
func TestJudgePromptsOverride(t *testing.T) {
	rubric, err := ParseJudgePrompt("llm-rubric", "[system]\nBe strict.\n[user]\nOUTPUT={{output}} RUBRIC={{rubric}} Q={{input}}")
	if err != nil {
		t.Fatal(err)
	}
	steps, err := ParseJudgePrompt("g-eval-steps", "[system]\n[user]\nSteps for: {{criteria}}")
	if err != nil {
		t.Fatal(err)
	}
	jp := NewJudgePrompts(rubric, steps)

	j := &fakeJudge{reply: `{"pass": true, "score": 1}`}
	r := grade(t, Spec{Type: "llm-rubric", Value: "polite", JudgePrompts: jp}, j, Output{Text: "hi", Input: "greet"})
	if r.Missing || !r.Pass {
		t.Fatalf("Grade = %+v, want a pass", r)
	}
	if got := j.got; len(got) != 2 || got[0].Content != "Be strict." || got[1].Content != "OUTPUT=hi RUBRIC=polite Q=greet" {
		t.Errorf("judge request = %+v, want the suite's prompt", got)
	}

	// Recompiling a.Spec() with a new threshold (as governance does for a
	// signed-off one) keeps the suite's prompt.
	a, err := Compile(Spec{Type: "llm-rubric", Value: "polite", Weight: 1, JudgePrompts: jp})
	if err != nil {
		t.Fatal(err)
	}
	spec := a.Spec()
	spec.Threshold = ptr(0.9)
	again, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	j = &fakeJudge{reply: `{"pass": true, "score": 1}`}
	again.(Graded).Grade(t.Context(), j, text("hi"))
	if got := j.got[0].Content; got != "Be strict." {
		t.Errorf("recompiled assertion's system message = %q, want the suite's", got)
	}

	sj := &scriptJudge{replies: []string{`{"steps": ["a"]}`, `{"score": 10}`}}
	grade(t, Spec{Type: "not-g-eval", Value: "short", JudgePrompts: jp}, sj, text("x"))
	if got := sj.asked[0]; len(got) != 1 || got[0].Content != "Steps for: short" {
		t.Errorf("steps request = %+v, want the suite's steps prompt", got)
	}
	if !strings.Contains(sj.user(1), "<Criteria>\nshort\n</Criteria>") {
		t.Errorf("rating request = %q, want the built-in g-eval prompt", sj.user(1))
	}

	for _, tc := range []struct {
		typ  string
		want []string
	}{
		{"llm-rubric", []string{"llm-rubric"}},
		{"not-llm-rubric", []string{"llm-rubric"}},
		{"g-eval", []string{"g-eval-steps"}},
		{"factuality", nil},
		{"similar", nil},
		{"contains", nil},
	} {
		got := jp.Overrides(tc.typ)
		if len(got) != len(tc.want) {
			t.Errorf("Overrides(%s) = %v, want %v", tc.typ, got, tc.want)
		}
		for _, name := range tc.want {
			if !strings.HasPrefix(got[name], "[system]\n") {
				t.Errorf("Overrides(%s)[%s] = %q, want the prompt text", tc.typ, name, got[name])
			}
		}
	}
	if got := (*JudgePrompts)(nil).Overrides("llm-rubric"); got != nil {
		t.Errorf("nil Overrides = %v, want nil", got)
	}
	if NewJudgePrompts() != nil {
		t.Errorf("NewJudgePrompts() is not nil")
	}
}
