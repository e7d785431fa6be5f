package scoring

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// fakeJudge answers every Complete with reply and every Embed with vecs, and
// keeps the last request.
type fakeJudge struct {
	reply string
	err   error
	vecs  [][]float64
	got   []JudgeMessage
	texts []string
}

func (f *fakeJudge) Complete(_ context.Context, m []JudgeMessage) (JudgeReply, error) {
	f.got = m
	return JudgeReply{Text: f.reply, Model: "judge-1"}, f.err
}

func (f *fakeJudge) Embed(_ context.Context, texts []string) ([][]float64, JudgeReply, error) {
	f.texts = texts
	return f.vecs, JudgeReply{Model: "embed-1"}, f.err
}

func grade(t *testing.T, s Spec, j Judge, out Output) Result {
	t.Helper()
	if s.Weight == 0 {
		s.Weight = 1
	}
	a, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile(%+v) error: %v", s, err)
	}
	g, ok := a.(Graded)
	if !ok {
		t.Fatalf("Compile(%s) is not Graded", s.Type)
	}
	return g.Grade(context.Background(), j, out)
}

func TestGradeRubric(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spec      Spec
		reply     string
		pass      bool
		score     float64
		missing   bool
		reasonHas string
	}{
		{name: "json pass", spec: Spec{Type: "llm-rubric", Value: "is polite"},
			reply: `{"reason": "polite", "pass": true, "score": 0.9}`, pass: true, score: 0.9},
		{name: "json fail", spec: Spec{Type: "llm-rubric", Value: "is polite"},
			reply: `{"reason": "rude", "pass": false, "score": 0.1}`, score: 0.1, reasonHas: "rude"},
		{name: "fenced json in prose", spec: Spec{Type: "llm-rubric", Value: "is polite"},
			reply: "Sure! Here is my verdict:\n```json\n{\"pass\": true, \"score\": 1, \"reason\": \"ok\"}\n```", pass: true, score: 1},
		{name: "score only uses 0.5", spec: Spec{Type: "llm-rubric", Value: "x"},
			reply: `{"score": "0.4"}`, score: 0.4},
		{name: "pass only scores 1", spec: Spec{Type: "llm-rubric", Value: "x"},
			reply: `{"pass": "true"}`, pass: true, score: 1},
		{name: "threshold not reached", spec: Spec{Type: "llm-rubric", Value: "x", Threshold: ptr(0.8)},
			reply: `{"pass": true, "score": 0.7, "reason": "meh"}`, score: 0.7, reasonHas: "below threshold 0.8"},
		{name: "free-text PASS", spec: Spec{Type: "llm-rubric", Value: "x"},
			reply: "The output is fine.\nPASS", pass: true, score: 1},
		{name: "free-text FAIL", spec: Spec{Type: "llm-rubric", Value: "x"},
			reply: "FAILED: it never greets.", score: 0},
		{name: "both words is unreadable", spec: Spec{Type: "llm-rubric", Value: "x"},
			reply: "Could PASS or FAIL", missing: true, reasonHas: `"Could PASS or FAIL"`},
		{name: "prose is unreadable", spec: Spec{Type: "llm-rubric", Value: "x"},
			reply: "I think it is good", missing: true, reasonHas: `judge reply unreadable: no JSON verdict and no PASS or FAIL: "I think it is good"`},
		{name: "score out of range", spec: Spec{Type: "llm-rubric", Value: "x"},
			reply: `{"pass": true, "score": 7}`, missing: true, reasonHas: "not in [0,1]"},
		{name: "negated", spec: Spec{Type: "not-llm-rubric", Value: "x"},
			reply: `{"pass": true, "score": 0.75}`, score: 0.25, reasonHas: "expected the grade to fail"},
		{name: "negated stays missing", spec: Spec{Type: "not-llm-rubric", Value: "x"},
			reply: `nothing`, missing: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &fakeJudge{reply: tc.reply}
			r := grade(t, tc.spec, j, Output{Text: "Hello there", Input: "greet me"})
			if r.Missing != tc.missing {
				t.Fatalf("Grade missing = %v (%s), want %v", r.Missing, r.Reason, tc.missing)
			}
			if !tc.missing && (r.Pass != tc.pass || !near(r.Score, tc.score)) {
				t.Errorf("Grade = pass %v score %v, want pass %v score %v", r.Pass, r.Score, tc.pass, tc.score)
			}
			if !strings.Contains(r.Reason, tc.reasonHas) {
				t.Errorf("Grade reason = %q, want it to contain %q", r.Reason, tc.reasonHas)
			}
			if got := j.got[1].Content; !strings.Contains(got, "Hello there") || !strings.Contains(got, tc.spec.Value.(string)) {
				t.Errorf("judge prompt = %q, want the output and the rubric in it", got)
			}
		})
	}
}

