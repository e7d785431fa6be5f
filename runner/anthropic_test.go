package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evald/evald/configs"
)

// anthropicReq is a Messages API request as it travels.
type anthropicReq struct {
	Model       string   `json:"model"`
	MaxTokens   int      `json:"max_tokens"`
	Temperature *float64 `json:"temperature"`
	System      []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"system"`
	Messages []struct {
		Role    string `json:"role"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	} `json:"messages"`
}

// fakeAnthropic speaks Anthropic's Messages API: POST /v1/messages with
// an anthropic-version header and the key (as a bearer token, as the SDK
// sends it, or in x-api-key); reply answers request n (from 1).
func fakeAnthropic(t testing.TB, key string, reply func(n int, w http.ResponseWriter, req anthropicReq)) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Request-Id", fmt.Sprintf("req_%d", n.Load()+1))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/v1/messages":
			http.NotFound(w, r)
		case r.Header.Get("anthropic-version") == "":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"type":"error","error":{"type":"invalid_request_error","message":"anthropic-version: header is required"}}`)
		case r.Header.Get("Authorization") != "Bearer "+key && r.Header.Get("x-api-key") != key:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid key `+r.Header.Get("Authorization")+r.Header.Get("x-api-key")+`"}}`)
		default:
			var req anthropicReq
			body, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(body, &req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			reply(int(n.Add(1)), w, req)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func anthropicMessage(text, model, stop string, in, out int) string {
	b, _ := json.Marshal(map[string]any{
		"id": "msg_01", "type": "message", "role": "assistant", "model": model,
		"content":     []any{map[string]any{"type": "text", "text": text}},
		"stop_reason": stop, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": in, "output_tokens": out},
	})
	return string(b)
}

func anthropicTarget(t testing.TB, url, key string, mod func(*configs.Target)) Target {
	t.Helper()
	ct := configs.Target{Name: "claude", BaseURL: url, Model: "claude-test", Provider: configs.ProviderAnthropic,
		Price: configs.Price{InputPerMTok: 3, OutputPerMTok: 15}}
	if mod != nil {
		mod(&ct)
	}
	p, err := New(ct, key, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, ok := p.(*Anthropic); !ok {
		t.Fatalf("New gave a %T for provider: anthropic", p)
	}
	return Target{Name: ct.Name, Provider: p, Gate: NewGate(4, 0), Timeout: 5 * time.Second, Retries: 3, Price: ct.Price}
}

// An Anthropic target runs a suite: system messages go to the system
// parameter, max_tokens defaults, and tokens, cost and the model Anthropic
// returns are kept; a 429's retry-after is honoured.
func TestAnthropicTargetRunsSuite(t *testing.T) {
	const key = "sk-ant-key-0123456789"
	var mu sync.Mutex
	var reqs []anthropicReq
	srv := fakeAnthropic(t, key, func(n int, w http.ResponseWriter, req anthropicReq) {
		mu.Lock()
		reqs = append(reqs, req)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`)
			return
		}
		io.WriteString(w, anthropicMessage("yes", "claude-test-20260101", "end_turn", 12, 5))
	})
	tg := anthropicTarget(t, srv.URL, key, nil)
	start := time.Now()
	sum, samples := collect(t, context.Background(), testSuite(2, 1), tg, fast)
	if sum.Outcome != Completed || sum.Errors != 0 || len(samples) != 2 {
		t.Fatalf("outcome %v, errors %d, samples %d; want completed, 0, 2", sum.Outcome, sum.Errors, len(samples))
	}
	attempts := 0
	for _, s := range samples {
		attempts += s.Attempts
		if !s.Pass || s.Model != "claude-test-20260101" || s.FinishReason != "end_turn" || s.PromptTokens != 12 || s.CompletionTokens != 5 {
			t.Errorf("sample = pass %v model %q stop %q tokens %d/%d, want Anthropic's answer, model and usage", s.Pass, s.Model, s.FinishReason, s.PromptTokens, s.CompletionTokens)
		}
	}
	if attempts != 3 {
		t.Errorf("attempts = %d, want 3 (the 429 retried once)", attempts)
	}
	if time.Since(start) < time.Second {
		t.Errorf("run took %v: the 429's Retry-After: 1 was not honoured", time.Since(start))
	}
	if got, want := sum.CostUSD, 2*(12*3+5*15)/1e6; got < want*0.999 || got > want*1.001 {
		t.Errorf("cost = %v, want %v", got, want)
	}
	for _, r := range reqs {
		if r.Model != "claude-test" || r.MaxTokens != configs.DefaultAnthropicMaxTokens || len(r.System) != 1 || r.System[0].Text != "be brief" ||
			len(r.Messages) != 1 || r.Messages[0].Role != "user" || len(r.Messages[0].Content) != 1 || !strings.HasPrefix(r.Messages[0].Content[0].Text, "q") {
			t.Errorf("request = %+v, want the system message in system, one user turn, max_tokens %d", r, configs.DefaultAnthropicMaxTokens)
		}
	}
}

// The target's params reach the request: max_tokens and temperature.
func TestAnthropicParams(t *testing.T) {
	got := make(chan anthropicReq, 1)
	srv := fakeAnthropic(t, "k", func(_ int, w http.ResponseWriter, req anthropicReq) {
		got <- req
		io.WriteString(w, anthropicMessage("yes", "m", "max_tokens", 1, 1))
	})
	temp, maxTok := 0.0, 64
	tg := anthropicTarget(t, srv.URL+"/v1/", "k", func(ct *configs.Target) {
		ct.Params = configs.Params{Temperature: &temp, MaxTokens: &maxTok}
	})
	resp, err := tg.Provider.Complete(context.Background(), testSuite(1, 1).Cases[0].Messages)
	if err != nil {
		t.Fatal(err)
	}
	if resp.RequestID != "req_1" || resp.Text != "yes" {
		t.Errorf("response = %+v, want the request-id header and the text", resp)
	}
	r := <-got
	if r.MaxTokens != 64 || r.Temperature == nil || *r.Temperature != 0 {
		t.Errorf("request max_tokens %d temperature %v, want 64 and 0", r.MaxTokens, r.Temperature)
	}
}

// A refused key is a client error with its 401, never retried; the key
// is not in the error, the request id is.
func TestAnthropicRefusedKey(t *testing.T) {
	srv := fakeAnthropic(t, "the-right-key", func(int, http.ResponseWriter, anthropicReq) {})
	_, samples := collect(t, context.Background(), testSuite(1, 1), anthropicTarget(t, srv.URL, "wrong-key-0123456789", nil), fast)
	s := samples[0]
	if s.ErrClass != ClassClient || s.ErrStatus != http.StatusUnauthorized || s.Attempts != 1 {
		t.Fatalf("sample = %s %d after %d attempts, want client_error 401 at once", s.ErrClass, s.ErrStatus, s.Attempts)
	}
	if strings.Contains(s.ErrText, "wrong-key") {
		t.Errorf("error %q shows the key", s.ErrText)
	}
	if !strings.Contains(s.ErrText, "authentication_error") || !strings.Contains(s.ErrText, "request-id req_1") {
		t.Errorf("error %q: want the error type and request id", s.ErrText)
	}
}

// 529 (overloaded) and other 5xx are retried; a 529 says it was an
// overload.
func TestAnthropicOverloaded(t *testing.T) {
	srv := fakeAnthropic(t, "k", func(n int, w http.ResponseWriter, _ anthropicReq) {
		switch n {
		case 1:
			w.WriteHeader(StatusOverloaded)
			io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
		case 2:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`)
		default:
			io.WriteString(w, anthropicMessage("yes", "m", "end_turn", 1, 1))
		}
	})
	_, samples := collect(t, context.Background(), testSuite(1, 1), anthropicTarget(t, srv.URL, "k", nil), fast)
	if s := samples[0]; !s.Pass || s.Attempts != 3 {
		t.Fatalf("sample = pass %v after %d attempts (%s), want a pass on the third", s.Pass, s.Attempts, s.ErrText)
	}

	always := fakeAnthropic(t, "k", func(_ int, w http.ResponseWriter, _ anthropicReq) {
		w.WriteHeader(StatusOverloaded)
		io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	})
	tg := anthropicTarget(t, always.URL, "k", nil)
	_, samples = collect(t, context.Background(), testSuite(1, 1), tg, fast)
	if s := samples[0]; s.ErrClass != ClassServer || s.ErrStatus != StatusOverloaded || s.Attempts != 4 || !strings.Contains(s.ErrText, "overloaded") {
		t.Errorf("sample = %s %d after %d attempts: %q, want server_error 529 (overloaded) after 4", s.ErrClass, s.ErrStatus, s.Attempts, s.ErrText)
	}
	_, err := tg.Provider.Complete(context.Background(), testSuite(1, 1).Cases[0].Messages)
	var ce *CallError
	if !errors.As(err, &ce) || ce.Reason != ReasonOverloaded || !ce.Retryable() {
		t.Errorf("error = %#v, want a retryable CallError with reason overloaded", err)
	}
}

