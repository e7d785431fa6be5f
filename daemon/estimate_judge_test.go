package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/scoring"
)

// gradedSpecs are one assertion of each graded type, and the chat and
// embedding requests grading it asks of the judge (all of them: the flow of
// a judge that answers every request).
var gradedSpecs = []struct {
	name          string
	spec          scoring.Spec
	chats, embeds int
}{
	{"llm-rubric", scoring.Spec{Type: "llm-rubric", Value: "mentions the days"}, 1, 0},
	{"not-llm-rubric", scoring.Spec{Type: "not-llm-rubric", Value: "is rude"}, 1, 0},
	{"factuality", scoring.Spec{Type: "factuality", Value: "30 days"}, 1, 0},
	{"model-graded-factuality", scoring.Spec{Type: "model-graded-factuality", Value: map[string]any{"reference": "30 days", "pass": []any{"C"}}}, 1, 0},
	{"model-graded-closedqa", scoring.Spec{Type: "model-graded-closedqa", Value: "states a number of days"}, 1, 0},
	// g-eval asks for the steps, then for the rating, per criterion; given
	// steps save the first request.
	{"g-eval", scoring.Spec{Type: "g-eval", Value: "mentions the days"}, 2, 0},
	{"g-eval criteria list", scoring.Spec{Type: "g-eval", Value: []any{"mentions the days", "is polite"}}, 4, 0},
	{"g-eval with steps", scoring.Spec{Type: "g-eval", Value: map[string]any{"criteria": "mentions the days", "steps": []any{"Find the number of days."}}}, 1, 0},
	// answer-relevance asks for questions, then embeds them with the
	// case's question.
	{"answer-relevance", scoring.Spec{Type: "answer-relevance"}, 1, 1},
	{"similar", scoring.Spec{Type: "similar", Value: "30 days"}, 0, 1},
}

// judgeSuite is one suite whose cases each hold one of specs, asked the
// same question.
func judgeSuite(t *testing.T, repeats int, specs ...scoring.Spec) *evals.Suite {
	t.Helper()
	s := &evals.Suite{Name: "graded", Repeats: repeats}
	for i, sp := range specs {
		sp.Weight = 1
		a, err := scoring.Compile(sp)
		if err != nil {
			t.Fatalf("compile %s: %v", sp.Type, err)
		}
		s.Cases = append(s.Cases, evals.Case{
			ID:       sp.Type + string(rune('a'+i)),
			Messages: []evals.Message{{Role: "system", Content: "Answer briefly."}, {Role: "user", Content: "How long do I have to return an item?"}},
			Asserts:  []scoring.Assertion{a},
		})
	}
	return s
}

// TestEstimateJudgeRequests: the estimate counts every request of each
// graded type's flow, per sample and repeat: g-eval's two per criterion
// (one with steps given), answer-relevance's chat and embedding, one for
// the others; and the recording judge's reply lets every type reach a
// grade, so that no flow stops early.
func TestEstimateJudgeRequests(t *testing.T) {
	const repeats = 3
	covered := map[string]bool{}
	for _, tc := range gradedSpecs {
		t.Run(tc.name, func(t *testing.T) {
			covered[strings.TrimPrefix(tc.spec.Type, "not-")] = true
			s := judgeSuite(t, repeats, tc.spec)
			e := estimateJudge(context.Background(), configs.Target{Name: "j"}, []*evals.Suite{s, s}, repeats, 50)
			want := 2 * repeats // two arms
			if e.Requests != (tc.chats+tc.embeds)*want || e.EmbeddingRequests != tc.embeds*want {
				t.Errorf("requests = %d (%d embeddings), want %d (%d)", e.Requests, e.EmbeddingRequests, (tc.chats+tc.embeds)*want, tc.embeds*want)
			}
			if got := e.CompletionTokens; got != int64(tc.chats*want*DefaultJudgeCompletionTokens) {
				t.Errorf("completion tokens = %d, want %d chats x %d", got, tc.chats*want, DefaultJudgeCompletionTokens)
			}
			if (e.EmbeddingTokens > 0) != (tc.embeds > 0) || e.EmbeddingTokens > e.PromptTokens {
				t.Errorf("embedding tokens = %d of %d prompt tokens, want some only with embeddings", e.EmbeddingTokens, e.PromptTokens)
			}
			g := s.Cases[0].Asserts[0].(scoring.Graded)
			rec := &recordingJudge{reply: estimateReply(DefaultJudgeCompletionTokens * CharsPerToken)}
			if r := g.Grade(context.Background(), rec, scoring.Output{Text: "You have 30 days.", Input: "How long?"}); r.Missing {
				t.Errorf("grade against the recording judge is missing (%s): its reply no longer reads as a verdict", r.Reason)
			}
		})
	}
	// Every graded type is in the table: a new one must be counted too.
	for _, typ := range scoring.Types() {
		for _, v := range []any{nil, "text"} {
			a, err := scoring.Compile(scoring.Spec{Type: typ, Value: v, Weight: 1})
			if _, graded := a.(scoring.Graded); err == nil && graded && !covered[typ] {
				t.Errorf("graded type %s has no case in gradedSpecs", typ)
			}
		}
	}
}