func TestGradeFactuality(t *testing.T) {
	for _, tc := range []struct {
		name    string
		value   any
		reply   string
		pass    bool
		missing bool
	}{
		{"json A", "Paris", `{"category": "A", "reason": "subset"}`, true, false},
		{"json D", "Paris", `{"category": "(D)", "reason": "wrong city"}`, false, false},
		{"last line E", "Paris", "Let me think.\nThe details differ a bit.\n(E)", true, false},
		{"answer line", "Paris", "Reasoning...\nAnswer: D", false, false},
		{"lone paren", "Paris", "I'd pick (B) here since it adds detail.", true, false},
		{"custom pass set rejects B", map[string]any{"reference": "Paris", "pass": []any{"A", "C"}}, `{"category": "B"}`, false, false},
		{"custom pass set as text", map[string]any{"reference": "Paris", "pass": "A, D"}, `{"category": "D"}`, true, false},
		{"two letters unreadable", "Paris", "Either (A) or (D).", false, true},
		{"nothing unreadable", "Paris", "no idea", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &fakeJudge{reply: tc.reply}
			r := grade(t, Spec{Type: "factuality", Value: tc.value}, j, Output{Text: "It is Paris.", Input: "Capital of France?"})
			if r.Missing != tc.missing || !tc.missing && r.Pass != tc.pass {
				t.Errorf("Grade = %+v, want pass %v missing %v", r, tc.pass, tc.missing)
			}
			if got := j.got[1].Content; !strings.Contains(got, "[Expert]: Paris") || !strings.Contains(got, "[Question]: Capital of France?") {
				t.Errorf("judge prompt = %q, want the reference and the question", got)
			}
		})
	}
}

func TestGradeClosedQA(t *testing.T) {
	for _, tc := range []struct {
		reply         string
		pass, missing bool
	}{
		{"The submission is polite.\nY\nY", true, false},
		{"Not polite.\nN\nN\n", false, false},
		{"reasoning\n**Yes**", true, false},
		{"maybe", false, true},
	} {
		r := grade(t, Spec{Type: "model-graded-closedqa", Value: "is polite"}, &fakeJudge{reply: tc.reply}, text("hi"))
		if r.Missing != tc.missing || !tc.missing && r.Pass != tc.pass {
			t.Errorf("Grade(reply %q) = %+v, want pass %v missing %v", tc.reply, r, tc.pass, tc.missing)
		}
	}
}

func TestGradeSimilar(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    Spec
		vecs    [][]float64
		pass    bool
		score   float64
		missing bool
	}{
		{"identical", Spec{Type: "similar", Value: "a"}, [][]float64{{1, 0}, {2, 0}}, true, 1, false},
		{"orthogonal", Spec{Type: "similar", Value: "a"}, [][]float64{{1, 0}, {0, 1}}, false, 0, false},
		{"best of list", Spec{Type: "similar", Value: []any{"a", "b"}}, [][]float64{{1, 0}, {0, 1}, {1, 1}}, false, 0.7071067811865475, false},
		{"lower threshold", Spec{Type: "similar", Value: "a", Threshold: ptr(0.7)}, [][]float64{{1, 0}, {1, 1}}, true, 0.7071067811865475, false},
		{"not-similar", Spec{Type: "not-similar", Value: "a"}, [][]float64{{1, 0}, {0, 1}}, true, 1, false},
		{"zero vector", Spec{Type: "similar", Value: "a"}, [][]float64{{0, 0}, {1, 0}}, false, 0, true},
		{"too few", Spec{Type: "similar", Value: "a"}, [][]float64{{1, 0}}, false, 0, true},
		{"unequal", Spec{Type: "similar", Value: "a"}, [][]float64{{1, 0}, {1, 0, 0}}, false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &fakeJudge{vecs: tc.vecs}
			r := grade(t, tc.spec, j, text("out"))
			if r.Missing != tc.missing {
				t.Fatalf("Grade missing = %v (%s), want %v", r.Missing, r.Reason, tc.missing)
			}
			if !tc.missing && (r.Pass != tc.pass || !near(r.Score, tc.score)) {
				t.Errorf("Grade = pass %v score %v, want pass %v score %v", r.Pass, r.Score, tc.pass, tc.score)
			}
			if got, want := j.texts[0], "out"; got != want {
				t.Errorf("Embed texts[0] = %q, want %q", got, want)
			}
		})
	}
}

func TestGradeJudgeErrorIsMissing(t *testing.T) {
	for _, typ := range []string{"llm-rubric", "factuality", "model-graded-closedqa", "similar"} {
		r := grade(t, Spec{Type: typ, Value: "x"}, &fakeJudge{err: errors.New("server_error (HTTP 500): boom")}, text("out"))
		if !r.Missing || r.Pass || !strings.Contains(r.Reason, "boom") {
			t.Errorf("%s: Grade with a failing judge = %+v, want missing with the error", typ, r)
		}
		a, _ := Compile(Spec{Type: typ, Value: "x", Weight: 1})
		if r := a.Check(text("out")); !r.Missing {
			t.Errorf("%s: Check without a judge = %+v, want missing", typ, r)
		}
	}
}

