package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

// containsAssert is a minimal assertion so these tests do not depend on the
// scoring package's catalogue.
type containsAssert struct{ want string }

func (a containsAssert) Spec() scoring.Spec {
	return scoring.Spec{Type: "contains", Value: a.want, Weight: 1}
}
func (a containsAssert) Check(out scoring.Output) scoring.Result {
	ok := strings.Contains(out.Text, a.want)
	r := scoring.Result{Type: "contains", Pass: ok, Weight: 1}
	if ok {
		r.Score = 1
	}
	return r
}

func testSuite(n, repeats int) *evals.Suite {
	s := &evals.Suite{Name: "t", Repeats: repeats}
	for i := range n {
		s.Cases = append(s.Cases, evals.Case{
			ID:       fmt.Sprintf("case-%d", i),
			Messages: []evals.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: fmt.Sprintf("q%d", i)}},
			Asserts:  []scoring.Assertion{containsAssert{want: "yes"}},
		})
	}
	return s
}

type chatReq struct {
	Model          string            `json:"model"`
	Messages       []evals.Message   `json:"messages"`
	Temperature    *float64          `json:"temperature"`
	MaxTokens      int               `json:"max_tokens"`
	Seed           *int              `json:"seed"`
	ResponseFormat map[string]string `json:"response_format"`
}

func completion(content, model, fp, finish string) string {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
		"system_fingerprint": fp,
		"choices":            []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": finish}},
		"usage":              map[string]any{"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14},
	})
	return string(b)
}

// fakeOpenAI answers chat completions with reply(n, req), n counting requests from 1.
func fakeOpenAI(t testing.TB, reply func(n int, w http.ResponseWriter, r *http.Request, req chatReq)) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		var req chatReq
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		reply(int(n.Add(1)), w, r, req)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func target(t testing.TB, url string, mod func(*configs.Target)) Target {
	t.Helper()
	temp, seed, maxTok := 0.0, 7, 64
	ct := configs.Target{Name: "prod", BaseURL: url + "/v1", Model: "gpt-test", Params: configs.Params{Temperature: &temp, Seed: &seed, MaxTokens: &maxTok}, Price: configs.Price{InputPerMTok: 1, OutputPerMTok: 2}}
	if mod != nil {
		mod(&ct)
	}
	p, err := NewOpenAI(ct, "sk-secret-key-123", nil)
	if err != nil {
		t.Fatalf("NewOpenAI: %v", err)
	}
	return Target{Name: ct.Name, Provider: p, Gate: NewGate(4, 0), Timeout: 5 * time.Second, Retries: 3, Price: ct.Price}
}

var fast = Options{BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond}

func collect(t testing.TB, ctx context.Context, s *evals.Suite, tg Target, opts Options) (Summary, []Sample) {
	t.Helper()
	var got []Sample
	sum, err := Run(ctx, s, tg, opts, func(s Sample, _ bool) { got = append(got, s) })
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sum, got
}

