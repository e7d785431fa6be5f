package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

// The tool loop: a case of an agent suite is a conversation. Each turn
// sends the conversation so far; while the model answers with tool calls,
// each call is answered from the suite's tool_results and the model asked
// again, up to max_tool_steps round trips; its final text is the turn's
// output and its calls the turn's trajectory.

// ToolProvider is a Provider that can carry a conversation with tool calls
// (the assistant's calls and the tool messages answering them) and send a
// suite's tools in place of the target's.
type ToolProvider interface {
	CompleteChat(ctx context.Context, req ChatRequest) (Response, error)
}

// ChatRequest is one request of a conversation.
type ChatRequest struct {
	Messages []ChatMessage
	// Tools are OpenAI tool definitions sent in place of the target's
	// params.tools (nil: the target's).
	Tools []any
}

// ChatMessage is one message of a conversation: an assistant message may
// hold tool calls, and a tool message answers the call ToolCallID.
type ChatMessage struct {
	Role       string
	Content    string
	ToolCalls  []ToolCallRequest
	ToolCallID string
}

// maxCallsPerReply bounds the tool calls evald answers in one reply: a
// reply with more fails its turn, so that a runaway model cannot grow the
// conversation (and the stored trajectory) without bound.
const maxCallsPerReply = 64

// maxCallsPerTurn bounds the tool calls of one turn over its round trips:
// beyond it the turn fails, so that max_tool_steps (up to 100) times
// maxCallsPerReply cannot grow one sample's conversation and stored
// trajectory to thousands of calls.
const maxCallsPerTurn = 128

// agentic reports whether a case goes through the tool loop: its suite
// declares tools or tool results, or the case is a conversation.
func agentic(s *evals.Suite, c *evals.Case) bool {
	return c.Turns != nil || s.Tools != nil || s.ToolResults != nil
}

