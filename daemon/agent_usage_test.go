package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/store"
)

// samplingAgentServer is an unchanged OpenAI-compatible provider that
// samples at temperature > 0: same model, fingerprint, tokenizer
// (prompt_tokens = characters / 4) and template every run, but its final
// answers vary in length, so the later requests of a conversation (which
// carry those answers) differ from run to run. Once broken is set, half of
// its answers say it cannot find the order. requests, when not nil,
// counts the requests.
func samplingAgentServer(t *testing.T, broken *atomic.Bool, requests *atomic.Int64) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	rng := rand.New(rand.NewSource(1))
	words := strings.Fields("Thanks for waiting, it is on its way today and should arrive soon.")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests != nil {
			requests.Add(1)
		}
		var req struct {
			Messages []struct {
				Role      string `json:"role"`
				Content   string `json:"content"`
				ToolCalls []struct {
					Function struct{ Arguments string } `json:"function"`
				} `json:"tool_calls"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		chars := 0
		for _, m := range req.Messages {
			chars += len(m.Content) + 4
			for _, tc := range m.ToolCalls {
				chars += len(tc.Function.Arguments)
			}
		}
		msg := map[string]any{"role": "assistant"}
		finish := "stop"
		if req.Messages[len(req.Messages)-1].Role == "user" {
			msg["content"] = nil
			msg["tool_calls"] = []any{map[string]any{"id": "call_1", "type": "function",
				"function": map[string]any{"name": "lookup_order", "arguments": `{"order_id":"A1"}`}}}
			finish = "tool_calls"
		} else {
			mu.Lock()
			n, fail := rng.Intn(len(words)), rng.Intn(2) == 0
			mu.Unlock()
			msg["content"] = "Your order has shipped. " + strings.Join(words[:n], " ")
			if broken.Load() && fail {
				msg["content"] = "I cannot find it. " + strings.Join(words[:n], " ")
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "x", "object": "chat.completion", "created": 1, "model": "m-1", "system_fingerprint": "fp_1",
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   map[string]any{"prompt_tokens": chars / 4, "completion_tokens": 10, "total_tokens": chars/4 + 10},
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Multi-turn agent cases: the usage signature reads each case's first
// request only, so an unchanged provider whose answers vary keeps its
// identity over 30 runs, and a real drop afterwards pages as a regression
// instead of hiding behind an identity change every run.
func TestAgentUsageSignatureReadsFirstRequest(t *testing.T) {
	var broken atomic.Bool
	srv := samplingAgentServer(t, &broken, nil)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(`name: agent
prompt:
  - role: system
    content: "You are the support agent."
tools:
  - type: function
    function:
      name: lookup_order
      description: Find an order
      parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
tool_results:
  lookup_order:
    - result: {status: shipped}
repeats: 2
tests:
`)
	for i := range 20 {
		fmt.Fprintf(&b, "  - id: c%d\n    turns:\n      - user: \"Where is order A%d?\"\n        assert:\n          - type: icontains\n            value: shipped\n      - user: \"Thanks. Anything else?\"\n        assert:\n          - type: icontains\n            value: shipped\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "agent.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	suite, err := evals.LoadFile(filepath.Join(dir, "agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	proj := &configs.Project{
		Config: &configs.Config{
			Targets: []configs.Target{{Name: "prod", BaseURL: srv.URL + "/v1", Model: "m-1", Concurrency: 1, Timeout: 10 * time.Second, Retries: 1}},
			Suites:  []configs.SuiteRef{{File: "agent.yaml", Targets: []string{"prod"}, Schedule: "@hourly"}},
		},
		Suites: []*evals.Suite{suite},
	}
	signtest.Project(t, proj)
	d, err := New(Options{Project: proj, Store: st, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	evaluate := func(i int) *Result {
		t.Helper()
		res, err := d.Evaluate(ctx, Request{Suite: "agent", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		return res
	}
	for i := 1; i <= 30; i++ {
		res := evaluate(i)
		if v := res.Verdict; v.Identity != nil || v.Page {
			t.Fatalf("run %d of an unchanged provider: kind %s, page %v, identity %+v", i, v.Kind, v.Page, v.Identity)
		}
	}
	broken.Store(true)
	for i := 31; i <= 45; i++ {
		v := evaluate(i).Verdict
		if v.Identity != nil {
			t.Fatalf("run %d: the provider's identity did not change, got %+v", i, v.Identity)
		}
		if v.Page {
			if v.Kind != drift.KindRegressed {
				t.Fatalf("run %d pages as %s, want a regression", i, v.Kind)
			}
			return
		}
	}
	t.Fatal("the pass rate fell from 1.00 to about 0.25 and nothing paged in 15 runs")
}