func TestRunRecordsEverySample(t *testing.T) {
	var mu sync.Mutex
	var reqs []chatReq
	var auth []string
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		mu.Lock()
		reqs = append(reqs, req)
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		answer := "no"
		if req.Messages[1].Content != "q1" {
			answer = "yes indeed"
		}
		io.WriteString(w, completion(answer, "gpt-test-2026", "fp_a", "stop"))
	})
	sum, samples := collect(t, context.Background(), testSuite(3, 2), target(t, srv.URL, nil), fast)

	if got, want := len(samples), 6; got != want {
		t.Fatalf("samples = %d, want %d", got, want)
	}
	if got, want := sum.Outcome, Completed; got != want {
		t.Errorf("Outcome = %q, want %q", got, want)
	}
	// Case 1 fails both samples; cases 0 and 2 pass: pass rate 2/3.
	if got, want := sum.PassRate, 2.0/3; got != want {
		t.Errorf("PassRate = %v, want %v", got, want)
	}
	if got, want := sum.PromptTokens, int64(60); got != want {
		t.Errorf("PromptTokens = %d, want %d", got, want)
	}
	if got, want := sum.CostUSD, 6*(10*1+4*2)/1e6; !near(got, want) {
		t.Errorf("CostUSD = %v, want %v", got, want)
	}
	if diff := cmp.Diff(map[string]int{"gpt-test-2026": 6}, sum.Models); diff != "" {
		t.Errorf("Models (-want +got):\n%s", diff)
	}
	for _, s := range samples {
		if s.Model != "gpt-test-2026" || s.Fingerprint != "fp_a" || s.FinishReason != "stop" || s.Attempts != 1 || s.ErrClass != "" {
			t.Errorf("sample %+v: provider fields not recorded", s)
		}
		if got, want := s.Pass, s.CaseID != "case-1"; got != want {
			t.Errorf("sample %s pass = %v, want %v", s.CaseID, got, want)
		}
	}
	r := reqs[0]
	if r.Model != "gpt-test" || r.MaxTokens != 64 || r.Seed == nil || *r.Seed != 7 {
		t.Errorf("request = %+v, want model gpt-test, max_tokens 64, seed 7", r)
	}
	if r.Temperature == nil || *r.Temperature > 1e-30 {
		t.Errorf("temperature = %v, want a value that means greedy (sent, and ~0)", r.Temperature)
	}
	if got, want := auth[0], "Bearer sk-secret-key-123"; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
}

func TestRunRetries(t *testing.T) {
	tests := []struct {
		name      string
		fail      func(w http.ResponseWriter)
		failTimes int
		retries   int
		wantClass string
		wantTries int
	}{
		{"429 with retry-after-ms then ok", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After-Ms", "2")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"slow down","type":"rate_limit"}}`)
		}, 2, 3, "", 3},
		{"500 then ok", func(w http.ResponseWriter) { w.WriteHeader(500); io.WriteString(w, `{"error":{"message":"boom"}}`) }, 1, 3, "", 2},
		{"garbage body then ok", func(w http.ResponseWriter) { io.WriteString(w, `{"id": "x", "choices": [`) }, 1, 3, "", 2},
		{"html 502 then ok", func(w http.ResponseWriter) { w.WriteHeader(502); io.WriteString(w, `<html>bad gateway</html>`) }, 1, 3, "", 2},
		{"500 beyond retries", func(w http.ResponseWriter) { w.WriteHeader(500); io.WriteString(w, `{"error":{"message":"boom"}}`) }, 99, 2, ClassServer, 3},
		{"garbage beyond retries", func(w http.ResponseWriter) { io.WriteString(w, `not json`) }, 99, 1, ClassBadReply, 2},
		{"429 beyond retries", func(w http.ResponseWriter) { w.WriteHeader(429); io.WriteString(w, `{"error":{"message":"slow"}}`) }, 99, 1, ClassRateLimit, 2},
		{"400 is not retried", func(w http.ResponseWriter) {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"message":"bad param"}}`)
		}, 99, 3, ClassClient, 1},
		{"401 is not retried", func(w http.ResponseWriter) {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"message":"invalid key"}}`)
		}, 99, 3, ClassClient, 1},
		{"404 is not retried", func(w http.ResponseWriter) {
			w.WriteHeader(404)
			io.WriteString(w, `{"error":{"message":"no such model"}}`)
		}, 99, 3, ClassClient, 1},
		{"content filter is behaviour", func(w http.ResponseWriter) { io.WriteString(w, completion("", "m", "", "content_filter")) }, 99, 3, ClassRefused, 1},
		// A provider or proxy echoing the key: the text is kept, the key is not.
		{"401 echoing the key", func(w http.ResponseWriter) {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided: sk-secret-key-123."}}`)
		}, 99, 3, ClassClient, 1},
		{"502 echoing the header", func(w http.ResponseWriter) {
			w.WriteHeader(502)
			io.WriteString(w, `<html>upstream refused Authorization: Bearer sk-secret-key-123</html>`)
		}, 99, 1, ClassServer, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
				if n <= tt.failTimes {
					tt.fail(w)
					return
				}
				io.WriteString(w, completion("yes", "m", "fp", "stop"))
			})
			tg := target(t, srv.URL, nil)
			tg.Retries = tt.retries
			_, samples := collect(t, context.Background(), testSuite(1, 1), tg, fast)
			s := samples[0]
			if got, want := s.ErrClass, tt.wantClass; got != want {
				t.Errorf("ErrClass = %q (%s), want %q", got, s.ErrText, want)
			}
			if got, want := s.Attempts, tt.wantTries; got != want {
				t.Errorf("Attempts = %d, want %d", got, want)
			}
			if strings.Contains(s.ErrText, "sk-secret-key-123") {
				t.Errorf("ErrText leaks the API key: %q", s.ErrText)
			}
			if strings.Contains(tt.name, "echoing") && !strings.Contains(s.ErrText, "<secret>") {
				t.Errorf("ErrText = %q, want the server's text with the key redacted", s.ErrText)
			}
			if tt.wantClass == ClassRefused && (!s.Valid() || s.Pass) {
				t.Errorf("a refusal must be scored (valid, failing): valid=%v pass=%v", s.Valid(), s.Pass)
			}
		})
	}
}