// What the endpoint gets wrong is a bad_response: token counts out of
// range, no text, a body over max_response_bytes.
func TestAnthropicBoundary(t *testing.T) {
	for _, c := range []struct {
		name, body, want string
	}{
		{"negative", anthropicMessage("yes", "m", "end_turn", -1, 1), "input_tokens is -1"},
		{"huge", anthropicMessage("yes", "m", "end_turn", 1, 1<<40), "above the target's max_usage_tokens"},
		{"no text", `{"type":"message","model":"m","content":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":0}}`, "no text block"},
		{"no usage", `{"type":"message","model":"m","content":[{"type":"text","text":"yes"}],"stop_reason":"end_turn"}`, "no usage"},
		{"too large", anthropicMessage(strings.Repeat("y", 4096), "m", "end_turn", 1, 1), ReasonTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := fakeAnthropic(t, "k", func(_ int, w http.ResponseWriter, _ anthropicReq) { io.WriteString(w, c.body) })
			tg := anthropicTarget(t, srv.URL, "k", func(ct *configs.Target) { ct.MaxResponseBytes = 2048 })
			_, err := tg.Provider.Complete(context.Background(), testSuite(1, 1).Cases[0].Messages)
			var ce *CallError
			if !errors.As(err, &ce) || ce.Class != ClassBadReply || !strings.Contains(ce.Error(), c.want) {
				t.Errorf("error = %v, want a bad_response naming %q", err, c.want)
			}
		})
	}
}

// An agent suite (tool calls) on an Anthropic target fails with a clear
// error, not a wrong answer.
func TestAnthropicAgentSuiteRefused(t *testing.T) {
	srv := fakeAnthropic(t, "k", func(_ int, w http.ResponseWriter, _ anthropicReq) {
		io.WriteString(w, anthropicMessage("yes", "m", "end_turn", 1, 1))
	})
	s := testSuite(1, 1)
	s.Tools = []any{map[string]any{"type": "function", "function": map[string]any{"name": "lookup"}}}
	_, samples := collect(t, context.Background(), s, anthropicTarget(t, srv.URL, "k", nil), fast)
	if got := samples[0]; got.ErrClass != ClassClient || !strings.Contains(got.ErrText, "cannot send tool calls") {
		t.Errorf("sample = %s %q, want a client_error saying tool calls are not supported", got.ErrClass, got.ErrText)
	}
}
