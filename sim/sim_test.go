package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/evald/evald/sim"
)

// faq is a system prompt with three facts.
const faq = `You are the support assistant of an online shop. Facts:
- return window => You have 30 days to return an item.
- shipping cost => Shipping is free on orders over $50.
- store opening hours => We are open from 9am to 5pm.`

// newClient serves h on 127.0.0.1 and returns a real go-openai client for it.
func newClient(t testing.TB, h http.Handler) *openai.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := openai.DefaultConfig("any-key-is-fine")
	cfg.BaseURL = srv.URL + "/v1"
	return openai.NewClientWithConfig(cfg)
}

// chatRequest builds a chat request with a system prompt and a question.
func chatRequest(system, question string) openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: system},
			{Role: openai.ChatMessageRoleUser, Content: question},
		},
	}
}

// post sends body (marshalled unless it is a string) to h and returns the
// recorded response.
func post(t testing.TB, h http.Handler, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	return postContext(t, context.Background(), h, path, body)
}

func postContext(t testing.TB, ctx context.Context, h http.Handler, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	b, ok := body.(string)
	if !ok {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		b = string(raw)
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, strings.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// ask posts a chat request and decodes the answer.
func ask(t testing.TB, h http.Handler, req openai.ChatCompletionRequest) openai.ChatCompletionResponse {
	t.Helper()
	rec := post(t, h, "/v1/chat/completions", req)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /v1/chat/completions = %d %s, want 200", rec.Code, rec.Body)
	}
	var resp openai.ChatCompletionResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("decode chat response: %v\n%s", err, rec.Body)
	}
	return resp
}

// answer returns the content of the answer to question under system.
func answer(t testing.TB, h http.Handler, system, question string) string {
	t.Helper()
	return ask(t, h, chatRequest(system, question)).Choices[0].Message.Content
}

// tokens mirrors the simulator's documented approximation.
func tokens(s string) int { return (len([]rune(s)) + 3) / 4 }

func TestChatWireFormat(t *testing.T) {
	s := sim.New(sim.Options{WrongRate: -1})
	c := newClient(t, s)
	seed := 7
	req := chatRequest(faq, "How long is the return window?")
	req.Temperature = 0.2
	req.TopP = 0.9
	req.MaxTokens = 256
	req.Seed = &seed
	resp, err := c.CreateChatCompletion(t.Context(), req)
	if err != nil {
		t.Fatalf("CreateChatCompletion: %v", err)
	}
	if got, want := resp.Object, "chat.completion"; got != want {
		t.Errorf("object = %q, want %q", got, want)
	}
	if got, want := resp.Model, "sim-1"; got != want {
		t.Errorf("model = %q, want %q", got, want)
	}
	if !strings.HasPrefix(resp.ID, "chatcmpl-") {
		t.Errorf("id = %q, want prefix chatcmpl-", resp.ID)
	}
	if resp.Created == 0 {
		t.Errorf("created = 0, want a Unix time")
	}
	if fp := resp.SystemFingerprint; fp != "fp_sim_a" && fp != "fp_sim_b" {
		t.Errorf("system_fingerprint = %q, want fp_sim_a or fp_sim_b", fp)
	}
	if got, want := len(resp.Choices), 1; got != want {
		t.Fatalf("len(choices) = %d, want %d", got, want)
	}
	ch := resp.Choices[0]
	if got, want := ch.Message.Role, openai.ChatMessageRoleAssistant; got != want {
		t.Errorf("role = %q, want %q", got, want)
	}
	if got, want := ch.FinishReason, openai.FinishReasonStop; got != want {
		t.Errorf("finish_reason = %q, want %q", got, want)
	}
	if got, want := ch.Message.Content, "You have 30 days to return an item."; !strings.HasSuffix(got, want) {
		t.Errorf("content = %q, want it to end with %q", got, want)
	}
	wantUsage := openai.Usage{
		PromptTokens:     tokens(faq) + 4 + tokens(req.Messages[1].Content) + 4,
		CompletionTokens: tokens(ch.Message.Content),
	}
	wantUsage.TotalTokens = wantUsage.PromptTokens + wantUsage.CompletionTokens
	if diff := cmp.Diff(wantUsage, resp.Usage); diff != "" {
		t.Errorf("usage mismatch (-want +got):\n%s", diff)
	}
	if got, want := s.Requests(), int64(1); got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}

	t.Run("multi-part content", func(t *testing.T) {
		req := chatRequest(faq, "")
		req.Messages[1] = openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, MultiContent: []openai.ChatMessagePart{
			{Type: openai.ChatMessagePartTypeText, Text: "How long is the return window?"},
		}}
		got, err := c.CreateChatCompletion(t.Context(), req)
		if err != nil {
			t.Fatalf("CreateChatCompletion: %v", err)
		}
		if got, want := got.Choices[0].Message.Content, ch.Message.Content; got != want {
			t.Errorf("content = %q, want %q", got, want)
		}
	})
	t.Run("no /v1 prefix", func(t *testing.T) {
		rec := post(t, s, "/chat/completions", chatRequest(faq, "How long is the return window?"))
		if got, want := rec.Code, http.StatusOK; got != want {
			t.Errorf("POST /chat/completions = %d, want %d", got, want)
		}
	})
}

