package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/sim"
)

// judgeServer is an httptest judge: chat completions answered by reply(n,
// req), n counting chat requests from 1, and embeddings from vecs.
type judgeServer struct {
	*httptest.Server
	chats, embeds atomic.Int64
}

func newJudgeServer(t testing.TB, reply func(n int, w http.ResponseWriter, req chatReq), vecs func(texts []string) [][]float64) *judgeServer {
	t.Helper()
	js := &judgeServer{}
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/v1/chat/completions":
			var req chatReq
			if err := json.Unmarshal(body, &req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			reply(int(js.chats.Add(1)), w, req)
		case "/v1/embeddings":
			js.embeds.Add(1)
			var req struct {
				Input []string `json:"input"`
				Model string   `json:"model"`
			}
			if err := json.Unmarshal(body, &req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var data []any
			for i, v := range vecs(req.Input) {
				data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": v})
			}
			json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
				"usage": map[string]any{"prompt_tokens": 3, "total_tokens": 3}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(js.Close)
	return js
}

func judgeOf(t testing.TB, url string, cache *GradeCache) *Judge {
	t.Helper()
	temp, seed := 0.0, 1
	ct := configs.Target{Name: "judge", BaseURL: url + "/v1", Model: "judge-model", Params: configs.Params{Temperature: &temp, Seed: &seed}}
	p, err := NewOpenAI(ct, "sk-judge-secret", nil)
	if err != nil {
		t.Fatalf("NewOpenAI: %v", err)
	}
	return &Judge{Name: ct.Name, Version: ct.Version(), Provider: p, Gate: NewGate(2, 0), Timeout: 5 * time.Second, Retries: 2,
		Price: configs.Price{InputPerMTok: 10, OutputPerMTok: 20}, Cache: cache}
}

// gradedSuite has n cases, each with one assertion compiled from spec.
func gradedSuite(t testing.TB, n int, spec scoring.Spec) *evals.Suite {
	t.Helper()
	a, err := scoring.Compile(spec)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	s := &evals.Suite{Name: "g", Repeats: 1}
	for i := range n {
		s.Cases = append(s.Cases, evals.Case{
			ID:       fmt.Sprintf("case-%d", i),
			Messages: []evals.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: fmt.Sprintf("q%d", i)}},
			Asserts:  []scoring.Assertion{a},
		})
	}
	return s
}

// tested answers every chat request with "yes" (10 prompt, 4 completion tokens).
func tested(t testing.TB) Target {
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		io.WriteString(w, completion("yes", "gpt-test-2026", "fp_a", "stop"))
	})
	return target(t, srv.URL, nil)
}

var rubric = scoring.Spec{Type: "llm-rubric", Value: "answers yes", Weight: 1}

func TestJudgeGradesAndCountsApart(t *testing.T) {
	var judgeReqs []chatReq
	js := newJudgeServer(t, func(n int, w http.ResponseWriter, req chatReq) {
		judgeReqs = append(judgeReqs, req)
		io.WriteString(w, completion(`{"reason":"ok","pass":true,"score":0.8}`, "judge-2026-01", "fp_j", "stop"))
	}, nil)
	tg := tested(t)
	tg.Judge = judgeOf(t, js.URL, nil)
	tg.Judge.Gate = NewGate(1, 0) // serial, so judgeReqs needs no lock
	sum, samples := collect(t, context.Background(), gradedSuite(t, 3, rubric), tg, fast)

	if got, want := sum.PassRate, 1.0; got != want {
		t.Errorf("PassRate = %v, want %v", got, want)
	}
	if got, want := sum.MeanScore, 0.8; !near(got, want) {
		t.Errorf("MeanScore = %v, want %v", got, want)
	}
	for _, s := range samples {
		if s.JudgeModel != "judge-2026-01" || s.JudgeFingerprint != "fp_j" || s.JudgeCalls != 1 {
			t.Errorf("sample %s: judge model %q, fingerprint %q, calls %d; want judge-2026-01, fp_j, 1", s.CaseID, s.JudgeModel, s.JudgeFingerprint, s.JudgeCalls)
		}
		if s.Model != "gpt-test-2026" {
			t.Errorf("sample %s: Model = %q, want the tested model's", s.CaseID, s.Model)
		}
	}
	// The tested model: 3 × (10×1 + 4×2) µ$; the judge: 3 × (10×10 + 4×20) µ$.
	if got, want := sum.CostUSD, 3*(10*1+4*2)/1e6; !near(got, want) {
		t.Errorf("CostUSD = %v, want %v (the tested model only)", got, want)
	}
	if got, want := sum.JudgeCostUSD, 3*(10*10+4*20)/1e6; !near(got, want) {
		t.Errorf("JudgeCostUSD = %v, want %v", got, want)
	}
	if got, want := sum.PromptTokens, int64(30); got != want {
		t.Errorf("PromptTokens = %d, want %d", got, want)
	}
	if got, want := sum.JudgePromptTokens, int64(30); got != want {
		t.Errorf("JudgePromptTokens = %d, want %d", got, want)
	}
	if got, want := sum.JudgeModels["judge-2026-01"], 3; got != want {
		t.Errorf("JudgeModels = %v, want 3 × judge-2026-01", sum.JudgeModels)
	}
	r := judgeReqs[0]
	if r.Model != "judge-model" || r.Seed == nil || *r.Seed != 1 {
		t.Errorf("judge request = %+v, want model judge-model, seed 1", r)
	}
	if got := r.Messages[1].Content; !strings.Contains(got, "<Output>\nyes\n</Output>") || !strings.Contains(got, "answers yes") {
		t.Errorf("judge prompt = %q, want the output and the rubric", got)
	}
}

