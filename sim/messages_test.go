package sim_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/evald/evald/sim"
)

type anthropicAnswer struct {
	Type       string `json:"type"`
	Model      string `json:"model"`
	StopReason string `json:"stop_reason"`
	Content    []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	Usage struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	} `json:"usage"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func askMessages(t *testing.T, h http.Handler, body any) (int, http.Header, anthropicAnswer) {
	t.Helper()
	rec := post(t, h, "/v1/messages", body)
	var a anthropicAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("decode: %v\n%s", err, rec.Body)
	}
	return rec.Code, rec.Header(), a
}

// /v1/messages answers as /v1/chat/completions does, in Anthropic's wire
// format: the same text and model, the chat usage as input/output tokens.
func TestMessagesAnswersAsChat(t *testing.T) {
	for _, q := range []string{"How long is the return window?", "What does shipping cost?"} {
		chat := ask(t, sim.New(sim.Options{WrongRate: -1}), chatRequest(faq, q))
		code, hdr, got := askMessages(t, sim.New(sim.Options{WrongRate: -1}), map[string]any{
			"model": "gpt-4o-mini", "max_tokens": 256,
			"system":   []any{map[string]any{"type": "text", "text": faq}},
			"messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": q}}}},
		})
		if code != http.StatusOK || got.Type != "message" || len(got.Content) != 1 || got.Content[0].Type != "text" {
			t.Fatalf("POST /v1/messages = %d %+v, want a message with one text block", code, got)
		}
		if got.Content[0].Text != chat.Choices[0].Message.Content || got.Model != chat.Model || got.StopReason != "end_turn" {
			t.Errorf("messages answered %q (model %q, %s), chat %q (model %q)", got.Content[0].Text, got.Model, got.StopReason, chat.Choices[0].Message.Content, chat.Model)
		}
		if got.Usage.InputTokens != chat.Usage.PromptTokens || got.Usage.OutputTokens != chat.Usage.CompletionTokens {
			t.Errorf("usage %+v, want chat's %d/%d", got.Usage, chat.Usage.PromptTokens, chat.Usage.CompletionTokens)
		}
		if hdr.Get("Request-Id") == "" {
			t.Error("no request-id header")
		}
	}
}

// What Anthropic refuses, and the simulator's faults, come back as
// Anthropic errors.
func TestMessagesErrors(t *testing.T) {
	msgs := []any{map[string]any{"role": "user", "content": "hi"}}
	code, _, got := askMessages(t, sim.New(sim.Options{}), map[string]any{"model": "m", "messages": msgs})
	if code != http.StatusBadRequest || got.Type != "error" || got.Error.Type != "invalid_request_error" {
		t.Errorf("no max_tokens: %d %+v, want 400 invalid_request_error", code, got)
	}
	code, hdr, got := askMessages(t, sim.New(sim.Options{Rate429: 1}), map[string]any{"model": "m", "max_tokens": 8, "messages": msgs})
	if code != http.StatusTooManyRequests || got.Error.Type != "rate_limit_error" || hdr.Get("Retry-After") == "" {
		t.Errorf("rate limited: %d %+v retry-after %q, want 429 rate_limit_error with Retry-After", code, got, hdr.Get("Retry-After"))
	}
	code, _, got = askMessages(t, sim.New(sim.Options{FailRate: 1}), map[string]any{"model": "m", "max_tokens": 8, "messages": msgs})
	if code != http.StatusInternalServerError || got.Error.Type != "api_error" {
		t.Errorf("server fault: %d %+v, want 500 api_error", code, got)
	}
}