func TestModelsWireFormat(t *testing.T) {
	c := newClient(t, sim.New(sim.Options{Model: "acme-large"}))
	list, err := c.ListModels(t.Context())
	if err != nil {
		t.Fatalf("ListModels: %v", err)
	}
	var ids []string
	for _, m := range list.Models {
		ids = append(ids, m.ID)
		if got, want := m.Object, "model"; got != want {
			t.Errorf("object = %q, want %q", got, want)
		}
	}
	if diff := cmp.Diff([]string{"acme-large"}, ids); diff != "" {
		t.Errorf("model ids mismatch (-want +got):\n%s", diff)
	}
	m, err := c.GetModel(t.Context(), "acme-large")
	if err != nil {
		t.Fatalf("GetModel: %v", err)
	}
	if got, want := m.OwnedBy, "evald-sim"; got != want {
		t.Errorf("owned_by = %q, want %q", got, want)
	}
	_, err = c.GetModel(t.Context(), "nope")
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusNotFound {
		t.Errorf("GetModel(nope) error = %v, want an APIError with status 404", err)
	}
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func TestEmbeddingsWireFormat(t *testing.T) {
	c := newClient(t, sim.New(sim.Options{}))
	texts := []string{
		"How long do I have to return an item?",
		"How long can I return items for?",
		"Shipping to Canada costs twelve dollars.",
	}
	resp, err := c.CreateEmbeddings(t.Context(), openai.EmbeddingRequestStrings{Input: texts, Model: openai.SmallEmbedding3})
	if err != nil {
		t.Fatalf("CreateEmbeddings: %v", err)
	}
	if got, want := len(resp.Data), len(texts); got != want {
		t.Fatalf("len(data) = %d, want %d", got, want)
	}
	for i, e := range resp.Data {
		if got, want := e.Index, i; got != want {
			t.Errorf("data[%d].index = %d, want %d", i, got, want)
		}
		if got, want := len(e.Embedding), 64; got != want {
			t.Errorf("len(data[%d].embedding) = %d, want %d", i, got, want)
		}
		if got := cosine(e.Embedding, e.Embedding); math.Abs(got-1) > 1e-5 {
			t.Errorf("data[%d] is not L2-normalised: |v|² = %g", i, got)
		}
	}
	if got, want := string(resp.Model), string(openai.SmallEmbedding3); got != want {
		t.Errorf("model = %q, want %q", got, want)
	}
	if resp.Usage.PromptTokens == 0 || resp.Usage.TotalTokens != resp.Usage.PromptTokens {
		t.Errorf("usage = %+v, want prompt_tokens > 0 and total_tokens = prompt_tokens", resp.Usage)
	}
	similar := cosine(resp.Data[0].Embedding, resp.Data[1].Embedding)
	unrelated := cosine(resp.Data[0].Embedding, resp.Data[2].Embedding)
	if similar < 0.6 || unrelated > 0.3 {
		t.Errorf("cosine(similar) = %.3f, cosine(unrelated) = %.3f; want >= 0.6 and <= 0.3", similar, unrelated)
	}

	t.Run("base64 decodes to the same vectors", func(t *testing.T) {
		b64, err := c.CreateEmbeddings(t.Context(), openai.EmbeddingRequestStrings{
			Input: texts, Model: openai.SmallEmbedding3, EncodingFormat: openai.EmbeddingEncodingFormatBase64,
		})
		if err != nil {
			t.Fatalf("CreateEmbeddings(base64): %v", err)
		}
		for i := range texts {
			if diff := cmp.Diff(resp.Data[i].Embedding, b64.Data[i].Embedding); diff != "" {
				t.Errorf("data[%d] mismatch (-float +base64):\n%s", i, diff)
			}
		}
	})
	t.Run("dimensions and a single string", func(t *testing.T) {
		resp, err := c.CreateEmbeddings(t.Context(), openai.EmbeddingRequest{Input: "hello world", Model: "x", Dimensions: 16})
		if err != nil {
			t.Fatalf("CreateEmbeddings: %v", err)
		}
		if got, want := len(resp.Data[0].Embedding), 16; got != want {
			t.Errorf("len(embedding) = %d, want %d", got, want)
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		again, err := c.CreateEmbeddings(t.Context(), openai.EmbeddingRequestStrings{Input: texts[:1], Model: "x"})
		if err != nil {
			t.Fatalf("CreateEmbeddings: %v", err)
		}
		if diff := cmp.Diff(resp.Data[0].Embedding, again.Data[0].Embedding); diff != "" {
			t.Errorf("embedding changed between calls (-first +second):\n%s", diff)
		}
	})
}

func TestBadRequests(t *testing.T) {
	valid := `{"model":"m","messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantParam                string // "" for null
		wantMessage              string // substring
	}{
		{"bad JSON", "POST", "/v1/chat/completions", `{"messages":`, 400, "", "parse the JSON body"},
		{"no messages", "POST", "/v1/chat/completions", `{"model":"m","messages":[]}`, 400, "messages", "at least one message"},
		{"missing messages", "POST", "/v1/chat/completions", `{"model":"m"}`, 400, "messages", "at least one message"},
		{"no role", "POST", "/v1/chat/completions", `{"messages":[{"content":"hi"}]}`, 400, "messages[0].role", "role"},
		{"content not text", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":5}]}`, 400, "messages[0].content", "content"},
		{"stream", "POST", "/v1/chat/completions", valid + `,"stream":true}`, 400, "stream", "streaming not supported by the simulator"},
		{"n", "POST", "/v1/chat/completions", valid + `,"n":2}`, 400, "n", "not supported"},
		{"temperature", "POST", "/v1/chat/completions", valid + `,"temperature":2.5}`, 400, "temperature", "between 0 and 2"},
		{"top_p", "POST", "/v1/chat/completions", valid + `,"top_p":1.5}`, 400, "top_p", "between 0 and 1"},
		{"max_tokens", "POST", "/v1/chat/completions", valid + `,"max_tokens":-1}`, 400, "max_tokens", ">= 1"},
		{"response_format", "POST", "/v1/chat/completions", valid + `,"response_format":{"type":"xml"}}`, 400, "response_format.type", "json_object"},
		{"embeddings without input", "POST", "/v1/embeddings", `{"model":"m"}`, 400, "input", "missing input"},
		{"embeddings empty list", "POST", "/v1/embeddings", `{"input":[]}`, 400, "input", "not empty"},
		{"embeddings dimensions", "POST", "/v1/embeddings", `{"input":"x","dimensions":-3}`, 400, "dimensions", "between 1"},
		{"GET chat", "GET", "/v1/chat/completions", "", 405, "", "use POST"},
		{"POST models", "POST", "/v1/models", "{}", 405, "", "use GET"},
		{"unknown path", "POST", "/v1/completions", "{}", 404, "", "unknown URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sim.New(sim.Options{})
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if got, want := rec.Code, tt.wantStatus; got != want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, got, want)
			}
			if got, want := rec.Header().Get("Content-Type"), "application/json"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			var body openai.ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == nil {
				t.Fatalf("body %s is not an OpenAI error object: %v", rec.Body, err)
			}
			if got, want := body.Error.Type, "invalid_request_error"; got != want {
				t.Errorf("error.type = %q, want %q", got, want)
			}
			gotParam := ""
			if body.Error.Param != nil {
				gotParam = *body.Error.Param
			}
			if got, want := gotParam, tt.wantParam; got != want {
				t.Errorf("error.param = %q, want %q", got, want)
			}
			if !strings.Contains(body.Error.Message, tt.wantMessage) {
				t.Errorf("error.message = %q, want it to contain %q", body.Error.Message, tt.wantMessage)
			}
		})
	}

	t.Run("go-openai sees an APIError", func(t *testing.T) {
		c := newClient(t, sim.New(sim.Options{}))
		_, err := c.CreateChatCompletion(t.Context(), openai.ChatCompletionRequest{Model: "m"})
		var apiErr *openai.APIError
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusBadRequest {
			t.Errorf("CreateChatCompletion(no messages) error = %v, want an APIError with status 400", err)
		}
	})
}

