package scoring

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// scriptJudge answers the n-th Complete with replies[n] (the last one once
// they run out) and Embed with embed(texts); it keeps every request.
type scriptJudge struct {
	replies []string
	embed   func(texts []string) [][]float64
	asked   [][]JudgeMessage
	texts   [][]string
	err     error
}

func (s *scriptJudge) Complete(_ context.Context, m []JudgeMessage) (JudgeReply, error) {
	s.asked = append(s.asked, m)
	if s.err != nil {
		return JudgeReply{}, s.err
	}
	i := min(len(s.asked), len(s.replies)) - 1
	return JudgeReply{Text: s.replies[i], Model: "judge-1"}, nil
}

func (s *scriptJudge) Embed(_ context.Context, texts []string) ([][]float64, JudgeReply, error) {
	s.texts = append(s.texts, texts)
	if s.err != nil {
		return nil, JudgeReply{}, s.err
	}
	return s.embed(texts), JudgeReply{Model: "embed-1"}, nil
}

// user is the user message of the i-th request.
func (s *scriptJudge) user(i int) string {
	m := s.asked[i]
	return m[len(m)-1].Content
}

const twoSteps = `{"steps": ["Check the greeting.", "Check the answer."]}`

func TestGradeGEval(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spec      Spec
		replies   []string
		pass      bool
		score     float64
		missing   bool
		reasonHas string
		requests  int
	}{
		{name: "json pass", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{twoSteps, `{"score": 8, "reason": "Greets and thanks."}`}, pass: true, score: 0.8, requests: 2},
		{name: "json fail below default 0.7", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{twoSteps, `{"score": 6, "reason": "Curt."}`}, score: 0.6, reasonHas: "score 0.6 below threshold 0.7; rated 6/10: Curt.", requests: 2},
		{name: "threshold lowered", spec: Spec{Type: "g-eval", Value: "is polite", Threshold: ptr(0.5)},
			replies: []string{twoSteps, `{"score": "6", "reason": "Curt."}`}, pass: true, score: 0.6, requests: 2},
		{name: "fenced json", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{"```json\n" + twoSteps + "\n```", "Here you go:\n```json\n{\"score\": 10, \"reason\": \"ok\"}\n```"}, pass: true, score: 1, requests: 2},
		{name: "steps as a numbered list", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{"Steps:\n1. Check the greeting.\n2) Check the tone.", `{"score": 9}`}, pass: true, score: 0.9, requests: 2},
		{name: "free-text score", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{twoSteps, "The reply is courteous.\nScore: 7"}, pass: true, score: 0.7, requests: 2},
		{name: "free-text out of ten", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{twoSteps, "I would give it 3/10 because it is rude. Overall 3 out of 10."}, score: 0.3, reasonHas: "rude", requests: 2},
		{name: "given steps skip the first request", spec: Spec{Type: "g-eval", Value: map[string]any{"criteria": "is polite", "steps": []any{"Look for a greeting."}}},
			replies: []string{`{"score": 10, "reason": "ok"}`}, pass: true, score: 1, requests: 1},
		{name: "several criteria average", spec: Spec{Type: "g-eval", Value: []any{"is polite", "is short"}},
			replies: []string{twoSteps, `{"score": 10}`, twoSteps, `{"score": 4}`}, score: 0.7, pass: true, requests: 4},
		{name: "negated", spec: Spec{Type: "not-g-eval", Value: "is polite"},
			replies: []string{twoSteps, `{"score": 8, "reason": "polite"}`}, score: 0.2, reasonHas: "expected the grade to fail: score 0.8 reaches", requests: 2},
		{name: "negated low rating passes", spec: Spec{Type: "not-g-eval", Value: "is polite"},
			replies: []string{twoSteps, `{"score": 1}`}, pass: true, score: 0.9, requests: 2},

		{name: "unreadable steps", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{"I cannot help with that."}, missing: true,
			reasonHas: `judge reply unreadable: no evaluation steps (neither JSON steps nor a numbered list): "I cannot help with that."`, requests: 1},
		{name: "unreadable rating", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{twoSteps, "It is quite good overall."}, missing: true,
			reasonHas: `no JSON score and no "score: N" or "N/10": "It is quite good overall."`, requests: 2},
		{name: "conflicting free-text ratings", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{twoSteps, "Score: 4. On reflection, 8/10."}, missing: true, reasonHas: "several different scores", requests: 2},
		{name: "rating out of range", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{twoSteps, `{"score": 42, "reason": "great"}`}, missing: true, reasonHas: "score 42 is not within 0 to 10", requests: 2},
		{name: "free-text rating out of range", spec: Spec{Type: "g-eval", Value: "is polite"},
			replies: []string{twoSteps, "score: 85"}, missing: true, reasonHas: "score 85 is not within 0 to 10", requests: 2},
		{name: "negated stays missing", spec: Spec{Type: "not-g-eval", Value: "is polite"},
			replies: []string{twoSteps, "no idea"}, missing: true, requests: 2},
		{name: "second criterion missing", spec: Spec{Type: "g-eval", Value: []any{"is polite", "is short"}},
			replies: []string{twoSteps, `{"score": 10}`, twoSteps, "hmm"}, missing: true, reasonHas: "criteria 2: judge reply unreadable", requests: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &scriptJudge{replies: tc.replies}
			r := grade(t, tc.spec, j, Output{Text: "Hello, thanks for asking!", Input: "Say hi"})
			if r.Missing != tc.missing {
				t.Fatalf("Grade missing = %v (%s), want %v", r.Missing, r.Reason, tc.missing)
			}
			if !tc.missing && (r.Pass != tc.pass || !near(r.Score, tc.score)) {
				t.Errorf("Grade = pass %v score %v (%s), want pass %v score %v", r.Pass, r.Score, r.Reason, tc.pass, tc.score)
			}
			if !strings.Contains(r.Reason, tc.reasonHas) {
				t.Errorf("Grade reason = %q, want it to contain %q", r.Reason, tc.reasonHas)
			}
			if len(j.asked) != tc.requests {
				t.Errorf("judge asked %d times, want %d", len(j.asked), tc.requests)
			}
		})
	}
}

