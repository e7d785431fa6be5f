package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// System fingerprints: before the drift 90 % fpBefore and 10 % fpRare,
// after it 90 % fpAfter and 10 % fpRare.
const (
	fpBefore = "fp_sim_a"
	fpRare   = "fp_sim_b"
	fpAfter  = "fp_sim_c"
)

// message is a chat message whose content may be a string, null or an
// array of content parts; text holds its text parts joined.
type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	text    string
}

type chatRequest struct {
	Model               string    `json:"model"`
	Messages            []message `json:"messages"`
	Temperature         *float64  `json:"temperature"`
	TopP                *float64  `json:"top_p"`
	MaxTokens           int       `json:"max_tokens"`
	MaxCompletionTokens int       `json:"max_completion_tokens"`
	Seed                *int64    `json:"seed"`
	N                   *int      `json:"n"`
	Stream              bool      `json:"stream"`
	ResponseFormat      *struct {
		Type string `json:"type"`
	} `json:"response_format"`
	Tools []toolDecl `json:"tools"`
}

type chatResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []chatChoice `json:"choices"`
	Usage             usage        `json:"usage"`
}

type chatChoice struct {
	Index        int             `json:"index"`
	Message      responseMessage `json:"message"`
	Logprobs     *struct{}       `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

type responseMessage struct {
	Role      string     `json:"role"`
	Content   string     `json:"content"`
	Refusal   *string    `json:"refusal"`
	ToolCalls []toolCall `json:"tool_calls,omitempty"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// draw is the seeded randomness of one chat request.
type draw struct {
	fault   fault
	latency time.Duration
	flip    bool // Noise: flip right and wrong
	rareFP  bool // send the 10 % fingerprint
}

type fault int

const (
	noFault fault = iota
	faultTimeout
	faultGarbage
	faultServer
	faultRateLimit
)

// draw takes a fixed number of values from the seeded generator, so request
// n sees the same draws whatever the options.
func (s *Server) draw() draw {
	s.mu.Lock()
	u := s.rng.Float64()
	noise := s.rng.Float64()
	fp := s.rng.Float64()
	jitter := s.rng.Float64()
	s.mu.Unlock()

	o := &s.opts
	d := draw{flip: noise < o.Noise, rareFP: fp < 0.1}
	// One uniform split in the documented fault order, so each rate is the
	// share of requests given that fault.
	for _, f := range []struct {
		rate  float64
		fault fault
	}{{o.TimeoutRate, faultTimeout}, {o.GarbageRate, faultGarbage}, {o.FailRate, faultServer}, {o.Rate429, faultRateLimit}} {
		if u < f.rate {
			d.fault = f.fault
			break
		}
		u -= f.rate
	}
	d.latency = max(o.Latency+time.Duration((2*jitter-1)*float64(o.Jitter)), 0)
	return d
}

// chat serves POST /v1/chat/completions.
func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	var req chatRequest
	if !decodeBody(w, r, &req) || !validateChat(w, &req) {
		return
	}
	if s.opts.Hostile != "" {
		s.hostile(w, r)
		return
	}
	d := s.draw()
	ctx := r.Context()
	if d.fault == faultTimeout {
		s.hang(ctx)
		return
	}
	if !wait(ctx, d.latency) {
		return
	}
	switch d.fault {
	case faultGarbage:
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"id":"chatcmpl-sim%010d","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`, s.ids.Add(1))
		return
	case faultServer:
		writeError(w, http.StatusInternalServerError, errServer, "",
			"The server had an error while processing your request. Sorry about that! (simulated)")
		return
	case faultRateLimit:
		ra := s.opts.RetryAfter
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(ra.Seconds())), 10))
		w.Header().Set("Retry-After-Ms", strconv.FormatInt(ra.Milliseconds(), 10))
		writeError(w, http.StatusTooManyRequests, errRateLimit, "rate_limit_exceeded",
			"Rate limit reached for requests (simulated). Please try again in "+ra.String()+".")
		return
	}

	n := s.answered.Add(1)
	drifted := s.opts.DriftAfter > 0 && n > int64(s.opts.DriftAfter)
	p := readPrompt(req.Messages)
	correct, wrong := p.answers()
	isWrong := p.unit("wrong-rate") < s.opts.WrongRate
	if s.opts.MoveAfter > 0 && n > int64(s.opts.MoveAfter) {
		// Both ways, mean unchanged: as many right pairs turn wrong as
		// wrong pairs turn right.
		if w := s.opts.WrongRate; isWrong {
			isWrong = p.unit("move") >= s.opts.MoveShare
		} else if w < 1 {
			isWrong = p.unit("move") < s.opts.MoveShare*w/(1-w)
		}
	}
	isWrong = isWrong || drifted && p.unit("drift") < s.opts.DriftShare
	flip := d.flip
	if s.opts.GreedyAfter > 0 && n > int64(s.opts.GreedyAfter) {
		flip = p.unit("greedy") < s.opts.Noise // fixed per pair
	}
	if flip {
		isWrong = !isWrong
	}
	content := correct
	if isWrong {
		content = wrong
	}
	calls, agentText, agent := s.agentReply(&req, p, isWrong)
	if agent {
		content = agentText
	}
	judgeDrifted := false
	if verdict, ok := gradeReply(p.question); ok {
		content = verdict // a grading request (grade.go)
		if judgeDrifted = s.judgeDrifted(); judgeDrifted {
			content = s.stricter(content, p) // judge.go
		}
	}
	if calls == nil && req.ResponseFormat != nil && (req.ResponseFormat.Type == "json_object" || req.ResponseFormat.Type == "json_schema") {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(struct {
			Answer string `json:"answer"`
		}{content}) // a struct of one string always encodes
		content = strings.TrimSuffix(buf.String(), "\n")
	}

	finish := "stop"
	if calls != nil {
		finish = "tool_calls"
	}
	completion := tokens(content)
	for _, c := range calls {
		completion += tokens(c.Function.Name + c.Function.Arguments)
	}
	if limit := maxTokens(&req); limit > 0 && completion > limit {
		content = truncateRunes(content, 4*limit)
		completion, finish = limit, "length"
	}
	promptTokens := 0
	for _, m := range req.Messages {
		promptTokens += tokens(m.text) + 4
	}
	if s.opts.TemplateAfter > 0 && n > int64(s.opts.TemplateAfter) {
		promptTokens = 0
		for _, m := range req.Messages {
			promptTokens += (tokens(m.text)*55+99)/100 + 1
		}
	}

	// A silent update keeps the identity of before.
	identityChanged := drifted && !s.opts.DriftSilent
	fp, rare := fpBefore, fpRare
	if identityChanged {
		fp, rare = fpAfter, fpBefore
	}
	if d.rareFP {
		fp = rare
	}
	model := s.model(identityChanged)
	if judgeDrifted {
		model, fp = s.opts.Model+judgeDriftModelSuffix, fpJudgeAfter
	}
	writeJSON(w, http.StatusOK, chatResponse{
		ID:                fmt.Sprintf("chatcmpl-sim%010d", s.ids.Add(1)),
		Object:            "chat.completion",
		Created:           time.Now().Unix(),
		Model:             model,
		SystemFingerprint: fp,
		Choices: []chatChoice{{
			Message:      responseMessage{Role: "assistant", Content: content, ToolCalls: calls},
			FinishReason: finish,
		}},
		Usage: usage{PromptTokens: promptTokens, CompletionTokens: completion, TotalTokens: promptTokens + completion},
	})
}