func TestDeterministicAnswers(t *testing.T) {
	questions := []string{
		"How long is the return window?",
		"What does shipping cost?",
		"When is the store open?",
		"Do you sell gift cards?",
	}
	a := sim.New(sim.Options{Seed: 1})
	b := sim.New(sim.Options{Seed: 2})
	for _, q := range questions {
		t.Run(q, func(t *testing.T) {
			first := answer(t, a, faq, q)
			if got, want := answer(t, a, faq, q), first; got != want {
				t.Errorf("second answer = %q, want the first %q", got, want)
			}
			// Without noise the seed plays no part in the answers.
			if got, want := answer(t, b, faq, q), first; got != want {
				t.Errorf("answer from another seed = %q, want %q", got, want)
			}
		})
	}
}

func TestFactMatching(t *testing.T) {
	s := sim.New(sim.Options{WrongRate: -1})
	tests := []struct {
		question string
		want     string // the answer ends with this
	}{
		{"How long is the return window?", "You have 30 days to return an item."},
		{"Customer question: what does SHIPPING cost me?", "Shipping is free on orders over $50."},
		{"What are your opening hours?", "We are open from 9am to 5pm."},
		{"Do you sell gift cards?", "I don't know the answer to that."},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			if got := answer(t, s, faq, tt.question); !strings.HasSuffix(got, tt.want) {
				t.Errorf("answer(%q) = %q, want it to end with %q", tt.question, got, tt.want)
			}
		})
	}
	t.Run("last user message is the question", func(t *testing.T) {
		req := chatRequest(faq, "How long is the return window?")
		req.Messages = append(req.Messages,
			openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: "30 days."},
			openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: "And what does shipping cost?"})
		if got, want := ask(t, s, req).Choices[0].Message.Content, "Shipping is free on orders over $50."; !strings.HasSuffix(got, want) {
			t.Errorf("answer = %q, want it to end with %q", got, want)
		}
	})
}