func TestCompileGraded(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		kind error
		msg  string
	}{
		{Spec{Type: "llm-rubric"}, ErrBadValue, `llm-rubric: missing value: want the rubric (non-empty text)`},
		{Spec{Type: "llm-rubric", Value: ""}, ErrBadValue, `llm-rubric: invalid value "": want the rubric (non-empty text)`},
		{Spec{Type: "llm-rubric", Value: "x", Threshold: ptr(1.5)}, ErrBadThreshold, `llm-rubric: invalid threshold 1.5: must be between 0 and 1 (the lowest score that passes)`},
		{Spec{Type: "factuality", Value: "x", Threshold: ptr(0.5)}, ErrBadThreshold, `factuality: invalid threshold 0.5: factuality takes no threshold`},
		{Spec{Type: "factuality", Value: map[string]any{"reference": "x", "pass": []any{"F"}}}, ErrBadValue, `factuality: invalid value {"pass":["F"],"reference":"x"}: pass: category "F" is not one of A, B, C, D, E`},
		{Spec{Type: "factuality", Value: map[string]any{"ref": "x"}}, ErrBadValue, `factuality: invalid value {"ref":"x"}: unknown key "ref"; want reference and optionally pass`},
		{Spec{Type: "model-graded-closedqa"}, ErrBadValue, `model-graded-closedqa: missing value: want the rubric (non-empty text)`},
		{Spec{Type: "similar", Value: "x", Threshold: ptr(2)}, ErrBadThreshold, `similar: invalid threshold 2: must be between -1 and 1 (the lowest cosine similarity that passes)`},
		{Spec{Type: "similar", Value: true}, ErrBadValue, `similar: invalid value true: want the expected text, or a list of texts`},
	} {
		_, err := Compile(tc.spec)
		if err == nil || !errors.Is(err, tc.kind) || err.Error() != tc.msg {
			t.Errorf("Compile(%+v) error = %v, want %q", tc.spec, err, tc.msg)
		}
	}
}

func TestPromptFilesParse(t *testing.T) {
	for _, name := range JudgePromptNames() {
		p := builtinPrompts[name]
		if p.system == "" || p.user == "" {
			t.Errorf("prompt %s = %+v, want a system part and a user part", name, p)
		}
	}
	// The output is inserted once: placeholders the model wrote stay as text.
	m := builtinPrompts["llm-rubric"].render("output", "{{rubric}}", "rubric", "R")
	if got := m[1].Content; !strings.Contains(got, "<Output>\n{{rubric}}\n</Output>") {
		t.Errorf("render expanded a placeholder inside the output: %q", got)
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

// FuzzJudgeReply: no judge answer panics a reader, and a rubric verdict
// read from one always has a score in [0,1].
func FuzzJudgeReply(f *testing.F) {
	for _, s := range []string{`{"pass":true,"score":0.5}`, `{"score": 7, "reason": "x"}`, "1. a\n2. b", "Why?\n- How?", "PASS", "```json\n{\"category\":\"A\"}\n```", "Y\nY", "{{{{", `{"score":"NaN"}`, "(A) (B)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, score, _, missing := readRubric(s, nil); missing == "" && (score < 0 || score > 1) {
			t.Errorf("readRubric(%q) score = %v, want in [0,1]", s, score)
		}
		readCategory(s)
		readYesNo(s)
		if r, _, missing := readRating(s); missing == "" && (r < 0 || r > gevalMax) {
			t.Errorf("readRating(%q) = %v, want in [0,%d]", s, r, gevalMax)
		}
		if steps, ok := readSteps(s); ok != (len(steps) > 0) || len(steps) > maxSteps {
			t.Errorf("readSteps(%q) = %d steps, %v", s, len(steps), ok)
		}
		if qs, ok := readQuestions(s); ok != (len(qs) > 0) || len(qs) > maxQuestions {
			t.Errorf("readQuestions(%q) = %d questions, %v", s, len(qs), ok)
		}
		_, _ = ParseJudgePrompt("llm-rubric", s)
	})
}

// A judge's reason is model text and reaches terminals as it is: escape
// sequences must not survive into it.
func TestJudgeReasonDropsControlCharacters(t *testing.T) {
	reply := `{"reason": "JUDGE \u001b[31mRED \u001b]0;TITLE\u0007 \u001b[2K\u0000end\ttab", "pass": false, "score": 0}`
	r := grade(t, Spec{Type: "llm-rubric", Value: "is polite"}, &fakeJudge{reply: reply}, Output{Text: "hi"})
	if strings.ContainsFunc(r.Reason, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		t.Errorf("Reason = %q, want no control characters", r.Reason)
	}
	if !strings.Contains(r.Reason, "RED") || !strings.Contains(r.Reason, "end tab") {
		t.Errorf("Reason = %q, want the judge's words kept", r.Reason)
	}
}