// executeAgent plays one case as a conversation and scores every turn.
// A turn whose call fails (after the target's retries) ends the sample
// errored; a turn that exceeds max_tool_steps fails the sample.
func executeAgent(ctx context.Context, suite *evals.Suite, caseIndex, repeat int, t Target, opts Options) Sample {
	c := &suite.Cases[caseIndex]
	s := Sample{CaseIndex: caseIndex, CaseID: c.ID, Repeat: repeat}
	tp, ok := t.Provider.(ToolProvider)
	if !ok {
		s.ErrClass, s.ErrText = ClassClient, "the target's provider cannot send tool calls or conversations (agent suites need an OpenAI-compatible target)"
		return s
	}
	msgs := make([]ChatMessage, len(c.Messages))
	for i, m := range c.Messages {
		msgs[i] = ChatMessage{Role: m.Role, Content: m.Content}
	}
	turns := c.Turns
	if turns == nil {
		turns = []evals.Turn{{First: 0, End: len(c.Asserts)}}
	}
	declared := suite.ToolNames()
	var latencies []time.Duration
	for ti, turn := range turns {
		if c.Turns != nil {
			msgs = append(msgs, ChatMessage{Role: "user", Content: turn.User})
		}
		rec := scoring.Turn{User: turn.User}
		var latency time.Duration
		for step := 0; ; step++ {
			resp, lat, err := callRetrying(ctx, tp, ChatRequest{Messages: msgs, Tools: suite.Tools}, t, opts, &s)
			latency += lat
			if err != nil && classOf(err) != ClassRefused {
				rec.Error = err.Error()
				s.Turns = append(s.Turns, rec)
				if ctx.Err() != nil {
					s.ErrClass, s.ErrText = ClassCanceled, "run stopped"
					return s
				}
				s.ErrClass, s.ErrText = classOf(err), turnPrefix(c, ti)+err.Error()
				var ce *CallError
				if errors.As(err, &ce) {
					s.ErrStatus = ce.Status
				}
				return s
			}
			s.Model, s.Fingerprint, s.FinishReason = resp.Model, resp.Fingerprint, resp.FinishReason
			if ti == 0 && step == 0 {
				s.FirstPromptTokens = resp.PromptTokens
			}
			s.PromptTokens += resp.PromptTokens
			s.CompletionTokens += resp.CompletionTokens
			if err != nil { // refused by policy: the model's behaviour, scored
				s.ErrClass, s.ErrText = ClassRefused, turnPrefix(c, ti)+err.Error()
			}
			if len(resp.ToolCalls) == 0 {
				rec.Output = resp.Text
				break
			}
			if n := len(resp.ToolCalls); n > maxCallsPerReply {
				rec.Output = resp.Text
				rec.Failure = fmt.Sprintf("answered with %d tool calls in one reply; evald answers at most %d", n, maxCallsPerReply)
				break
			}
			if n := len(rec.Calls) + len(resp.ToolCalls); n > maxCallsPerTurn {
				rec.Output = resp.Text
				rec.Failure = fmt.Sprintf("made %d tool calls in one turn; evald answers at most %d", n, maxCallsPerTurn)
				break
			}
			if step == suite.ToolSteps() {
				rec.Output = resp.Text
				rec.Failure = fmt.Sprintf("still calling tools after %d tool round trips (max_tool_steps)", suite.ToolSteps())
				break
			}
			calls := withIDs(resp.ToolCalls, ti, step)
			msgs = append(msgs, ChatMessage{Role: "assistant", Content: resp.Text, ToolCalls: calls})
			for _, tc := range calls {
				call := answer(suite, declared, tc)
				rec.Calls = append(rec.Calls, call)
				body, err := json.Marshal(call.Result)
				if err != nil {
					body = []byte(`{"error":"unencodable result"}`)
				}
				msgs = append(msgs, ChatMessage{Role: "tool", Content: string(body), ToolCallID: tc.ID})
			}
		}
		if rec.Output != "" {
			msgs = append(msgs, ChatMessage{Role: "assistant", Content: rec.Output})
		}
		// An empty answer (a turn cut off still calling tools, or a
		// model that said nothing) is left out of the conversation: an
		// assistant message needs content or tool calls, and the calls
		// beyond the bound were never answered. The next user message
		// then follows the turn's last tool results, which the API
		// accepts.
		s.Turns = append(s.Turns, rec)
		s.Latency += latency
		latencies = append(latencies, latency)
	}
	s.Text = s.Turns[len(s.Turns)-1].Output
	s.CostUSD = float64(s.PromptTokens)*t.Price.InputPerMTok/1e6 + float64(s.CompletionTokens)*t.Price.OutputPerMTok/1e6
	scoreTurns(ctx, &s, c, latencies, t.Judge, opts)
	return s
}

// scoreTurns checks each turn's assertions on what s.Turns recorded of it
// (its final text and trajectory), asking j for the model-graded ones, and
// sets the sample's results, pass and score; a turn that ran past
// max_tool_steps fails the sample. latencies, one per turn, may be nil
// (a regrade).
func scoreTurns(ctx context.Context, s *Sample, c *evals.Case, latencies []time.Duration, j *Judge, opts Options) {
	turns := c.Turns
	if turns == nil {
		turns = []evals.Turn{{First: 0, End: len(c.Asserts)}}
	}
	var jc *judgeCall
	graded, failed := false, false
	s.Results = make([]scoring.Result, len(c.Asserts))
	for ti, turn := range turns {
		var rec scoring.Turn
		if ti < len(s.Turns) {
			rec = s.Turns[ti]
		}
		failed = failed || rec.Failure != ""
		input := turn.User
		if input == "" {
			input = evals.LastUser(c.Messages)
		}
		out := scoring.Output{Text: rec.Output, Input: input, Calls: rec.Calls}
		if ti < len(latencies) {
			out.Latency = latencies[ti]
		}
		for i := turn.First; i < turn.End; i++ {
			a := c.Asserts[i]
			if g, ok := a.(scoring.Graded); ok {
				if !graded && j != nil {
					jc = &judgeCall{j: j, opts: opts}
				}
				graded = true
				s.Results[i] = gradeWith(ctx, jc, g, out)
			} else {
				s.Results[i] = a.Check(out)
			}
			if c.Turns != nil {
				s.Results[i].Turn = ti + 1
			}
		}
	}
	s.Pass, s.Score = scoring.SampleScore(s.Results)
	if failed {
		s.Pass = false
	}
	if graded {
		finishGrading(ctx, s, jc)
	}
}