// wrongShare asks n distinct return questions and returns the share
// answered wrong, and which were.
func wrongShare(t testing.TB, h http.Handler, system string, n int) (float64, map[int]bool) {
	t.Helper()
	wrong := map[int]bool{}
	for i := range n {
		got := answer(t, h, system, fmt.Sprintf("Question %d: how long is the return window?", i))
		if !strings.Contains(got, "30 days") {
			wrong[i] = true
		}
	}
	return float64(len(wrong)) / float64(n), wrong
}

func TestWrongRateShare(t *testing.T) {
	tests := []struct {
		name      string
		wrongRate float64
		want      float64
	}{
		{"default", 0, 0.1},
		{"quarter", 0.25, 0.25},
		{"none", -1, 0},
		{"all", 1, 1},
	}
	const n = 2000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := wrongShare(t, sim.New(sim.Options{WrongRate: tt.wrongRate}), faq, n)
			// 3 binomial standard errors; the hash makes this exact anyway.
			if tol := 3 * math.Sqrt(tt.want*(1-tt.want)/n); math.Abs(got-tt.want) > tol {
				t.Errorf("share answered wrong = %.3f, want %.3f ± %.3f", got, tt.want, tol)
			}
		})
	}

	t.Run("another prompt gets other questions wrong", func(t *testing.T) {
		s := sim.New(sim.Options{})
		_, before := wrongShare(t, s, faq, 500)
		_, after := wrongShare(t, s, faq+"\nAlways be polite.", 500)
		if diff := cmp.Diff(before, after); diff == "" {
			t.Errorf("the same %d questions were answered wrong under both prompts, want the prompt to matter", len(before))
		}
	})
}