// TestGEvalRequests: the steps request shows the criteria; the rating
// request shows the criteria, the steps, the question and the output.
func TestGEvalRequests(t *testing.T) {
	j := &scriptJudge{replies: []string{twoSteps, `{"score": 8}`}}
	grade(t, Spec{Type: "g-eval", Value: "is polite"}, j, Output{Text: "Hello there", Input: "Say hi"})
	if got := j.user(0); !strings.Contains(got, "<Criteria>\nis polite\n</Criteria>") || strings.Contains(got, "Hello there") {
		t.Errorf("steps request = %q, want the criteria and not the output", got)
	}
	got := j.user(1)
	for _, want := range []string{"<Criteria>\nis polite\n</Criteria>", "- Check the greeting.\n- Check the answer.", "<Prompt>\nSay hi\n</Prompt>", "<Reply>\nHello there\n</Reply>"} {
		if !strings.Contains(got, want) {
			t.Errorf("rating request = %q, want it to contain %q", got, want)
		}
	}
}

func TestCompileGEvalErrors(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		kind error
		msg  string
	}{
		{Spec{Type: "g-eval"}, ErrBadValue, `g-eval: missing value: want the criteria (non-empty text), a list of criteria, or {criteria, steps}`},
		{Spec{Type: "g-eval", Value: "  "}, ErrBadValue, `g-eval: invalid value "  ": want the criteria (non-empty text), a list of criteria, or {criteria, steps}`},
		{Spec{Type: "g-eval", Value: []any{"a", ""}}, ErrBadValue, `g-eval: invalid value ["a",""]: want the criteria (non-empty text), a list of criteria, or {criteria, steps}`},
		{Spec{Type: "g-eval", Value: map[string]any{"criteria": "x", "step": []any{"a"}}}, ErrBadValue, `g-eval: invalid value {"criteria":"x","step":["a"]}: unknown key "step"; want criteria and optionally steps`},
		{Spec{Type: "g-eval", Value: map[string]any{"steps": []any{"a"}}}, ErrBadValue, `g-eval: invalid value {"steps":["a"]}: criteria: want the criteria (non-empty text)`},
		{Spec{Type: "g-eval", Value: map[string]any{"criteria": "x", "steps": "a"}}, ErrBadValue, `g-eval: invalid value {"criteria":"x","steps":"a"}: steps: want a list of evaluation steps (non-empty texts)`},
		{Spec{Type: "g-eval", Value: "x", Threshold: ptr(7)}, ErrBadThreshold, `g-eval: invalid threshold 7: must be between 0 and 1 (the lowest score that passes; the judge's 0 to 10 rating is divided by 10)`},
	} {
		_, err := Compile(tc.spec)
		if err == nil || !errors.Is(err, tc.kind) || err.Error() != tc.msg {
			t.Errorf("Compile(%+v) error = %v, want %q", tc.spec, err, tc.msg)
		}
	}
}

func TestGEvalJudgeErrorIsMissing(t *testing.T) {
	j := &scriptJudge{err: errors.New("server_error (HTTP 500): boom")}
	r := grade(t, Spec{Type: "g-eval", Value: "x"}, j, text("out"))
	if !r.Missing || !strings.Contains(r.Reason, "judge failed: server_error (HTTP 500): boom") {
		t.Errorf("Grade with a failing judge = %+v, want missing with the error", r)
	}
}