func TestJudgeRetriesAndFailures(t *testing.T) {
	fail500 := func(w http.ResponseWriter) {
		w.WriteHeader(500)
		io.WriteString(w, `{"error":{"message":"judge down"}}`)
	}
	for _, tc := range []struct {
		name      string
		reply     func(n int, w http.ResponseWriter)
		wantClass string
		wantCalls int
		wantText  string
	}{
		{"500 then ok", func(n int, w http.ResponseWriter) {
			if n == 1 {
				fail500(w)
				return
			}
			io.WriteString(w, completion(`{"pass":true,"score":1}`, "j", "", "stop"))
		}, "", 2, ""},
		{"500 beyond retries", func(n int, w http.ResponseWriter) { fail500(w) }, ClassJudgeError, 3, "judge down"},
		{"401 not retried", func(n int, w http.ResponseWriter) {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"message":"bad key"}}`)
		}, ClassJudgeError, 1, "bad key"},
		{"prose is unparseable", func(n int, w http.ResponseWriter) {
			io.WriteString(w, completion("I'd say it is fine, mostly.", "j", "", "stop"))
		}, ClassJudgeUnparseable, 1, `I'd say it is fine, mostly.`},
		{"free-text FAIL is a grade", func(n int, w http.ResponseWriter) {
			io.WriteString(w, completion("Verdict: FAIL", "j", "", "stop"))
		}, "", 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := newJudgeServer(t, func(n int, w http.ResponseWriter, _ chatReq) { tc.reply(n, w) }, nil)
			tg := tested(t)
			tg.Judge = judgeOf(t, js.URL, nil)
			sum, samples := collect(t, context.Background(), gradedSuite(t, 1, rubric), tg, fast)
			s := samples[0]
			if got, want := s.ErrClass, tc.wantClass; got != want {
				t.Fatalf("ErrClass = %q (%s), want %q", got, s.ErrText, want)
			}
			if got, want := s.JudgeCalls, tc.wantCalls; got != want {
				t.Errorf("JudgeCalls = %d, want %d", got, want)
			}
			if !strings.Contains(s.ErrText, tc.wantText) {
				t.Errorf("ErrText = %q, want it to keep %q", s.ErrText, tc.wantText)
			}
			if strings.Contains(s.ErrText, "sk-judge-secret") {
				t.Errorf("ErrText leaks the judge's key: %q", s.ErrText)
			}
			if tc.wantClass != "" {
				if s.Valid() || sum.Errors != 1 || sum.ValidCases != 0 {
					t.Errorf("a missing grade must be a missing sample: valid %v, Errors %d, ValidCases %d", s.Valid(), sum.Errors, sum.ValidCases)
				}
			}
		})
	}
}