func TestDrift(t *testing.T) {
	const n = 400
	s := sim.New(sim.Options{DriftAfter: n, Seed: 3})
	type round struct {
		wrong        map[int]bool
		models       map[string]int
		fingerprints map[string]int
	}
	play := func(beforeDrift bool) round {
		r := round{wrong: map[int]bool{}, models: map[string]int{}, fingerprints: map[string]int{}}
		for i := range n {
			resp := ask(t, s, chatRequest(faq, fmt.Sprintf("Question %d: how long is the return window?", i)))
			if !strings.Contains(resp.Choices[0].Message.Content, "30 days") {
				r.wrong[i] = true
			}
			r.models[resp.Model]++
			r.fingerprints[resp.SystemFingerprint]++
			if beforeDrift && i == n-2 && s.Drifted() {
				t.Errorf("Drifted() = true after %d answers, want false until %d", i+1, n)
			}
		}
		return r
	}

	before := play(true)
	if !s.Drifted() {
		t.Fatalf("Drifted() = false after %d answers, want true", n)
	}
	after := play(false)

	if diff := cmp.Diff(map[string]int{"sim-1": n}, before.models); diff != "" {
		t.Errorf("models before the drift (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"sim-1-2026-11-update": n}, after.models); diff != "" {
		t.Errorf("models after the drift (-want +got):\n%s", diff)
	}
	checkFingerprints := func(name string, got map[string]int, main, rare string) {
		t.Helper()
		if got[main]+got[rare] != n || float64(got[main])/n < 0.85 || float64(got[main])/n > 0.95 {
			t.Errorf("fingerprints %s = %v, want ~90%% %s and ~10%% %s", name, got, main, rare)
		}
	}
	checkFingerprints("before the drift", before.fingerprints, "fp_sim_a", "fp_sim_b")
	checkFingerprints("after the drift", after.fingerprints, "fp_sim_c", "fp_sim_a")

	// Wrong before: 10 %. After: those plus 30 % of the rest = 37 %.
	// Bounds are 4 binomial standard errors.
	shareBefore, shareAfter := float64(len(before.wrong))/n, float64(len(after.wrong))/n
	if shareBefore < 0.04 || shareBefore > 0.16 || shareAfter < 0.27 || shareAfter > 0.47 {
		t.Errorf("share wrong = %.3f before, %.3f after the drift; want ~0.10 and ~0.37", shareBefore, shareAfter)
	}
	for i := range before.wrong {
		if !after.wrong[i] {
			t.Errorf("question %d was wrong before the drift and right after it; want the update only to break answers", i)
		}
	}

	t.Run("models endpoint reports the new model", func(t *testing.T) {
		list, err := newClient(t, s).ListModels(t.Context())
		if err != nil {
			t.Fatalf("ListModels: %v", err)
		}
		if got, want := list.Models[0].ID, "sim-1-2026-11-update"; got != want {
			t.Errorf("model = %q, want %q", got, want)
		}
	})
}

// TestSilentDrift: with DriftSilent the answers change but the model id and
// the fingerprints do not, like another model served under the same name.
func TestSilentDrift(t *testing.T) {
	const n = 200
	s := sim.New(sim.Options{DriftAfter: n, DriftShare: 1, DriftSilent: true, WrongRate: -1, Seed: 4})
	for round := range 2 {
		wrong := 0
		models, fps := map[string]int{}, map[string]int{}
		for i := range n {
			resp := ask(t, s, chatRequest(faq, fmt.Sprintf("Question %d: how long is the return window?", i)))
			if !strings.Contains(resp.Choices[0].Message.Content, "30 days") {
				wrong++
			}
			models[resp.Model]++
			fps[resp.SystemFingerprint]++
		}
		if got, want := wrong, round*n; got != want {
			t.Errorf("round %d: %d wrong answers, want %d", round, got, want)
		}
		if diff := cmp.Diff(map[string]int{"sim-1": n}, models); diff != "" {
			t.Errorf("round %d: models (-want +got):\n%s", round, diff)
		}
		if fps["fp_sim_c"] != 0 || fps["fp_sim_a"]+fps["fp_sim_b"] != n {
			t.Errorf("round %d: fingerprints %v, want only those of before the update", round, fps)
		}
	}
	list, err := newClient(t, s).ListModels(t.Context())
	if err != nil {
		t.Fatalf("ListModels: %v", err)
	}
	if got, want := list.Models[0].ID, "sim-1"; got != want {
		t.Errorf("model after a silent update = %q, want %q", got, want)
	}
}

func TestFaultsDoNotCountTowardDrift(t *testing.T) {
	const driftAfter = 10
	s := sim.New(sim.Options{DriftAfter: driftAfter, FailRate: 0.3, Rate429: 0.2, Seed: 5})
	answered, faults := 0, 0
	for answered < driftAfter {
		if answered == driftAfter-1 && s.Drifted() {
			t.Fatalf("Drifted() = true after %d answers and %d faults, want false", answered, faults)
		}
		rec := post(t, s, "/v1/chat/completions", chatRequest(faq, "return window?"))
		switch rec.Code {
		case http.StatusOK:
			answered++
		case http.StatusInternalServerError, http.StatusTooManyRequests:
			faults++
		default:
			t.Fatalf("status = %d, want 200, 429 or 500", rec.Code)
		}
	}
	post(t, s, "/v1/chat/completions", "not json")
	if !s.Drifted() {
		t.Errorf("Drifted() = false after %d answers, want true", answered)
	}
	if faults == 0 {
		t.Errorf("no faults in %d requests; the test needs some", answered)
	}
	if got, want := s.Requests(), int64(answered+faults+1); got != want {
		t.Errorf("Requests() = %d, want %d (answers, faults and rejected requests)", got, want)
	}
}

func TestFaults(t *testing.T) {
	req := chatRequest(faq, "How long is the return window?")
	tests := []struct {
		name       string
		opts       sim.Options
		wantStatus int
		wantHeader http.Header // checked keys only
		wantType   string      // error.type; "" for a garbage body
		wantCode   any         // error.code as raw JSON decodes it
	}{
		{
			name:       "500",
			opts:       sim.Options{FailRate: 1},
			wantStatus: 500,
			wantType:   "server_error",
		},
		{
			name:       "429 default retry",
			opts:       sim.Options{Rate429: 1},
			wantStatus: 429,
			wantHeader: http.Header{"Retry-After": {"1"}, "Retry-After-Ms": {"1000"}},
			wantType:   "requests",
			wantCode:   "rate_limit_exceeded",
		},
		{
			name:       "429 retry rounded up",
			opts:       sim.Options{Rate429: 1, RetryAfter: 1500 * time.Millisecond},
			wantStatus: 429,
			wantHeader: http.Header{"Retry-After": {"2"}, "Retry-After-Ms": {"1500"}},
			wantType:   "requests",
			wantCode:   "rate_limit_exceeded",
		},
		{
			name:       "garbage",
			opts:       sim.Options{GarbageRate: 1},
			wantStatus: 200,
			wantHeader: http.Header{"Content-Type": {"application/json"}},
		},
		{
			name:       "garbage before 500 before 429",
			opts:       sim.Options{GarbageRate: 1, FailRate: 1, Rate429: 1},
			wantStatus: 200,
		},
		{
			name:       "500 before 429",
			opts:       sim.Options{FailRate: 1, Rate429: 1},
			wantStatus: 500,
			wantType:   "server_error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sim.New(tt.opts)
			rec := post(t, s, "/v1/chat/completions", req)
			if got, want := rec.Code, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			for k := range tt.wantHeader {
				if got, want := rec.Header().Get(k), tt.wantHeader.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if tt.wantType == "" {
				var resp openai.ChatCompletionResponse
				if err := json.Unmarshal(rec.Body.Bytes(), &resp); err == nil {
					t.Errorf("garbage body %q decoded, want a JSON error", rec.Body)
				}
			} else {
				var body openai.ErrorResponse
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == nil {
					t.Fatalf("body %s is not an OpenAI error object: %v", rec.Body, err)
				}
				if got, want := body.Error.Type, tt.wantType; got != want {
					t.Errorf("error.type = %q, want %q", got, want)
				}
				var raw struct{ Error map[string]any }
				if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.wantCode, raw.Error["code"]); diff != "" {
					t.Errorf("error.code mismatch (-want +got):\n%s", diff)
				}
			}

			// The real client sees the same fault.
			_, err := newClient(t, s).CreateChatCompletion(t.Context(), req)
			var apiErr *openai.APIError
			switch {
			case err == nil:
				t.Errorf("CreateChatCompletion succeeded, want an error")
			case tt.wantType == "" && errors.As(err, &apiErr):
				t.Errorf("CreateChatCompletion error = %v, want a decoding error", err)
			case tt.wantType != "" && (!errors.As(err, &apiErr) || apiErr.HTTPStatusCode != tt.wantStatus):
				t.Errorf("CreateChatCompletion error = %v, want an APIError with status %d", err, tt.wantStatus)
			}
			if got, want := s.Drifted(), false; got != want {
				t.Errorf("Drifted() = %v, want %v", got, want)
			}
		})
	}
}

