package runner

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

// regradeCases is one case graded by llm-rubric and by a contains check.
func regradeCases(t testing.TB) []evals.Case {
	t.Helper()
	a, err := scoring.Compile(rubric)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return []evals.Case{{
		ID:       "c",
		Messages: []evals.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "say yes"}},
		Asserts:  []scoring.Assertion{a, containsAssert{want: "yes"}},
	}}
}

func storedOutputs(n int, text string) []StoredOutput {
	out := make([]StoredOutput, n)
	for i := range out {
		out[i] = StoredOutput{CaseIndex: 0, Repeat: i, Text: text}
	}
	return out
}

// TestRegradeAsksTheJudgeAgain: the grades of a run are in the cache, yet a
// regrade sends every request again and leaves the cache as it was.
func TestRegradeAsksTheJudgeAgain(t *testing.T) {
	js := newJudgeServer(t, func(n int, w http.ResponseWriter, _ chatReq) {
		io.WriteString(w, completion(`{"reason":"ok","pass":true,"score":1}`, "judge-2026-02", "fp_j", "stop"))
	}, nil)
	cache := NewGradeCache(100)
	tg := tested(t)
	tg.Judge = judgeOf(t, js.URL, cache)
	collect(t, context.Background(), gradedSuite(t, 1, rubric), tg, fast)
	cached := cache.Len()

	cases := regradeCases(t)
	// The run's requests and the regrade's differ only in the graded case;
	// the point is that the same output twice is asked twice.
	res, err := Regrade(context.Background(), tg.Judge, cases, storedOutputs(3, "yes"), fast)
	if err != nil {
		t.Fatalf("Regrade: %v", err)
	}
	if got, want := js.chats.Load(), int64(1+3); got != want {
		t.Errorf("judge requests = %d, want %d (a regrade never answers from the cache)", got, want)
	}
	if got := cache.Len(); got != cached {
		t.Errorf("cache size after the regrade = %d, want %d (a regrade leaves the cache alone)", got, cached)
	}
	if res.Outcome != Completed || res.Graded != 3 || res.Missing != 0 {
		t.Errorf("Regrade = outcome %s, graded %d, missing %d; want completed, 3, 0", res.Outcome, res.Graded, res.Missing)
	}
	for i, s := range res.Samples {
		if !s.Valid() || !s.Pass || len(s.Results) != 2 || s.Repeat != i || s.CaseID != "c" {
			t.Errorf("sample %d = %+v, want a pass of case c repeat %d with 2 results", i, s, i)
		}
		if s.JudgeModel != "judge-2026-02" || s.JudgeFingerprint != "fp_j" || s.JudgeCalls != 1 || s.JudgeCacheHits != 0 || s.JudgeCostUSD <= 0 {
			t.Errorf("sample %d judge part = %q %q calls %d hits %d cost %v; want the judge's identity, one paid call",
				i, s.JudgeModel, s.JudgeFingerprint, s.JudgeCalls, s.JudgeCacheHits, s.JudgeCostUSD)
		}
	}

	// The deterministic assertions are recomputed on the stored text.
	res, err = Regrade(context.Background(), tg.Judge, cases, storedOutputs(1, "no"), fast)
	if err != nil {
		t.Fatalf("Regrade: %v", err)
	}
	if s := res.Samples[0]; s.Pass || s.Results[1].Pass {
		t.Errorf("regrade of %q = pass %v, contains %v; want the contains check to fail", "no", s.Pass, s.Results[1].Pass)
	}
}

