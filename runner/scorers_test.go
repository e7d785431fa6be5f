package runner

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/sim"
)

// answering is a tested model that always gives answer.
func answering(t testing.TB, answer string) Target {
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		io.WriteString(w, completion(answer, "gpt-test-2026", "fp_a", "stop"))
	})
	return target(t, srv.URL, nil)
}

// oneCase is a suite of one case asking question, graded by spec.
func oneCase(t testing.TB, question string, spec scoring.Spec) *evals.Suite {
	t.Helper()
	a, err := scoring.Compile(spec)
	if err != nil {
		t.Fatalf("Compile(%+v): %v", spec, err)
	}
	return &evals.Suite{Name: "g", Repeats: 1, Cases: []evals.Case{{
		ID:       "c",
		Messages: []evals.Message{{Role: "system", Content: "Answer briefly."}, {Role: "user", Content: question}},
		Asserts:  []scoring.Assertion{a},
	}}}
}

// TestSimGradesGEvalAndRelevance runs g-eval and answer-relevance end to
// end: the runner's judge sends evald's prompts to the simulator, which
// answers them from the request alone, and the grades come back readable.
func TestSimGradesGEvalAndRelevance(t *testing.T) {
	h := sim.New(sim.Options{WrongRate: -1})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	const answer = "Refunds are accepted within 30 days of delivery."
	const onTopic = "Within how many days of delivery are refunds accepted?"
	tg := answering(t, answer)
	tg.Judge = judgeOf(t, srv.URL, NewGradeCache(0))

	for _, tc := range []struct {
		name     string
		question string
		spec     scoring.Spec
		pass     bool
		calls    int // judge requests
	}{
		// 3 of the criteria's 4 keywords: rated 8/10.
		{"g-eval met", onTopic, scoring.Spec{Type: "g-eval", Value: "mentions refunds within 30 days", Weight: 1}, true, 2},
		{"g-eval not met", onTopic, scoring.Spec{Type: "g-eval", Value: "mentions shipping costs", Weight: 1}, false, 2},
		{"g-eval given steps", onTopic, scoring.Spec{Type: "g-eval", Value: map[string]any{"criteria": "refunds within days", "steps": []any{"Look for refunds."}}, Weight: 1}, true, 1},
		{"not-g-eval", onTopic, scoring.Spec{Type: "not-g-eval", Value: "mentions shipping costs", Weight: 1}, true, 2},
		// Relevance at the default threshold 0.7: about 0.84 on topic, 0.04 off.
		{"answer-relevance on topic", onTopic, scoring.Spec{Type: "answer-relevance", Weight: 1}, true, 2},
		{"answer-relevance off topic", "Is shipping free on large orders?", scoring.Spec{Type: "answer-relevance", Weight: 1}, false, 2},
		{"not-answer-relevance off topic", "Is shipping free on large orders?", scoring.Spec{Type: "not-answer-relevance", Weight: 1}, true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, samples := collect(t, context.Background(), oneCase(t, tc.question, tc.spec), tg, fast)
			s := samples[0]
			if s.ErrClass != "" {
				t.Fatalf("sample error %s: %s", s.ErrClass, s.ErrText)
			}
			if s.Pass != tc.pass {
				t.Errorf("pass = %v (score %v, %+v), want %v", s.Pass, s.Score, s.Results, tc.pass)
			}
			if s.JudgeCalls+s.JudgeCacheHits != tc.calls {
				t.Errorf("judge requests = %d calls + %d cache hits, want %d", s.JudgeCalls, s.JudgeCacheHits, tc.calls)
			}
			if s.JudgeModel == "" {
				t.Errorf("no judge model recorded")
			}
		})
	}

	// The relevance scores order as the questions do.
	score := func(question string) float64 {
		_, samples := collect(t, context.Background(), oneCase(t, question, scoring.Spec{Type: "answer-relevance", Weight: 1}), tg, fast)
		return samples[0].Results[0].Score
	}
	on, off := score(onTopic), score("Is shipping free on large orders?")
	if on <= off {
		t.Errorf("relevance on topic %v <= off topic %v", on, off)
	}
}

// TestSimGradesWithSuitePrompts: a suite's judge_prompts reach the judge
// (here a g-eval rating prompt in the layout the simulator reads), and the
// grade cache tells a replaced prompt from the built-in one.
func TestSimGradesWithSuitePrompts(t *testing.T) {
	h := sim.New(sim.Options{WrongRate: -1})
	t.Cleanup(h.Close)
	var seen []string
	js := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, string(body))
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(js.Close)
	p, err := scoring.ParseJudgePrompt("g-eval", "[system]\nHOUSE RULES\n[user]\n<Criteria>{{criteria}}</Criteria>\n{{steps}}\n<Reply>{{output}}</Reply>")
	if err != nil {
		t.Fatal(err)
	}
	tg := answering(t, "Refunds are accepted within 30 days.")
	tg.Judge = judgeOf(t, js.URL, NewGradeCache(0))
	tg.Judge.Gate = NewGate(1, 0) // serial, so seen needs no lock
	value := map[string]any{"criteria": "refunds", "steps": []any{"Look."}}
	builtin := scoring.Spec{Type: "g-eval", Value: value, Weight: 1}
	replaced := builtin
	replaced.JudgePrompts = scoring.NewJudgePrompts(p)
	for i, tc := range []struct {
		spec      scoring.Spec
		house     bool // the request holds the suite's prompt
		cacheHits int
	}{
		{builtin, false, 0},
		{replaced, true, 0}, // not answered from the built-in prompt's grade
		{replaced, true, 1},
	} {
		before := len(seen)
		_, samples := collect(t, context.Background(), oneCase(t, "Refunds?", tc.spec), tg, fast)
		s := samples[0]
		if s.ErrClass != "" || !s.Pass || s.JudgeCacheHits != tc.cacheHits {
			t.Fatalf("grade %d = pass %v (%s %s), %d cache hits; want a pass, %d hits", i, s.Pass, s.ErrClass, s.ErrText, s.JudgeCacheHits, tc.cacheHits)
		}
		if tc.cacheHits > 0 {
			continue
		}
		if len(seen) != before+1 || strings.Contains(seen[before], "HOUSE RULES") != tc.house {
			t.Errorf("grade %d: judge requests %q, want one, with the suite's prompt: %v", i, seen[before:], tc.house)
		}
	}
}

// TestEmbeddingModelFromTarget: a judge target's embedding_model is the
// model its embeddings are asked for (the test server answers with the
// model it was asked for).
func TestEmbeddingModelFromTarget(t *testing.T) {
	js := newJudgeServer(t, nil, func(texts []string) [][]float64 {
		out := make([][]float64, len(texts))
		for i := range out {
			out[i] = []float64{1, 0}
		}
		return out
	})
	ct := configs.Target{Name: "judge", BaseURL: js.URL + "/v1", Model: "judge-model", EmbeddingModel: "text-embedding-3-large"}
	p, err := NewOpenAI(ct, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := tested(t)
	tg.Judge = judgeOf(t, js.URL, nil)
	tg.Judge.Provider = p
	_, samples := collect(t, context.Background(), oneCase(t, "q", scoring.Spec{Type: "similar", Value: "yes", Weight: 1}), tg, fast)
	if s := samples[0]; s.ErrClass != "" || s.JudgeModel != "text-embedding-3-large" {
		t.Errorf("sample = %s %s, judge model %q; want text-embedding-3-large", s.ErrClass, s.ErrText, s.JudgeModel)
	}
}