func TestFaultShares(t *testing.T) {
	s := sim.New(sim.Options{GarbageRate: 0.1, FailRate: 0.2, Rate429: 0.1, Seed: 9})
	const n = 3000
	counts := map[string]int{}
	for range n {
		rec := post(t, s, "/v1/chat/completions", chatRequest(faq, "return window?"))
		kind := fmt.Sprint(rec.Code)
		if rec.Code == 200 && !json.Valid(rec.Body.Bytes()) {
			kind = "garbage"
		}
		counts[kind]++
	}
	for kind, want := range map[string]float64{"garbage": 0.1, "500": 0.2, "429": 0.1, "200": 0.6} {
		got := float64(counts[kind]) / n
		if tol := 4 * math.Sqrt(want*(1-want)/n); math.Abs(got-want) > tol {
			t.Errorf("share %s = %.3f, want %.3f ± %.3f (counts %v)", kind, got, want, tol, counts)
		}
	}
}

// hungServer serves s, signalling each request's arrival and its handler's
// return.
func hungServer(t *testing.T, s *sim.Server) (c *openai.Client, arrived, returned chan struct{}) {
	t.Helper()
	arrived, returned = make(chan struct{}, 10), make(chan struct{}, 10)
	c = newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { returned <- struct{}{} }()
		arrived <- struct{}{}
		s.ServeHTTP(w, r)
	}))
	return c, arrived, returned
}

func TestTimeoutHonoursCancellation(t *testing.T) {
	s := sim.New(sim.Options{TimeoutRate: 1})
	c, arrived, returned := hungServer(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.CreateChatCompletion(ctx, chatRequest(faq, "return window?"))
		errc <- err
	}()
	<-arrived
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("CreateChatCompletion error = %v, want context.Canceled", err)
	}
	<-returned // the handler gives up with the client
	if got, want := s.Requests(), int64(1); got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}

	t.Run("recorder: nothing written", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- postContext(t, ctx, s, "/v1/chat/completions", chatRequest(faq, "x")) }()
		cancel()
		rec := <-done
		if got := rec.Body.Len(); got != 0 {
			t.Errorf("body length = %d, want 0", got)
		}
	})
}

func TestCloseReleasesHungRequests(t *testing.T) {
	s := sim.New(sim.Options{TimeoutRate: 1})
	c, arrived, returned := hungServer(t, s)
	errc := make(chan error, 1)
	go func() {
		_, err := c.CreateChatCompletion(t.Context(), chatRequest(faq, "return window?"))
		errc <- err
	}()
	<-arrived
	s.Close()
	if err := <-errc; err == nil {
		t.Errorf("CreateChatCompletion succeeded, want a broken connection")
	}
	<-returned
	s.Close() // idempotent

	// Later timeout faults abort at once.
	if _, err := c.CreateChatCompletion(t.Context(), chatRequest(faq, "return window?")); err == nil {
		t.Errorf("CreateChatCompletion after Close succeeded, want a broken connection")
	}
	<-arrived
	<-returned
}

func TestLatency(t *testing.T) {
	req := chatRequest(faq, "return window?")
	t.Run("mean", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := sim.New(sim.Options{Latency: 2 * time.Second})
			start := time.Now()
			post(t, s, "/v1/chat/completions", req)
			if got, want := time.Since(start), 2*time.Second; got != want {
				t.Errorf("latency = %v, want %v", got, want)
			}
		})
	})
	t.Run("jitter", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := sim.New(sim.Options{Latency: time.Second, Jitter: 500 * time.Millisecond, FailRate: 0.5})
			seen := map[time.Duration]bool{}
			for range 20 {
				start := time.Now()
				post(t, s, "/v1/chat/completions", req) // faults wait too
				got := time.Since(start)
				if got < 500*time.Millisecond || got > 1500*time.Millisecond {
					t.Errorf("latency = %v, want within 1s ± 500ms", got)
				}
				seen[got] = true
			}
			if len(seen) < 10 {
				t.Errorf("%d distinct latencies in 20 requests, want jitter", len(seen))
			}
		})
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := sim.New(sim.Options{Latency: time.Hour})
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan *httptest.ResponseRecorder)
			start := time.Now()
			go func() { done <- postContext(t, ctx, s, "/v1/chat/completions", req) }()
			synctest.Wait()
			cancel()
			rec := <-done
			if got := time.Since(start); got != 0 {
				t.Errorf("returned after %v, want at once", got)
			}
			if got := rec.Body.Len(); got != 0 {
				t.Errorf("body length = %d, want 0", got)
			}
			if s.Drifted() {
				t.Errorf("Drifted() = true")
			}
		})
	})
}