func TestJudgeCache(t *testing.T) {
	unreadable := atomic.Bool{}
	js := newJudgeServer(t, func(n int, w http.ResponseWriter, _ chatReq) {
		if unreadable.Load() {
			io.WriteString(w, completion("hmm", "j", "", "stop"))
			return
		}
		io.WriteString(w, completion(`{"pass":true,"score":1}`, "j", "fp_j", "stop"))
	}, nil)
	cache := NewGradeCache(100)
	tg := tested(t)
	tg.Judge = judgeOf(t, js.URL, cache)
	suite := gradedSuite(t, 2, rubric) // both cases answer "yes": one grade request

	first, _ := collect(t, context.Background(), suite, tg, fast)
	second, samples := collect(t, context.Background(), suite, tg, fast)
	if got := js.chats.Load(); got > 2 {
		t.Errorf("judge requests = %d, want at most 2 (the second run is served from the cache)", got)
	}
	if first.JudgeCostUSD == 0 || second.JudgeCostUSD != 0 {
		t.Errorf("JudgeCostUSD = %v then %v, want > 0 then 0", first.JudgeCostUSD, second.JudgeCostUSD)
	}
	if got, want := second.JudgeCacheHits, 2; got != want {
		t.Errorf("second run JudgeCacheHits = %d, want %d", got, want)
	}
	if s := samples[0]; !s.Pass || s.JudgeFingerprint != "fp_j" || s.JudgeCalls != 0 {
		t.Errorf("cached sample = pass %v, fingerprint %q, calls %d; want a pass from fp_j with no call", s.Pass, s.JudgeFingerprint, s.JudgeCalls)
	}

	// Another judge version does not share the grades.
	tg.Judge.Version = "other"
	before := js.chats.Load()
	collect(t, context.Background(), suite, tg, fast)
	if js.chats.Load() == before {
		t.Errorf("a new judge version was served from the old version's cache")
	}

	// An unreadable answer is not cached: the next run asks again.
	tg.Judge.Version = "third"
	unreadable.Store(true)
	tg.Judge.Gate = NewGate(1, 0)
	collect(t, context.Background(), gradedSuite(t, 1, rubric), tg, fast)
	before = js.chats.Load()
	collect(t, context.Background(), gradedSuite(t, 1, rubric), tg, fast)
	if got := js.chats.Load() - before; got != 1 {
		t.Errorf("judge requests after an unreadable answer = %d, want 1 (not cached)", got)
	}
}

func TestGradeCacheBound(t *testing.T) {
	c := NewGradeCache(2)
	c.put("a", "f", judged{resp: Response{Text: "a"}})
	c.put("b", "f", judged{resp: Response{Text: "b"}})
	c.get(context.Background(), "a", "f") // b is now the least recently used
	c.put("c", "f", judged{resp: Response{Text: "c"}})
	if _, ok, _, _ := c.get(context.Background(), "b", "f"); ok {
		t.Errorf("get(b) found an entry, want it evicted")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok, _, _ := c.get(context.Background(), k, "f"); !ok {
			t.Errorf("get(%s) missed, want a hit", k)
		}
	}
	if got, want := c.Len(), 2; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
}

// TestGradeCacheProbesTheJudge: a judge that changed behind its name is not
// hidden by the cache. Within the probe interval a second run is graded
// from the cache; after it, the first request goes to the judge, sees the
// new identity, and the old answers are dropped, so the run is graded by
// the judge as it is now.
func TestGradeCacheProbesTheJudge(t *testing.T) {
	var changed atomic.Bool
	js := newJudgeServer(t, func(n int, w http.ResponseWriter, _ chatReq) {
		if changed.Load() {
			io.WriteString(w, completion(`{"reason":"stricter now","pass":false,"score":0.2}`, "judge-2026-02", "fp_new", "stop"))
			return
		}
		io.WriteString(w, completion(`{"reason":"ok","pass":true,"score":1}`, "judge-2026-01", "fp_old", "stop"))
	}, nil)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	cache := NewGradeCache(100).WithProbe(10*time.Minute, func() time.Time { return now })
	// The tested model repeats the question: three distinct outputs, the
	// same every run.
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		io.WriteString(w, completion("about "+req.Messages[len(req.Messages)-1].Content, "gpt-test-2026", "fp_a", "stop"))
	})
	tg := target(t, srv.URL, nil)
	tg.Judge = judgeOf(t, js.URL, cache)
	tg.Judge.Gate = NewGate(1, 0) // one request at a time: the probe goes first
	suite := gradedSuite(t, 3, rubric)

	first, _ := collect(t, context.Background(), suite, tg, fast)
	if first.PassRate != 1 || js.chats.Load() != 3 {
		t.Fatalf("first run: pass rate %v, %d judge requests; want 1 and 3", first.PassRate, js.chats.Load())
	}
	changed.Store(true)
	now = now.Add(5 * time.Minute)
	second, _ := collect(t, context.Background(), suite, tg, fast)
	if second.PassRate != 1 || js.chats.Load() != 3 {
		t.Errorf("within the probe interval: pass rate %v, %d judge requests; want the cached grades (1, 3)", second.PassRate, js.chats.Load())
	}
	now = now.Add(10 * time.Minute)
	third, samples := collect(t, context.Background(), suite, tg, fast)
	if third.PassRate != 0 || js.chats.Load() != 6 {
		t.Errorf("after the probe interval: pass rate %v, %d judge requests; want the new judge's grades (0, 6)", third.PassRate, js.chats.Load())
	}
	for _, s := range samples {
		if s.JudgeFingerprint != "fp_new" {
			t.Errorf("sample %s graded by fingerprint %q, want fp_new", s.CaseID, s.JudgeFingerprint)
		}
	}
}