// validateChat checks what the simulator needs and what OpenAI would refuse;
// on failure it has answered 400 and returns false.
func validateChat(w http.ResponseWriter, req *chatRequest) bool {
	if len(req.Messages) == 0 {
		badRequest(w, "messages", "'messages' must contain at least one message.")
		return false
	}
	for i := range req.Messages {
		m := &req.Messages[i]
		if m.Role == "" {
			badRequest(w, fmt.Sprintf("messages[%d].role", i), fmt.Sprintf("Missing required parameter: 'messages[%d].role'.", i))
			return false
		}
		text, err := contentText(m.Content)
		if err != nil {
			badRequest(w, fmt.Sprintf("messages[%d].content", i), fmt.Sprintf("Invalid 'messages[%d].content': %v.", i, err))
			return false
		}
		m.text = text
	}
	switch {
	case req.Stream:
		badRequest(w, "stream", "streaming not supported by the simulator")
	case req.N != nil && *req.N != 1:
		badRequest(w, "n", "n other than 1 not supported by the simulator")
	case req.Temperature != nil && (*req.Temperature < 0 || *req.Temperature > 2):
		badRequest(w, "temperature", fmt.Sprintf("Invalid 'temperature': %g; expected a value between 0 and 2.", *req.Temperature))
	case req.TopP != nil && (*req.TopP < 0 || *req.TopP > 1):
		badRequest(w, "top_p", fmt.Sprintf("Invalid 'top_p': %g; expected a value between 0 and 1.", *req.TopP))
	case req.MaxTokens < 0:
		badRequest(w, "max_tokens", fmt.Sprintf("Invalid 'max_tokens': %d; expected a value >= 1.", req.MaxTokens))
	case req.MaxCompletionTokens < 0:
		badRequest(w, "max_completion_tokens", fmt.Sprintf("Invalid 'max_completion_tokens': %d; expected a value >= 1.", req.MaxCompletionTokens))
	case req.ResponseFormat != nil && !validFormat[req.ResponseFormat.Type]:
		badRequest(w, "response_format.type", fmt.Sprintf("Invalid 'response_format.type': %q; expected text, json_object or json_schema.", req.ResponseFormat.Type))
	default:
		return true
	}
	return false
}

var validFormat = map[string]bool{"text": true, "json_object": true, "json_schema": true}

// contentText returns the text of a message content: a string, null, or an
// array of parts whose "text" fields are joined with newlines.
func contentText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", fmt.Errorf("expected a string or an array of content parts")
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n"), nil
}

// maxTokens returns the completion limit a request sets, 0 if none.
func maxTokens(req *chatRequest) int {
	switch {
	case req.MaxCompletionTokens > 0 && req.MaxTokens > 0:
		return min(req.MaxCompletionTokens, req.MaxTokens)
	case req.MaxCompletionTokens > 0:
		return req.MaxCompletionTokens
	}
	return req.MaxTokens
}

// truncateRunes returns the first n runes of s.
func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// wait sleeps for d unless ctx ends first, and reports whether to go on.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hang holds a request until the client gives up, or aborts its connection
// once the server is closed.
func (s *Server) hang(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-s.closed:
		panic(http.ErrAbortHandler)
	}
}