func TestMaxTokens(t *testing.T) {
	s := sim.New(sim.Options{WrongRate: -1})
	c := newClient(t, s)
	full := answer(t, s, faq, "How long is the return window?")
	tests := []struct {
		name       string
		set        func(*openai.ChatCompletionRequest)
		wantFinish openai.FinishReason
		wantTokens int
		wantText   string
	}{
		{"max_tokens truncates", func(r *openai.ChatCompletionRequest) { r.MaxTokens = 2 }, openai.FinishReasonLength, 2, string([]rune(full)[:8])},
		{"max_completion_tokens truncates", func(r *openai.ChatCompletionRequest) { r.MaxCompletionTokens = 3 }, openai.FinishReasonLength, 3, string([]rune(full)[:12])},
		{"enough tokens", func(r *openai.ChatCompletionRequest) { r.MaxTokens = tokens(full) }, openai.FinishReasonStop, tokens(full), full},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := chatRequest(faq, "How long is the return window?")
			tt.set(&req)
			resp, err := c.CreateChatCompletion(t.Context(), req)
			if err != nil {
				t.Fatalf("CreateChatCompletion: %v", err)
			}
			if got, want := resp.Choices[0].FinishReason, tt.wantFinish; got != want {
				t.Errorf("finish_reason = %q, want %q", got, want)
			}
			if got, want := resp.Usage.CompletionTokens, tt.wantTokens; got != want {
				t.Errorf("completion_tokens = %d, want %d", got, want)
			}
			if got, want := resp.Choices[0].Message.Content, tt.wantText; got != want {
				t.Errorf("content = %q, want %q", got, want)
			}
		})
	}
}

func TestJSONMode(t *testing.T) {
	const system = `- greeting => Say "hi" & <wave>.`
	s := sim.New(sim.Options{WrongRate: -1})
	c := newClient(t, s)
	plain := answer(t, s, system, "What greeting?")
	for _, typ := range []openai.ChatCompletionResponseFormatType{openai.ChatCompletionResponseFormatTypeJSONObject, openai.ChatCompletionResponseFormatTypeText} {
		t.Run(string(typ), func(t *testing.T) {
			req := chatRequest(system, "What greeting?")
			req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: typ}
			resp, err := c.CreateChatCompletion(t.Context(), req)
			if err != nil {
				t.Fatalf("CreateChatCompletion: %v", err)
			}
			content := resp.Choices[0].Message.Content
			if typ == openai.ChatCompletionResponseFormatTypeText {
				if got, want := content, plain; got != want {
					t.Errorf("content = %q, want %q", got, want)
				}
				return
			}
			var v map[string]string
			if err := json.Unmarshal([]byte(content), &v); err != nil {
				t.Fatalf("content %q is not JSON: %v", content, err)
			}
			if diff := cmp.Diff(map[string]string{"answer": plain}, v); diff != "" {
				t.Errorf("JSON answer mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoise(t *testing.T) {
	const q = "How long is the return window?"
	t.Run("flips right to wrong", func(t *testing.T) {
		s := sim.New(sim.Options{Noise: 1, WrongRate: -1})
		if got := answer(t, s, faq, q); strings.Contains(got, "30 days") {
			t.Errorf("answer = %q, want a wrong one", got)
		}
	})
	t.Run("flips wrong to right", func(t *testing.T) {
		s := sim.New(sim.Options{Noise: 1, WrongRate: 1})
		if got := answer(t, s, faq, q); !strings.Contains(got, "30 days") {
			t.Errorf("answer = %q, want the right one", got)
		}
	})
	flips := func(seed uint64) []bool {
		s := sim.New(sim.Options{Noise: 0.3, WrongRate: -1, Seed: seed})
		var out []bool
		for range 1000 {
			out = append(out, !strings.Contains(answer(t, s, faq, q), "30 days"))
		}
		return out
	}
	a := flips(11)
	t.Run("share", func(t *testing.T) {
		n := 0
		for _, f := range a {
			if f {
				n++
			}
		}
		if got := float64(n) / float64(len(a)); got < 0.25 || got > 0.35 {
			t.Errorf("share flipped = %.3f, want ~0.3", got)
		}
	})
	t.Run("replayed by the seed", func(t *testing.T) {
		if diff := cmp.Diff(a, flips(11)); diff != "" {
			t.Errorf("same seed, different flips (-first +second):\n%s", diff)
		}
		if diff := cmp.Diff(a, flips(12)); diff == "" {
			t.Errorf("seeds 11 and 12 flipped the same answers, want different sequences")
		}
	})
}

func TestConcurrentRequests(t *testing.T) {
	const workers, perWorker = 8, 25
	opts := sim.Options{Rate429: 0.3, Seed: 21}
	question := func(w, i int) string { return fmt.Sprintf("Worker %d asks %d: when is the store open?", w, i) }

	// Sequential reference: the answers, and how many 429s the seed deals.
	ref := sim.New(opts)
	want := map[string]string{}
	want429 := 0
	for w := range workers {
		for i := range perWorker {
			q := question(w, i)
			want[q] = answer(t, sim.New(sim.Options{}), faq, q)
			if post(t, ref, "/v1/chat/completions", chatRequest(faq, q)).Code == http.StatusTooManyRequests {
				want429++
			}
		}
	}

	s := sim.New(opts)
	c := newClient(t, s)
	var (
		mu     sync.Mutex
		got429 int
		wg     sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				q := question(w, i)
				resp, err := c.CreateChatCompletion(t.Context(), chatRequest(faq, q))
				var apiErr *openai.APIError
				switch {
				case errors.As(err, &apiErr) && apiErr.HTTPStatusCode == http.StatusTooManyRequests:
					mu.Lock()
					got429++
					mu.Unlock()
				case err != nil:
					t.Errorf("CreateChatCompletion(%q): %v", q, err)
				case resp.Choices[0].Message.Content != want[q]:
					t.Errorf("answer(%q) = %q, want %q", q, resp.Choices[0].Message.Content, want[q])
				}
			}
		})
	}
	wg.Wait()
	if got, want := s.Requests(), int64(workers*perWorker); got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}
	// Request n gets the n-th draws whatever the interleaving, so the seed
	// deals the same number of 429s.
	if got, want := got429, want429; got != want {
		t.Errorf("429s = %d, want %d as in the sequential run", got, want)
	}
}

