package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/store"
)

// judgeProject writes a config whose suite is graded by llm-rubric and
// similar, with the simulator both answering (target prod) and judging
// (target grader, which sets no temperature or seed).
func judgeProject(t testing.TB, baseURL string) *configs.Project {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) { testfiles.Write(t, dir, name, body) }
	targets := testfiles.JudgeTargets{ProdURL: baseURL, GraderURL: baseURL, Prod: "params: {temperature: 0.7}", Grader: "retries: 1"}
	write("evald.yaml", targets.YAML()+`suites:
  - file: suites/refunds.yaml
    targets: [prod]
`)
	write("suites/refunds.yaml", `name: refunds
prompt:
`+testfiles.RefundPrompt+`tests:
  - id: window
    vars: {question: "What is the refund window to return an item?"}
    assert:
      - type: llm-rubric
        value: mentions the days to return
  - id: warranty
    vars: {question: "How long do I have to return an item?"}
    assert:
      - type: llm-rubric
        value: mentions warranty coverage terms
  - id: similar
    vars: {question: "Can I return an item?"}
    assert:
      - type: similar
        value: you have 30 days to return an item
        threshold: 0.5
thresholds:
  pass_rate: 0.5
`)
	proj, err := configs.Load(filepath.Join(dir, "evald.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return proj
}

func TestEvaluateWithJudge(t *testing.T) {
	var mu sync.Mutex
	var judgeReqs []map[string]any
	url := simURL(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var req map[string]any
			if json.Unmarshal(body, &req) == nil && req["model"] == "sim-judge" {
				mu.Lock()
				judgeReqs = append(judgeReqs, req)
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
	d, st := gateDaemon(t, judgeProject(t, url))
	ctx := context.Background()

	detail := func(t *testing.T) (*Result, Detail) {
		t.Helper()
		res, err := d.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerManual})
		if err != nil {
			t.Fatalf("Evaluate: %v", err)
		}
		run, err := st.Run(ctx, res.Run.ID)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		var det Detail
		if err := json.Unmarshal([]byte(run.Detail), &det); err != nil {
			t.Fatalf("run detail: %v", err)
		}
		return res, det
	}

	res, det := detail(t)
	if got, want := res.Run.Status, store.StatusPassed; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if got, want := len(res.FailedCases), 1; got != want || res.FailedCases[0].ID != "warranty" {
		t.Errorf("failed cases = %+v, want only warranty", res.FailedCases)
	}
	if res.Summary.Errors != 0 {
		t.Errorf("errors = %v, want none", res.Summary.ErrorsByClass)
	}
	j := det.Judge
	if j == nil || j.Target != "grader" || len(j.Models) == 0 || j.CostUSD <= 0 || j.PromptTokens == 0 {
		t.Fatalf("detail.judge = %+v, want the grader's models, tokens and cost", j)
	}
	samples, err := st.Samples(ctx, res.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sampleCost float64
	for _, sm := range samples {
		sampleCost += sm.JudgeCostUSD
		if sm.CaseID == "window" && (sm.JudgeModel == "" || sm.JudgeFingerprint == "" || sm.JudgePromptTokens == 0 || sm.JudgeCompletionTokens == 0) {
			t.Errorf("stored sample %s: judge %q %q, %d+%d tokens; want the judge's identity and tokens", sm.CaseID, sm.JudgeModel, sm.JudgeFingerprint, sm.JudgePromptTokens, sm.JudgeCompletionTokens)
		}
	}
	if math.Abs(sampleCost-j.CostUSD) > 1e-12 {
		t.Errorf("stored samples' judge cost sums to %v, want the run's %v", sampleCost, j.CostUSD)
	}
	if res.Summary.CostUSD >= j.CostUSD {
		t.Errorf("tested cost %v >= judge cost %v: the judge's pricier tokens must not be in the tested model's cost", res.Summary.CostUSD, j.CostUSD)
	}
	mu.Lock()
	for _, r := range judgeReqs {
		if r["seed"] != float64(DefaultJudgeSeed) {
			t.Errorf("judge request seed = %v, want %d", r["seed"], DefaultJudgeSeed)
		}
		if temp, ok := r["temperature"].(float64); ok && temp > 1e-30 {
			t.Errorf("judge request temperature = %v, want ~0", temp)
		}
		if r["temperature"] == nil {
			t.Errorf("judge request has no temperature: %v", r)
		}
	}
	first := len(judgeReqs)
	mu.Unlock()
	if first != 2 {
		t.Errorf("judge chat requests = %d, want one per llm-rubric sample (2)", first)
	}

	// The same outputs again: the grades (2 chats, 1 embedding) come from
	// the cache, for free.
	res2, det2 := detail(t)
	mu.Lock()
	again := len(judgeReqs) - first
	mu.Unlock()
	if again != 0 || det2.Judge.CacheHits != 3 || det2.Judge.CostUSD != 0 {
		t.Errorf("second run: %d judge requests, %d cache hits, cost %v; want 0, 3, 0", again, det2.Judge.CacheHits, det2.Judge.CostUSD)
	}
	if res2.Summary.PassRate != res.Summary.PassRate {
		t.Errorf("second run pass rate = %v, want %v", res2.Summary.PassRate, res.Summary.PassRate)
	}
}

func TestJudgeTargetDefaults(t *testing.T) {
	temp, seed := 0.3, 9
	got := judgeTarget(configs.Target{Name: "j", Params: configs.Params{ResponseFormat: "json_object", Tools: []any{}}})
	if got.Params.Temperature == nil || *got.Params.Temperature != 0 || got.Params.Seed == nil || *got.Params.Seed != DefaultJudgeSeed {
		t.Errorf("judgeTarget(no params) = %+v, want temperature 0 and seed %d", got.Params, DefaultJudgeSeed)
	}
	if got.Params.ResponseFormat != nil || got.Params.Tools != nil {
		t.Errorf("judgeTarget kept response_format or tools: %+v", got.Params)
	}
	kept := judgeTarget(configs.Target{Name: "j", Params: configs.Params{Temperature: &temp, Seed: &seed}})
	if *kept.Params.Temperature != 0.3 || *kept.Params.Seed != 9 {
		t.Errorf("judgeTarget overrode the configured params: %+v", kept.Params)
	}
}

func TestEvaluateJudgeMissing(t *testing.T) {
	url := simURL(t, nil)
	proj := judgeProject(t, url)
	proj.Config.Judge = "" // as if configs had not refused it
	d, _ := gateDaemon(t, proj)
	_, err := d.Evaluate(context.Background(), Request{Suite: "refunds", Target: "prod", Trigger: TriggerManual})
	if err == nil || !strings.Contains(err.Error(), "no judge") {
		t.Errorf("Evaluate without a judge = %v, want an error saying there is no judge", err)
	}
	if !errors.Is(err, ErrNoJudge) {
		t.Errorf("Evaluate without a judge = %v, want it to wrap ErrNoJudge", err)
	}
}

// TestEvaluateJudgeKeyUnset: the judge's unset key is placed at its field
// and says it is the judge's.
func TestEvaluateJudgeKeyUnset(t *testing.T) {
	proj := judgeProject(t, simURL(t, nil))
	proj.Config.Targets[1].APIKeyEnv = "EVALD_TEST_UNSET_JUDGE_KEY"
	d := testDaemon(t, Options{Project: proj, Store: testStore(t), Getenv: func(string) string { return "" }})
	_, err := d.Evaluate(context.Background(), Request{Suite: "refunds", Target: "prod", Trigger: TriggerManual})
	want := proj.Config.File + ": targets[1].api_key_env: environment variable EVALD_TEST_UNSET_JUDGE_KEY is not set (the judge's key)"
	if !errors.Is(err, ErrSecret) || err.Error() != want {
		t.Errorf("Evaluate with the judge's key unset = %v, want ErrSecret %q", err, want)
	}
}

// TestEstimateWithJudge: the dry-run estimate counts the judge's requests
// and tokens apart, at the judge's price, without sending anything to it;
// once a run is stored, its judge prompt tokens are within 15 % of what
// the judge endpoint counted.
func TestEstimateWithJudge(t *testing.T) {
	var mu sync.Mutex
	sent := 0
	url := simURL(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			sent++
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	d, st := gateDaemon(t, judgeProject(t, url))
	ctx := context.Background()
	g := GateRequest{Suite: "refunds", Target: "prod"}
	e, err := d.Estimate(ctx, g, false)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if sent != 0 {
		t.Errorf("Estimate sent %d requests, want none", sent)
	}
	mu.Unlock()
	j := e.Judge
	// Two llm-rubric chats and one embedding request for similar.
	if j == nil || j.Target != "grader" || j.Requests != 3 || j.CompletionTokens != 2*DefaultJudgeCompletionTokens || j.PromptTokens == 0 {
		t.Fatalf("estimate.judge = %+v, want grader with 3 requests, 2 answers of %d tokens", j, DefaultJudgeCompletionTokens)
	}
	// The judge's price (100 and 200 per Mtok), not the tested model's.
	if want := float64(j.PromptTokens)*100/1e6 + float64(j.CompletionTokens)*200/1e6; math.Abs(j.CostUSD-want) > 1e-12 {
		t.Errorf("judge cost = %v, want %v at the judge's price", j.CostUSD, want)
	}
	if got, want := e.TotalUSD(), e.CostUSD+j.CostUSD; got != want || e.CostUSD <= 0 {
		t.Errorf("TotalUSD = %v, want %v (the run plus its judge)", got, want)
	}

	res, err := d.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerCI})
	if err != nil {
		t.Fatal(err)
	}
	run, err := st.Run(ctx, res.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	var det Detail
	if err := json.Unmarshal([]byte(run.Detail), &det); err != nil {
		t.Fatal(err)
	}
	if run.JudgeCostUSD != det.Judge.CostUSD || run.JudgeCostUSD <= 0 {
		t.Errorf("stored run judge cost = %v, want the detail's %v", run.JudgeCostUSD, det.Judge.CostUSD)
	}
	e, err = d.Estimate(ctx, g, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Judge.PromptTokens, det.Judge.PromptTokens; math.Abs(float64(got-want))/float64(want) > 0.15 {
		t.Errorf("estimated judge prompt tokens %d, the judge counted %d: more than 15%% off", got, want)
	}
}

// TestEstimateNoJudge: a suite without model-graded assertions has no
// judge estimate.
func TestEstimateNoJudge(t *testing.T) {
	proj, _ := gateProject(t, simURL(t, nil), 8, seq(0, 4))
	d, _ := gateDaemon(t, proj)
	e, err := d.Estimate(context.Background(), GateRequest{Suite: "facts", Target: "prod"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if e.Judge != nil || e.TotalUSD() != e.CostUSD {
		t.Errorf("estimate.judge = %+v, total %v; want none and the run's cost %v", e.Judge, e.TotalUSD(), e.CostUSD)
	}
}

// TestGradeProbeEvery: cached grades are trusted for GradeProbeEvery, then
// a run asks the judge again (a probe), so a changed judge shows.
func TestGradeProbeEvery(t *testing.T) {
	var judged atomic.Int64
	url := simURL(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var req map[string]any
			if strings.HasSuffix(r.URL.Path, "/chat/completions") && json.Unmarshal(body, &req) == nil && req["model"] == "sim-judge" {
				judged.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d := testDaemon(t, Options{Project: judgeProject(t, url), Store: testStore(t), Now: clock, GradeProbeEvery: time.Minute})
	requestsAfter := func(t *testing.T, wait time.Duration) int64 {
		t.Helper()
		mu.Lock()
		now = now.Add(wait)
		mu.Unlock()
		before := judged.Load()
		if _, err := d.Evaluate(context.Background(), Request{Suite: "refunds", Target: "prod", Trigger: TriggerManual}); err != nil {
			t.Fatalf("Evaluate: %v", err)
		}
		return judged.Load() - before
	}
	if got := requestsAfter(t, 0); got != 2 {
		t.Fatalf("first run: %d judge chat requests, want 2 (one per llm-rubric sample)", got)
	}
	if got := requestsAfter(t, 30*time.Second); got != 0 {
		t.Errorf("run 30s later: %d judge chat requests, want 0 (cached grades trusted for a minute)", got)
	}
	if got := requestsAfter(t, 2*time.Minute); got != 1 {
		t.Errorf("run 2m later: %d judge chat requests, want 1 (the probe; the judge is as it was)", got)
	}
}