func TestRunHonoursRetryAfter(t *testing.T) {
	var first time.Time
	var gap time.Duration
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		if n == 1 {
			first = time.Now()
			w.Header().Set("Retry-After-Ms", "150")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"slow down"}}`)
			return
		}
		gap = time.Since(first)
		io.WriteString(w, completion("yes", "m", "fp", "stop"))
	})
	_, samples := collect(t, context.Background(), testSuite(1, 1), target(t, srv.URL, nil), fast)
	if samples[0].ErrClass != "" {
		t.Fatalf("sample failed: %s", samples[0].ErrText)
	}
	// The computed backoff is at most 5ms here; only Retry-After explains 150ms.
	if gap < 150*time.Millisecond {
		t.Errorf("retry came after %v, want >= 150ms (Retry-After-Ms)", gap)
	}
}

func TestRunTimeoutIsMissingNotFail(t *testing.T) {
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		<-r.Context().Done() // never answers
	})
	tg := target(t, srv.URL, nil)
	tg.Timeout = 20 * time.Millisecond
	tg.Retries = 1
	sum, samples := collect(t, context.Background(), testSuite(2, 1), tg, fast)
	for _, s := range samples {
		if got, want := s.ErrClass, ClassTimeout; got != want {
			t.Errorf("ErrClass = %q (%s), want %q", got, s.ErrText, want)
		}
		if s.Valid() {
			t.Errorf("a timed-out sample must be missing, not scored")
		}
	}
	if got, want := sum.Outcome, Errored; got != want {
		t.Errorf("Outcome = %q, want %q", got, want)
	}
	if got, want := sum.Errors, 2; got != want {
		t.Errorf("Errors = %d, want %d", got, want)
	}
	if got, want := sum.ValidCases, 0; got != want {
		t.Errorf("ValidCases = %d, want %d", got, want)
	}
}

func TestRunErrorBudget(t *testing.T) {
	// 1 of 20 samples fails for good: 5% missing is inside the 10% budget,
	// and the missing sample does not count as a failed case.
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		if req.Messages[1].Content == "q3" {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, completion("yes", "m", "fp", "stop"))
	})
	tg := target(t, srv.URL, nil)
	tg.Retries = 0
	sum, _ := collect(t, context.Background(), testSuite(20, 1), tg, fast)
	if got, want := sum.Outcome, Completed; got != want {
		t.Errorf("Outcome = %q, want %q", got, want)
	}
	if got, want := sum.PassRate, 1.0; got != want {
		t.Errorf("PassRate = %v, want %v (missing is not fail)", got, want)
	}
	if got, want := sum.ErrorsByClass[ClassServer], 1; got != want {
		t.Errorf("ErrorsByClass[server_error] = %d, want %d", got, want)
	}
}

func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		if n > 5 {
			cancel()
			<-r.Context().Done()
			return
		}
		io.WriteString(w, completion("yes", "m", "fp", "stop"))
	})
	tg := target(t, srv.URL, nil)
	tg.Gate = NewGate(1, 0) // sequential, so exactly five answers arrive
	sum, samples := collect(t, ctx, testSuite(50, 1), tg, fast)
	if got, want := sum.Outcome, Interrupted; got != want {
		t.Errorf("Outcome = %q, want %q", got, want)
	}
	if got, want := len(samples), 5; got != want {
		t.Errorf("emitted %d samples, want %d (canceled ones are not emitted)", got, want)
	}
	if got, want := sum.Errors, 0; got != want {
		t.Errorf("Errors = %d, want %d", got, want)
	}
}

func TestGateSharedAcrossRuns(t *testing.T) {
	var inFlight, peak atomic.Int64
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		cur := inFlight.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond) // hold the slot so requests overlap
		inFlight.Add(-1)
		io.WriteString(w, completion("yes", "m", "fp", "stop"))
	})
	gate := NewGate(3, 0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			tg := target(t, srv.URL, nil)
			tg.Gate = gate
			if _, err := Run(context.Background(), testSuite(10, 1), tg, fast, func(Sample, bool) {}); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	wg.Wait()
	if got := peak.Load(); got > 3 {
		t.Errorf("peak concurrent requests = %d, want <= 3 (gate shared by 4 runs)", got)
	}
}

func TestGateRateLimit(t *testing.T) {
	g := NewGate(10, 1000)
	if g.limiter == nil || g.limiter.Limit() != 1000 {
		t.Fatalf("limiter not set from rps")
	}
	var gs Gates
	if gs.For("a", 2, 0) != gs.For("a", 5, 0) {
		t.Errorf("Gates.For returned two gates for one target")
	}
	if gs.For("a", 2, 0) == gs.For("b", 2, 0) {
		t.Errorf("Gates.For shared a gate between targets")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{"ms wins", http.Header{"Retry-After": {"3"}, "Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{"http date", http.Header{"Retry-After": {now.Add(4 * time.Second).Format(http.TimeFormat)}}, 4 * time.Second},
		{"junk", http.Header{"Retry-After": {"soon"}}, 0},
		{"negative", http.Header{"Retry-After": {"-1"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.h, now); got != tt.want {
				t.Errorf("parseRetryAfter(%v) = %v, want %v", tt.h, got, tt.want)
			}
		})
	}
}

func TestBackoffCapped(t *testing.T) {
	o := Options{BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second}.withDefaults()
	for attempt := range 40 {
		d := retryDelay(attempt, 0, o)
		if d < 0 || d > time.Second {
			t.Errorf("backoff(%d) = %v, want within [0, 1s]", attempt, d)
		}
	}
	if got, want := retryDelay(0, 5*time.Minute, o), 2*time.Minute; got != want {
		t.Errorf("backoff with Retry-After 5m = %v, want the 2m cap", got)
	}
}

func TestResponseFormatAndTools(t *testing.T) {
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		if got, want := req.ResponseFormat["type"], "json_object"; got != want {
			t.Errorf("response_format.type = %q, want %q", got, want)
		}
		io.WriteString(w, completion(`{"answer":"yes"}`, "m", "fp", "stop"))
	})
	tg := target(t, srv.URL, func(ct *configs.Target) {
		ct.Params.ResponseFormat = "json_object"
		ct.Params.Tools = []any{map[string]any{"type": "function", "function": map[string]any{"name": "lookup", "parameters": map[string]any{"type": "object"}}}}
	})
	collect(t, context.Background(), testSuite(1, 1), tg, fast)

	if _, err := NewOpenAI(configs.Target{Name: "x", BaseURL: "http://127.0.0.1", Params: configs.Params{ResponseFormat: "yaml"}}, "", nil); err == nil {
		t.Errorf("NewOpenAI accepted response_format yaml")
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-12 && d > -1e-12 }