func TestJudgeWithoutJudgeIsMissing(t *testing.T) {
	sum, samples := collect(t, context.Background(), gradedSuite(t, 1, rubric), tested(t), fast)
	if s := samples[0]; s.ErrClass != ClassJudgeError || !strings.Contains(s.ErrText, "no judge") {
		t.Errorf("sample = %q %q, want %s saying there is no judge", s.ErrClass, s.ErrText, ClassJudgeError)
	}
	if sum.ValidCases != 0 {
		t.Errorf("ValidCases = %d, want 0", sum.ValidCases)
	}
}

func TestSimilarThroughEmbeddings(t *testing.T) {
	js := newJudgeServer(t, nil, func(texts []string) [][]float64 {
		out := make([][]float64, len(texts))
		for i, s := range texts {
			if strings.Contains(s, "yes") {
				out[i] = []float64{1, 0.1}
			} else {
				out[i] = []float64{0, 1}
			}
		}
		return out
	})
	tg := tested(t)
	tg.Judge = judgeOf(t, js.URL, nil)
	for _, tc := range []struct {
		value string
		pass  bool
	}{{"yes indeed", true}, {"no way", false}} {
		_, samples := collect(t, context.Background(), gradedSuite(t, 1, scoring.Spec{Type: "similar", Value: tc.value, Weight: 1}), tg, fast)
		s := samples[0]
		if s.ErrClass != "" || s.Pass != tc.pass {
			t.Errorf("similar(%q) = pass %v (%s %s), want %v", tc.value, s.Pass, s.ErrClass, s.ErrText, tc.pass)
		}
		if s.JudgeModel != DefaultEmbeddingModel || s.JudgePromptTokens != 3 {
			t.Errorf("similar(%q): judge model %q, tokens %d; want %s, 3", tc.value, s.JudgeModel, s.JudgePromptTokens, DefaultEmbeddingModel)
		}
	}
}

// TestSimAsJudge: evald's simulator grades llm-rubric, factuality and
// closed QA with evald's own prompts, and embeds for similar.
func TestSimAsJudge(t *testing.T) {
	h := sim.New(sim.Options{WrongRate: -1})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	tg := tested(t)
	tg.Judge = judgeOf(t, srv.URL, NewGradeCache(0))
	for _, tc := range []struct {
		spec scoring.Spec
		pass bool
	}{
		{scoring.Spec{Type: "llm-rubric", Value: "says yes", Weight: 1}, true},
		{scoring.Spec{Type: "llm-rubric", Value: "mentions refunds", Weight: 1}, false},
		{scoring.Spec{Type: "similar", Value: "yes", Weight: 1}, true},
		{scoring.Spec{Type: "not-similar", Value: "yes", Weight: 1}, false},
		{scoring.Spec{Type: "factuality", Value: "yes", Weight: 1}, true},         // C: the same
		{scoring.Spec{Type: "factuality", Value: "yes indeed", Weight: 1}, true},  // A: a subset
		{scoring.Spec{Type: "factuality", Value: "no refunds", Weight: 1}, false}, // D: a disagreement
		{scoring.Spec{Type: "model-graded-closedqa", Value: "says yes", Weight: 1}, true},
		{scoring.Spec{Type: "model-graded-closedqa", Value: "mentions refunds", Weight: 1}, false},
	} {
		_, samples := collect(t, context.Background(), gradedSuite(t, 1, tc.spec), tg, fast)
		s := samples[0]
		if s.ErrClass != "" || s.Pass != tc.pass {
			t.Errorf("%s %v: pass %v (%s %s), want %v", tc.spec.Type, tc.spec.Value, s.Pass, s.ErrClass, s.ErrText, tc.pass)
		}
		if s.JudgeModel == "" {
			t.Errorf("%s: no judge model recorded", tc.spec.Type)
		}
	}
}

// TestGradeCacheDropsOnAnyNewIdentity: a judge version paid often is never
// due a probe, so any paid answer from a new identity drops the old grades.
func TestGradeCacheDropsOnAnyNewIdentity(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	c := NewGradeCache(10).WithProbe(10*time.Minute, func() time.Time { return now })
	ctx := context.Background()
	c.get(ctx, "stable", "f") // the first request of a family is a probe
	c.put("stable", "f", judged{resp: Response{Text: "old", Model: "judge-old"}})
	c.release("f")
	for i := range 10 { // a miss every five minutes, answered by the new judge
		now = now.Add(5 * time.Minute)
		key := fmt.Sprintf("new-%d", i)
		_, _, probe, _ := c.get(ctx, key, "f")
		c.put(key, "f", judged{resp: Response{Text: "new", Model: "judge-new"}})
		if probe {
			c.release("f")
		}
	}
	if v, ok, _, _ := c.get(ctx, "stable", "f"); ok {
		t.Errorf("stable key still served %q from the old judge", v.resp.Text)
	}
}
