package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
)

// Anthropic's Messages API, answered by the chat completions simulator:
// a request is turned into the chat request it means, answered by chat,
// and the answer (or fault) sent back in Anthropic's wire format. So both
// endpoints give the same answers, faults, drift and usage.

// messagesRequest is a Messages API request: system is a string or an
// array of text blocks, each message's content a string or an array of
// content blocks.
type messagesRequest struct {
	Model       string          `json:"model"`
	MaxTokens   *int            `json:"max_tokens"`
	System      json.RawMessage `json:"system"`
	Messages    []message       `json:"messages"`
	Temperature *float64        `json:"temperature"`
	TopP        *float64        `json:"top_p"`
	Stream      bool            `json:"stream"`
	Tools       []any           `json:"tools"`
}

type messagesResponse struct {
	ID           string         `json:"id"`
	Type         string         `json:"type"`
	Role         string         `json:"role"`
	Model        string         `json:"model"`
	Content      []contentBlock `json:"content"`
	StopReason   string         `json:"stop_reason"`
	StopSequence *string        `json:"stop_sequence"`
	Usage        messagesUsage  `json:"usage"`
}

type contentBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type messagesUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// StatusOverloaded is Anthropic's 529.
const statusOverloaded = 529

// messages serves POST /v1/messages.
func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Request-Id", fmt.Sprintf("req_sim%010d", s.ids.Add(1)))
	var req messagesRequest
	if !decodeAnthropic(w, r, &req) {
		return
	}
	chat, ok := chatOf(w, &req)
	if !ok {
		return
	}
	body, err := json.Marshal(chat)
	if err != nil {
		anthropicError(w, http.StatusInternalServerError, "sim: "+err.Error())
		return
	}
	if s.opts.Hostile != "" {
		// A broken endpoint is broken whatever API it claims: the
		// hostile answer goes out as it is (some are endless, so it is
		// never buffered).
		s.requests.Add(1)
		s.hostile(w, r)
		return
	}
	inner := r.Clone(r.Context())
	inner.Body, inner.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	rec := httptest.NewRecorder()
	s.chat(rec, inner)
	if rec.Code == http.StatusOK {
		var cr chatResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &cr); err == nil && len(cr.Choices) == 1 {
			writeJSON(w, http.StatusOK, messagesResponse{
				ID: "msg_" + cr.ID, Type: "message", Role: "assistant", Model: cr.Model,
				Content:    []contentBlock{{Type: "text", Text: cr.Choices[0].Message.Content}},
				StopReason: stopReason(cr.Choices[0].FinishReason),
				Usage:      messagesUsage{InputTokens: cr.Usage.PromptTokens, OutputTokens: cr.Usage.CompletionTokens},
			})
			return
		}
	}
	if rec.Code >= 400 {
		var e struct {
			Error apiError `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		for _, h := range []string{"Retry-After", "Retry-After-Ms"} {
			if v := rec.Header().Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		anthropicError(w, rec.Code, e.Error.Message)
		return
	}
	// A garbled answer is sent as the chat endpoint sent it.
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// chatOf is the chat request req means: the system prompt first, then the
// turns. On a request Anthropic would refuse it has answered 400.
func chatOf(w http.ResponseWriter, req *messagesRequest) (map[string]any, bool) {
	switch {
	case req.MaxTokens == nil:
		anthropicError(w, http.StatusBadRequest, "max_tokens: Field required")
		return nil, false
	case *req.MaxTokens < 1:
		anthropicError(w, http.StatusBadRequest, "max_tokens: must be at least 1")
		return nil, false
	case len(req.Messages) == 0:
		anthropicError(w, http.StatusBadRequest, "messages: at least one message is required")
		return nil, false
	case req.Temperature != nil && (*req.Temperature < 0 || *req.Temperature > 1):
		anthropicError(w, http.StatusBadRequest, "temperature: must be between 0 and 1")
		return nil, false
	case req.Stream:
		anthropicError(w, http.StatusBadRequest, "stream: streaming not supported by the simulator")
		return nil, false
	case req.Tools != nil:
		anthropicError(w, http.StatusBadRequest, "tools: not supported by the simulator's Messages API")
		return nil, false
	}
	var msgs []map[string]any
	if len(req.System) > 0 {
		sys, err := contentText(req.System)
		if err != nil {
			anthropicError(w, http.StatusBadRequest, "system: "+err.Error())
			return nil, false
		}
		msgs = append(msgs, map[string]any{"role": "system", "content": sys})
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			anthropicError(w, http.StatusBadRequest, fmt.Sprintf("messages.%d.role: must be user or assistant", i))
			return nil, false
		}
		msgs = append(msgs, map[string]any{"role": m.Role, "content": m.Content})
	}
	chat := map[string]any{"model": req.Model, "messages": msgs, "max_tokens": *req.MaxTokens}
	if req.Temperature != nil {
		chat["temperature"] = *req.Temperature
	}
	if req.TopP != nil {
		chat["top_p"] = *req.TopP
	}
	return chat, true
}

func stopReason(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls":
		return "tool_use"
	}
	return "end_turn"
}

// anthropicError sends status with an Anthropic error object.
func anthropicError(w http.ResponseWriter, status int, msg string) {
	typ := "api_error"
	switch status {
	case http.StatusBadRequest:
		typ = "invalid_request_error"
	case http.StatusUnauthorized:
		typ = "authentication_error"
	case http.StatusNotFound:
		typ = "not_found_error"
	case http.StatusRequestEntityTooLarge:
		typ = "request_too_large"
	case http.StatusTooManyRequests:
		typ = "rate_limit_error"
	case statusOverloaded:
		typ = "overloaded_error"
	}
	writeJSON(w, status, map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
}

// decodeAnthropic decodes a request body, answering Anthropic's error on
// failure.
func decodeAnthropic(w http.ResponseWriter, r *http.Request, v any) bool {
	rec := httptest.NewRecorder()
	if decodeBody(rec, r, v) {
		return true
	}
	var e struct {
		Error apiError `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &e)
	anthropicError(w, rec.Code, e.Error.Message)
	return false
}