// withIDs gives every tool call of a reply an id: some servers (llama.cpp
// and Ollama builds) send none, and a tool message must name the call it
// answers. A synthesized id depends only on where the call stands (turn,
// round trip, position), so the same conversation sends the same ids every
// run.
func withIDs(calls []ToolCallRequest, turn, step int) []ToolCallRequest {
	var out []ToolCallRequest
	for i, tc := range calls {
		if tc.ID != "" {
			continue
		}
		if out == nil {
			out = slices.Clone(calls)
		}
		out[i].ID = fmt.Sprintf("call_%d_%d_%d", turn+1, step+1, i+1)
	}
	if out == nil {
		return calls
	}
	return out
}

func turnPrefix(c *evals.Case, ti int) string {
	if c.Turns == nil {
		return ""
	}
	return fmt.Sprintf("turn %d: ", ti+1)
}

// answer resolves one tool call from the suite's tool_results: the first
// entry whose when the arguments contain, else the default. A tool the
// suite neither declares nor answers gets an error result the model sees,
// as does a declared tool with no entry for these arguments.
func answer(suite *evals.Suite, declared []string, tc ToolCallRequest) scoring.ToolCall {
	call := scoring.ToolCall{Name: tc.Name}
	var args any
	if tc.Arguments != "" {
		if err := json.Unmarshal([]byte(tc.Arguments), &args); err != nil {
			call.RawArgs = tc.Arguments
			call.Result = map[string]any{"error": "the arguments are not valid JSON"}
			return call
		}
	}
	call.Args = args
	if r, ok := suite.Answer(tc.Name, args); ok {
		call.Result = r
		return call
	}
	_, answered := suite.ToolResults[tc.Name]
	if answered || slices.Contains(declared, tc.Name) {
		call.Result = map[string]any{"error": "no result for these arguments"}
		return call
	}
	call.Result = map[string]any{"error": fmt.Sprintf("unknown tool %q", tc.Name)}
	return call
}

// callRetrying sends one request of the conversation, retrying as the
// target allows (as execute does for a plain case); s counts the attempts.
func callRetrying(ctx context.Context, tp ToolProvider, req ChatRequest, t Target, opts Options, s *Sample) (Response, time.Duration, error) {
	return retrying(ctx, t, opts, &s.Attempts, func() (Response, time.Duration, error) { return attemptChat(ctx, tp, req, t) })
}

// retrying makes call, and again after a retryable error, up to t.Retries
// more times, waiting its backoff or a Retry-After that fits the run. A
// refusal is an answer and returns at once; attempts counts every try, and
// the latency returned is the last try's.
func retrying(ctx context.Context, t Target, opts Options, attempts *int, call func() (Response, time.Duration, error)) (Response, time.Duration, error) {
	var lastErr error
	var latency time.Duration
	for attempt := 0; attempt <= t.Retries; attempt++ {
		*attempts++
		resp, lat, err := call()
		latency = lat
		if err == nil || classOf(err) == ClassRefused {
			return resp, latency, err
		}
		lastErr = err
		var ce *CallError
		if ctx.Err() != nil || !errors.As(err, &ce) || !ce.Retryable() || attempt == t.Retries {
			break
		}
		if lastErr = tooLong(ctx, ce, opts); lastErr != err { //nolint:errorlint // identity: did tooLong keep err as it was?
			break
		}
		if wait(ctx, retryDelay(attempt, ce.RetryAfter, opts)) != nil {
			break
		}
	}
	return Response{}, latency, lastErr
}

func attemptChat(ctx context.Context, tp ToolProvider, req ChatRequest, t Target) (Response, time.Duration, error) {
	release, err := t.Gate.Acquire(ctx)
	if err != nil {
		return Response{}, 0, &CallError{Class: ClassCanceled, Err: err}
	}
	defer release()
	actx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := tp.CompleteChat(actx, req)
	latency := time.Since(start)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		err = &CallError{Class: ClassTimeout, Err: errors.New("request timed out after " + t.Timeout.String())}
	}
	return resp, latency, err
}
