package scoring

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// axisVecs embeds the question as (1,0) and every other text by the table
// (unknown texts as (0,1)).
func axisVecs(table map[string][]float64) func([]string) [][]float64 {
	return func(texts []string) [][]float64 {
		out := make([][]float64, len(texts))
		for i, t := range texts {
			switch v, ok := table[t]; {
			case i == 0:
				out[i] = []float64{1, 0}
			case ok:
				out[i] = v
			default:
				out[i] = []float64{0, 1}
			}
		}
		return out
	}
}

func TestGradeAnswerRelevance(t *testing.T) {
	same, half := []float64{1, 0}, []float64{1, math.Sqrt(3)} // cosine 1 and 0.5
	table := map[string][]float64{
		"How long do refunds take?": same, "When will I get my money back?": same, "What is the refund window?": half,
	}
	threeJSON := `{"questions": ["How long do refunds take?", "When will I get my money back?", "What is the refund window?"]}`
	for _, tc := range []struct {
		name      string
		spec      Spec
		reply     string
		vecs      func([]string) [][]float64
		pass      bool
		score     float64
		missing   bool
		reasonHas string
		questions []string
	}{
		{name: "json questions", spec: Spec{Type: "answer-relevance"}, reply: threeJSON,
			pass: true, score: 2.5 / 3, questions: []string{"How long do refunds take?", "When will I get my money back?", "What is the refund window?"}},
		{name: "below the default 0.7", spec: Spec{Type: "answer-relevance"}, reply: `{"questions": ["What is the refund window?", "Is the sky blue?"]}`,
			score: 0.25, reasonHas: `relevance 0.250 is below 0.7; the output answers "What is the refund window?", "Is the sky blue?"`},
		{name: "threshold lowered", spec: Spec{Type: "answer-relevance", Threshold: ptr(0.5)}, reply: `{"questions": ["What is the refund window?"]}`,
			pass: true, score: 0.5},
		{name: "free-text questions", spec: Spec{Type: "answer-relevance"},
			reply: "Here are three questions:\n1. How long do refunds take?\n- \"When will I get my money back?\"\nQ3) What is the refund window?\nThat is all.",
			pass:  true, score: 2.5 / 3, questions: []string{"How long do refunds take?", "When will I get my money back?", "What is the refund window?"}},
		{name: "value replaces the input", spec: Spec{Type: "answer-relevance", Value: "refund timing"}, reply: threeJSON,
			pass: true, score: 2.5 / 3},
		{name: "negated", spec: Spec{Type: "not-answer-relevance"}, reply: `{"questions": ["Is the sky blue?"]}`,
			pass: true, score: 1},
		{name: "negated fails when relevant", spec: Spec{Type: "not-answer-relevance"}, reply: `{"questions": ["How long do refunds take?"]}`,
			score: 0, reasonHas: "expected the grade to fail: relevance 1.000 reaches 0.7"},
		{name: "negative similarity scores 0", spec: Spec{Type: "answer-relevance"}, reply: `{"questions": ["opposite?"]}`,
			vecs: func(texts []string) [][]float64 { return [][]float64{{1, 0}, {-1, 0}} }, score: 0},

		{name: "no questions", spec: Spec{Type: "answer-relevance"}, reply: "I cannot say.", missing: true,
			reasonHas: `judge reply unreadable: no questions (neither JSON questions nor lines ending in "?"): "I cannot say."`},
		{name: "empty question list", spec: Spec{Type: "answer-relevance"}, reply: `{"questions": []}`, missing: true},
		{name: "negated stays missing", spec: Spec{Type: "not-answer-relevance"}, reply: "nothing", missing: true},
		{name: "zero vector", spec: Spec{Type: "answer-relevance"}, reply: threeJSON, missing: true, reasonHas: "embedding failed: unusable vectors",
			vecs: func(texts []string) [][]float64 { return [][]float64{{0, 0}, {1, 0}, {1, 0}, {1, 0}} }},
		{name: "too few vectors", spec: Spec{Type: "answer-relevance"}, reply: threeJSON, missing: true, reasonHas: "got 1 embeddings for 4 texts",
			vecs: func(texts []string) [][]float64 { return [][]float64{{1, 0}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vecs := tc.vecs
			if vecs == nil {
				vecs = axisVecs(table)
			}
			j := &scriptJudge{replies: []string{tc.reply}, embed: vecs}
			r := grade(t, tc.spec, j, Output{Text: "Refunds take 30 days.", Input: "How long until I get a refund?"})
			if r.Missing != tc.missing {
				t.Fatalf("Grade missing = %v (%s), want %v", r.Missing, r.Reason, tc.missing)
			}
			if !tc.missing && (r.Pass != tc.pass || !near(r.Score, tc.score)) {
				t.Errorf("Grade = pass %v score %v (%s), want pass %v score %v", r.Pass, r.Score, r.Reason, tc.pass, tc.score)
			}
			if !strings.Contains(r.Reason, tc.reasonHas) {
				t.Errorf("Grade reason = %q, want it to contain %q", r.Reason, tc.reasonHas)
			}
			if got := j.user(0); !strings.Contains(got, "<Answer>\nRefunds take 30 days.\n</Answer>") || strings.Contains(got, "How long until") {
				t.Errorf("judge request = %q, want the output and not the question", got)
			}
			if tc.questions != nil {
				want := append([]string{"How long until I get a refund?"}, tc.questions...)
				if got := j.texts[0]; strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("embedded %q, want %q", got, want)
				}
			}
		})
	}
}

func TestAnswerRelevanceWithoutQuestion(t *testing.T) {
	j := &scriptJudge{replies: []string{`{"questions": ["Why?"]}`}}
	r := grade(t, Spec{Type: "answer-relevance"}, j, Output{Text: "Because."})
	if !r.Missing || !strings.Contains(r.Reason, "no question to compare with") || len(j.asked) != 0 {
		t.Errorf("Grade without an input = %+v after %d requests, want missing before asking", r, len(j.asked))
	}
}

func TestCompileAnswerRelevanceErrors(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		kind error
		msg  string
	}{
		{Spec{Type: "answer-relevance", Value: ""}, ErrBadValue, `answer-relevance: invalid value "": want the question to compare with (non-empty text), or no value for the case's last user message`},
		{Spec{Type: "answer-relevance", Value: []any{"a"}}, ErrBadValue, `answer-relevance: invalid value ["a"]: want the question to compare with (non-empty text), or no value for the case's last user message`},
		{Spec{Type: "answer-relevance", Threshold: ptr(-0.5)}, ErrBadThreshold, `answer-relevance: invalid threshold -0.5: must be between 0 and 1 (the lowest mean similarity that passes)`},
	} {
		_, err := Compile(tc.spec)
		if err == nil || !errors.Is(err, tc.kind) || err.Error() != tc.msg {
			t.Errorf("Compile(%+v) error = %v, want %q", tc.spec, err, tc.msg)
		}
	}
}

func TestAnswerRelevanceJudgeErrorIsMissing(t *testing.T) {
	j := &scriptJudge{err: errors.New("rate_limit (HTTP 429): slow down")}
	r := grade(t, Spec{Type: "answer-relevance"}, j, Output{Text: "x", Input: "q?"})
	if !r.Missing || !strings.Contains(r.Reason, "judge failed: rate_limit (HTTP 429): slow down") {
		t.Errorf("Grade with a failing judge = %+v, want missing with the error", r)
	}
}