func TestRegisterFlags(t *testing.T) {
	parse := func(t *testing.T, args ...string) (sim.Options, *flag.FlagSet, error) {
		t.Helper()
		fs := flag.NewFlagSet("sim", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var o sim.Options
		o.RegisterFlags(fs)
		err := fs.Parse(args)
		return o, fs, err
	}
	t.Run("all flags", func(t *testing.T) {
		got, _, err := parse(t, "--latency", "50ms", "--jitter=10ms", "--fail-rate", "0.1", "--rate429", "0.05",
			"--retry-after", "2s", "--timeout-rate", "0.01", "--garbage-rate", "0.02", "--noise", "0.1",
			"--wrong-rate", "0.2", "--drift-after", "100", "--drift-share", "0.5", "--model", "m", "--drift-model", "m2", "--seed", "42",
			"--judge-drift-after", "7", "--judge-drift-share", "0.6")
		if err != nil {
			t.Fatal(err)
		}
		want := sim.Options{
			Model: "m", Latency: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, FailRate: 0.1, Rate429: 0.05,
			RetryAfter: 2 * time.Second, TimeoutRate: 0.01, GarbageRate: 0.02, Noise: 0.1, WrongRate: 0.2,
			DriftAfter: 100, DriftShare: 0.5, DriftModel: "m2", Seed: 42, JudgeDriftAfter: 7, JudgeDriftShare: 0.6,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("options mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		got, fs, err := parse(t)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sim.Options{Model: "sim-1", RetryAfter: time.Second}, got); diff != "" {
			t.Errorf("options mismatch (-want +got):\n%s", diff)
		}
		for name, want := range map[string]string{"wrong-rate": "0.1", "drift-share": "0.3", "noise": "0", "retry-after": "1s", "judge-drift-share": "0.3", "judge-drift-after": "0"} {
			if got := fs.Lookup(name).DefValue; got != want {
				t.Errorf("--%s default = %q, want %q", name, got, want)
			}
		}
	})
	t.Run("explicit zero means none", func(t *testing.T) {
		got, _, err := parse(t, "--wrong-rate", "0", "--drift-share=0")
		if err != nil {
			t.Fatal(err)
		}
		eff := sim.New(got).Options()
		if eff.WrongRate != 0 || eff.DriftShare != 0 {
			t.Errorf("effective WrongRate, DriftShare = %g, %g, want 0, 0", eff.WrongRate, eff.DriftShare)
		}
	})
	for _, args := range [][]string{{"--noise", "1.5"}, {"--fail-rate", "-0.1"}, {"--rate429", "x"}, {"--wrong-rate", "NaN"}} {
		t.Run("rejects "+strings.Join(args, " "), func(t *testing.T) {
			if _, _, err := parse(t, args...); err == nil {
				t.Errorf("Parse(%q) succeeded, want an error", args)
			}
		})
	}
}

func TestEmbeddingInputs(t *testing.T) {
	s := sim.New(sim.Options{})
	tests := []struct {
		name  string
		input any
		want  int
	}{
		{"string", "hello", 1},
		{"strings", []string{"a b", "c d"}, 2},
		{"token ids", []int{1, 2, 3}, 1},
		{"token id lists", [][]int{{1, 2}, {3}}, 2},
		{"empty string", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(t, s, "/embeddings", map[string]any{"input": tt.input})
			if rec.Code != http.StatusOK {
				t.Fatalf("POST /embeddings = %d %s, want 200", rec.Code, rec.Body)
			}
			var resp openai.EmbeddingResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if got, want := len(resp.Data), tt.want; got != want {
				t.Errorf("len(data) = %d, want %d", got, want)
			}
		})
	}
}

func BenchmarkServeHTTP(b *testing.B) {
	body, err := json.Marshal(chatRequest(faq, "How long is the return window?"))
	if err != nil {
		b.Fatal(err)
	}
	serve := func(b *testing.B, s *sim.Server) {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status = %d", rec.Code)
		}
	}
	b.Run("serial", func(b *testing.B) {
		s := sim.New(sim.Options{})
		b.ReportAllocs()
		for b.Loop() {
			serve(b, s)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
	})
	b.Run("parallel", func(b *testing.B) {
		s := sim.New(sim.Options{})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				serve(b, s)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
	})
}