// TestEstimateJudgeAnswerLength: the judge answers that a later request
// carries (g-eval's steps in its rating prompt, answer-relevance's
// questions in its embedding request) count at the assumed verdict
// length, which a judge's lower max_tokens shortens; other prompts do not
// depend on it.
func TestEstimateJudgeAnswerLength(t *testing.T) {
	at := func(spec scoring.Spec, maxTokens int) *JudgeEstimate {
		s := judgeSuite(t, 1, spec)
		jt := configs.Target{Name: "j", Params: configs.Params{MaxTokens: &maxTokens}}
		return estimateJudge(context.Background(), jt, []*evals.Suite{s}, 1, 50)
	}
	const short = 20
	grow := DefaultJudgeCompletionTokens - short
	for _, tc := range gradedSpecs {
		full, less := at(tc.spec, 1000), at(tc.spec, short)
		if less.CompletionPerRequest != short || full.CompletionPerRequest != DefaultJudgeCompletionTokens {
			t.Fatalf("%s: completion per request %d and %d, want %d and %d", tc.name, full.CompletionPerRequest, less.CompletionPerRequest, DefaultJudgeCompletionTokens, short)
		}
		carried := 0 // requests that carry an earlier answer
		switch tc.name {
		case "g-eval", "answer-relevance":
			carried = 1
		case "g-eval criteria list":
			carried = 2
		}
		// Within a few tokens a request: answers are split into steps or
		// questions, each rounded.
		diff := int(full.PromptTokens - less.PromptTokens)
		if lo, hi := carried*grow-3*carried, carried*grow+3*carried; diff < lo || diff > hi {
			t.Errorf("%s: prompt tokens %d at the default answer length, %d at max_tokens %d: differ by %d, want %d to %d",
				tc.name, full.PromptTokens, less.PromptTokens, short, diff, lo, hi)
		}
	}
}

// TestEstimateJudgeMatchesRun: for a suite with every graded type, the
// estimate's judge requests are those a run against the simulator (which
// answers the layouts of llm-rubric, g-eval and answer-relevance) sends,
// chat and embedding apart, without the grade cache (which the estimate
// does not subtract); and its prompt tokens, which count the judge's
// steps and questions at the assumed answer length, are not below what the
// judge counted.
func TestEstimateJudgeMatchesRun(t *testing.T) {
	var mu sync.Mutex
	chats, embeds := 0, 0
	url := simURL(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var req struct {
				Model string `json:"model"`
			}
			_ = json.Unmarshal(body, &req)
			mu.Lock()
			switch {
			case strings.HasSuffix(r.URL.Path, "/embeddings"):
				embeds++
			case req.Model == "sim-judge":
				chats++
			}
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	dir := t.TempDir()
	targets := testfiles.JudgeTargets{ProdURL: url, GraderURL: url, Prod: "params: {max_tokens: 16}", Grader: "retries: 0"}
	testfiles.Write(t, dir, "evald.yaml", targets.YAML()+`suites:
  - file: suites/graded.yaml
    targets: [prod]
`)
	testfiles.Write(t, dir, "suites/graded.yaml", `name: graded
repeats: 2
prompt:
`+testfiles.RefundPrompt+`defaultTest:
  vars: {question: "What is the refund window to return an item?"}
tests:
  - id: rubric
    assert: [{type: llm-rubric, value: mentions the days to return}]
  - id: not-rubric
    assert: [{type: not-llm-rubric, value: mentions warranty terms}]
  - id: factuality
    assert: [{type: factuality, value: you have 30 days to return an item}]
  - id: model-graded-factuality
    assert: [{type: model-graded-factuality, value: you have 30 days}]
  - id: closedqa
    assert: [{type: model-graded-closedqa, value: states a number of days}]
  - id: geval
    assert: [{type: g-eval, value: mentions the days to return}]
  - id: geval-list
    assert: [{type: g-eval, value: [mentions the days, mentions the item]}]
  - id: geval-steps
    assert:
      - type: g-eval
        value:
          criteria: mentions the days
          steps: ["Find the number of days."]
  - id: relevance
    assert: [{type: answer-relevance}]
  - id: similar
    assert: [{type: similar, value: you have 30 days to return an item, threshold: 0.5}]
  - id: several
    assert:
      - {type: llm-rubric, value: mentions the days}
      - {type: g-eval, value: mentions the item}
      - {type: answer-relevance, value: "How long is the refund window?"}
`)
	proj, err := configs.Load(filepath.Join(dir, "evald.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := gateDaemon(t, proj)
	d.grades = nil // every grade asks the judge, as the estimate assumes
	ctx := context.Background()
	g := GateRequest{Suite: "graded", Target: "prod"}

	e, err := d.Estimate(ctx, g, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Evaluate(ctx, Request{Suite: "graded", Target: "prod", Trigger: TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	j := e.Judge
	mu.Lock()
	sentChats, sentEmbeds := chats, embeds
	mu.Unlock()
	// Per sample: 1+1+1+1+1 + 2+4+1 + 1 + 0 + (1+2+1) chats, 1 + 1 + 1
	// embeddings; two repeats.
	if want := 2 * 17; sentChats != want || sentEmbeds != 2*3 {
		t.Errorf("the run sent %d chats and %d embeddings, want %d and 6 (samples: %+v)", sentChats, sentEmbeds, want, res.Summary)
	}
	if j.Requests-j.EmbeddingRequests != sentChats || j.EmbeddingRequests != sentEmbeds {
		t.Errorf("estimate = %d requests (%d embeddings), the run sent %d chats and %d embeddings", j.Requests, j.EmbeddingRequests, sentChats, sentEmbeds)
	}
	promptTokens := int64(res.Summary.JudgePromptTokens)
	if j.PromptTokens < promptTokens || j.PromptTokens > 2*promptTokens {
		t.Errorf("estimated judge prompt tokens %d, the judge counted %d: want at least as many and at most twice", j.PromptTokens, promptTokens)
	}
	t.Logf("judge: %d requests (%d embeddings), estimated %d prompt tokens (%d embedding), the judge counted %d", j.Requests, j.EmbeddingRequests, j.PromptTokens, j.EmbeddingTokens, promptTokens)
}