func TestRegradeMissingGrades(t *testing.T) {
	for _, tc := range []struct {
		name        string
		garbage     func(n int) bool
		wantMissing int
		want        Outcome
	}{
		{"one unreadable reply is within the budget", func(n int) bool { return n == 1 }, 1, Completed},
		{"every reply unreadable is errored", func(int) bool { return true }, 12, Errored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := newJudgeServer(t, func(n int, w http.ResponseWriter, _ chatReq) {
				if tc.garbage(n) {
					io.WriteString(w, completion("I would rather not say.", "j", "", "stop"))
					return
				}
				io.WriteString(w, completion(`{"pass":true,"score":1}`, "j", "", "stop"))
			}, nil)
			res, err := Regrade(context.Background(), judgeOf(t, js.URL, nil), regradeCases(t), storedOutputs(12, "yes"), fast)
			if err != nil {
				t.Fatalf("Regrade: %v", err)
			}
			if res.Outcome != tc.want || res.Missing != tc.wantMissing || res.Graded != 12 {
				t.Fatalf("Regrade = %s, missing %d, graded %d; want %s, %d, 12", res.Outcome, res.Missing, res.Graded, tc.want, tc.wantMissing)
			}
			for _, s := range res.Samples {
				if s.Valid() {
					continue
				}
				if s.ErrClass != ClassJudgeUnparseable || !strings.Contains(s.ErrText, "rather not say") {
					t.Errorf("missing sample = %s %q, want %s quoting the reply", s.ErrClass, s.ErrText, ClassJudgeUnparseable)
				}
			}
		})
	}
}

// TestRegradeCancel: stopped on its third judge request, a regrade returns
// the two outputs already graded and marks the rest canceled.
func TestRegradeCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	js := newJudgeServer(t, func(n int, w http.ResponseWriter, _ chatReq) {
		if n >= 3 {
			cancel()
			return // the client has given up on this answer
		}
		io.WriteString(w, completion(`{"pass":true,"score":1}`, "j", "", "stop"))
	}, nil)
	j := judgeOf(t, js.URL, nil)
	j.Gate = NewGate(1, 0) // one output at a time: the first two are done
	res, err := Regrade(ctx, j, regradeCases(t), storedOutputs(6, "yes"), fast)
	if err != nil {
		t.Fatalf("Regrade: %v", err)
	}
	if res.Outcome != Interrupted || res.Graded != 2 || res.Missing != 0 {
		t.Fatalf("Regrade = %s, graded %d, missing %d; want interrupted, 2, 0", res.Outcome, res.Graded, res.Missing)
	}
	for i, s := range res.Samples {
		if done := i < 2; done != (s.ErrClass != ClassCanceled) {
			t.Errorf("sample %d class %q: want the first two graded and the rest %s", i, s.ErrClass, ClassCanceled)
		}
	}
}

func TestRegradeConcurrencyAndRefusals(t *testing.T) {
	var (
		mu             sync.Mutex
		inFlight, peak int
	)
	js := newJudgeServer(t, func(n int, w http.ResponseWriter, _ chatReq) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		io.WriteString(w, completion(`{"pass":true,"score":1}`, "j", "", "stop"))
	}, nil)
	j := judgeOf(t, js.URL, nil)
	j.Gate = NewGate(2, 0)
	outs := storedOutputs(20, "yes")
	outs[3].Refused = true
	res, err := Regrade(context.Background(), j, regradeCases(t), outs, fast)
	if err != nil {
		t.Fatalf("Regrade: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if peak > 2 {
		t.Errorf("judge requests in flight peaked at %d, want at most the gate's 2", peak)
	}
	if s := res.Samples[3]; s.ErrClass != ClassRefused || !s.Valid() || !s.Pass {
		t.Errorf("refused output regraded as %q valid %v pass %v, want a scored refusal", s.ErrClass, s.Valid(), s.Pass)
	}
}

func TestRegradeMisuse(t *testing.T) {
	js := newJudgeServer(t, func(int, http.ResponseWriter, chatReq) {}, nil)
	if _, err := Regrade(context.Background(), nil, regradeCases(t), storedOutputs(1, "yes"), fast); err == nil {
		t.Errorf("Regrade without a judge = nil error")
	}
	outs := []StoredOutput{{CaseIndex: 1, Text: "yes", Latency: time.Millisecond}}
	if _, err := Regrade(context.Background(), judgeOf(t, js.URL, nil), regradeCases(t), outs, fast); err == nil {
		t.Errorf("Regrade of an output naming no case = nil error")
	}
}
