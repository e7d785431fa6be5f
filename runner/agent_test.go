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
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

const agentYAML = `name: support-agent
prompt:
  - role: system
    content: "You are the support agent of a shop."
tools:
  - type: function
    function:
      name: lookup_order
      description: Find an order by id
      parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
  - type: function
    function: {name: cancel_order, parameters: {type: object, properties: {order_id: {type: string}}}}
tool_results:
  lookup_order:
    - when: {order_id: A1}
      result: {status: shipped, eta: "2 days"}
    - result: {error: not found}
max_tool_steps: 2
defaultTest:
  assert:
    - type: not-icontains
      value: "as an ai"
tests:
  - id: where-is-my-order
    turns:
      - user: "Where is order A1?"
        assert:
          - type: trajectory:tool-used
            value: lookup_order
          - type: trajectory:tool-args-match
            value: {name: lookup_order, args: {order_id: A1}}
          - type: icontains
            value: shipped
          - type: is-valid-openai-tools-call
      - user: "Thanks. Cancel it, please."
        assert:
          - type: not-trajectory:tool-used
            value: cancel_order
`

func parseAgent(t *testing.T, text string) *evals.Suite {
	t.Helper()
	s, err := evals.Parse(fstest.MapFS{"s.yaml": {Data: []byte(text)}}, "s.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

// wireMsg is a chat message as it travels, tool calls included.
type wireMsg struct {
	Role       string `json:"role"`
	Content    string `json:"content"`
	ToolCallID string `json:"tool_call_id,omitempty"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls,omitempty"`
}

type wireReq struct {
	Messages []wireMsg `json:"messages"`
	Tools    []any     `json:"tools"`
}

func toolCallsReply(calls ...[3]string) string {
	var tc []any
	for _, c := range calls {
		tc = append(tc, map[string]any{"id": c[0], "type": "function", "function": map[string]any{"name": c[1], "arguments": c[2]}})
	}
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-2", "object": "chat.completion", "created": 1, "model": "gpt-test",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": nil, "tool_calls": tc}, "finish_reason": "tool_calls"}},
		"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14},
	})
	return string(b)
}

// agentServer is an OpenAI-compatible endpoint that acts as an agent:
// reply decides each answer from the conversation; every request body is
// kept.
func agentServer(t *testing.T, reply func(req wireReq) string) (*httptest.Server, func() []wireReq) {
	t.Helper()
	var mu sync.Mutex
	var reqs []wireReq
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req wireReq
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		reqs = append(reqs, req)
		mu.Unlock()
		out := reply(req)
		if strings.HasPrefix(out, "HTTP400") {
			http.Error(w, `{"error":{"message":"bad request","type":"invalid_request_error"}}`, http.StatusBadRequest)
			return
		}
		io.WriteString(w, out)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []wireReq { mu.Lock(); defer mu.Unlock(); return append([]wireReq(nil), reqs...) }
}

// shopAgent looks an order up when asked where it is, reports the tool's
// answer, and declines to cancel.
func shopAgent(req wireReq) string {
	last := req.Messages[len(req.Messages)-1]
	switch {
	case last.Role == "tool":
		return completion("Your order status: "+last.Content, "gpt-test", "fp", "stop")
	case strings.Contains(last.Content, "Where is order A1"):
		return toolCallsReply([3]string{"call_1", "lookup_order", `{"order_id":"A1"}`})
	default:
		return completion("I cannot cancel orders, sorry.", "gpt-test", "fp", "stop")
	}
}

func TestAgentTwoTurnsOverTheWire(t *testing.T) {
	suite := parseAgent(t, agentYAML)
	srv, requests := agentServer(t, shopAgent)
	_, samples := collect(t, context.Background(), suite, target(t, srv.URL, nil), fast)
	if len(samples) != 1 {
		t.Fatalf("samples = %d, want 1", len(samples))
	}
	s := samples[0]
	if s.ErrClass != "" || !s.Pass {
		t.Fatalf("sample: err %q %q, pass %v, results %+v; want a pass", s.ErrClass, s.ErrText, s.Pass, s.Results)
	}
	wantTurns := []scoring.Turn{
		{User: "Where is order A1?", Output: `Your order status: {"eta":"2 days","status":"shipped"}`, Calls: []scoring.ToolCall{
			{Name: "lookup_order", Args: map[string]any{"order_id": "A1"}, Result: map[string]any{"status": "shipped", "eta": "2 days"}}}},
		{User: "Thanks. Cancel it, please.", Output: "I cannot cancel orders, sorry."},
	}
	if diff := cmp.Diff(wantTurns, s.Turns); diff != "" {
		t.Errorf("turns mismatch (-want +got):\n%s", diff)
	}
	if got, want := s.Text, "I cannot cancel orders, sorry."; got != want {
		t.Errorf("sample text = %q, want the last turn's %q", got, want)
	}
	var turnsOf []int
	for _, r := range s.Results {
		turnsOf = append(turnsOf, r.Turn)
	}
	if got, want := turnsOf, []int{1, 1, 1, 1, 1, 2, 2}; !cmp.Equal(got, want) {
		t.Errorf("result turns = %v, want %v", got, want)
	}
	if got, want := s.PromptTokens, 30; got != want {
		t.Errorf("prompt tokens = %d, want %d (three requests)", got, want)
	}

	reqs := requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3 (call, tool answer, second turn)", len(reqs))
	}
	for i, r := range reqs {
		if len(r.Tools) != 2 {
			t.Errorf("request %d carries %d tools, want the suite's 2", i+1, len(r.Tools))
		}
	}
	// The second request carries the assistant's tool call and the tool
	// message answering it, in OpenAI's wire format.
	got := reqs[1].Messages
	if len(got) != 4 {
		t.Fatalf("request 2 messages = %+v, want system, user, assistant tool call, tool", got)
	}
	asst, tool := got[2], got[3]
	if asst.Role != "assistant" || len(asst.ToolCalls) != 1 || asst.ToolCalls[0].ID != "call_1" || asst.ToolCalls[0].Type != "function" ||
		asst.ToolCalls[0].Function.Name != "lookup_order" || asst.ToolCalls[0].Function.Arguments != `{"order_id":"A1"}` {
		t.Errorf("request 2 assistant message = %+v, want the tool call call_1 lookup_order {\"order_id\":\"A1\"}", asst)
	}
	if tool.Role != "tool" || tool.ToolCallID != "call_1" || tool.Content != `{"eta":"2 days","status":"shipped"}` {
		t.Errorf("request 2 tool message = %+v, want the result of call_1", tool)
	}
	// The second turn sees the model's real earlier replies.
	var roles []string
	for _, m := range reqs[2].Messages {
		roles = append(roles, m.Role)
	}
	if got, want := strings.Join(roles, ","), "system,user,assistant,tool,assistant,user"; got != want {
		t.Errorf("turn 2 request roles = %s, want %s", got, want)
	}
	if got, want := reqs[2].Messages[4].Content, `Your order status: {"eta":"2 days","status":"shipped"}`; got != want {
		t.Errorf("turn 2 request holds the earlier answer %q, want %q", got, want)
	}
}

func TestAgentUnknownToolAndNoMatch(t *testing.T) {
	suite := parseAgent(t, agentYAML)
	srv, requests := agentServer(t, func(req wireReq) string {
		last := req.Messages[len(req.Messages)-1]
		if last.Role == "tool" {
			return completion("done", "gpt-test", "fp", "stop")
		}
		return toolCallsReply([3]string{"c1", "refund_order", `{"order_id":"A1"}`}, [3]string{"c2", "lookup_order", `{"order_id":"Z9"}`}, [3]string{"c3", "cancel_order", `{}`})
	})
	_, samples := collect(t, context.Background(), suite, target(t, srv.URL, nil), fast)
	calls := samples[0].Turns[0].Calls
	want := []any{
		map[string]any{"error": `unknown tool "refund_order"`},
		map[string]any{"error": "not found"},
		map[string]any{"error": "no result for these arguments"},
	}
	for i, w := range want {
		if !cmp.Equal(calls[i].Result, w) {
			t.Errorf("call %d result = %v, want %v", i+1, calls[i].Result, w)
		}
	}
	if msgs := requests()[1].Messages; msgs[len(msgs)-3].Content != `{"error":"unknown tool \"refund_order\""}` {
		t.Errorf("the model was told %q for the unknown tool, want the error", msgs[len(msgs)-3].Content)
	}
	if samples[0].Pass {
		t.Errorf("sample passed with calls the assertions reject")
	}
}

func TestAgentMaxToolStepsFailsTheTurn(t *testing.T) {
	suite := parseAgent(t, agentYAML)
	srv, requests := agentServer(t, func(wireReq) string {
		return toolCallsReply([3]string{"c", "lookup_order", `{"order_id":"A1"}`})
	})
	_, samples := collect(t, context.Background(), suite, target(t, srv.URL, nil), fast)
	s := samples[0]
	if s.Pass || s.ErrClass != "" {
		t.Fatalf("sample pass %v err %q, want a failed (not errored) sample", s.Pass, s.ErrClass)
	}
	if got, want := s.Turns[0].Failure, "still calling tools after 2 tool round trips (max_tool_steps)"; got != want {
		t.Errorf("turn 1 failure = %q, want %q", got, want)
	}
	// 3 requests for turn 1 (2 round trips, then the one that exceeds),
	// 3 for turn 2.
	if got, want := len(requests()), 6; got != want {
		t.Errorf("requests = %d, want %d", got, want)
	}
}

func TestAgentErroredTurnEndsTheCase(t *testing.T) {
	suite := parseAgent(t, agentYAML)
	srv, requests := agentServer(t, func(req wireReq) string {
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "Cancel") {
			return "HTTP400"
		}
		return shopAgent(req)
	})
	_, samples := collect(t, context.Background(), suite, target(t, srv.URL, nil), fast)
	s := samples[0]
	if s.ErrClass != ClassClient || !strings.HasPrefix(s.ErrText, "turn 2: ") {
		t.Errorf("sample error = %q %q, want client_error naming turn 2", s.ErrClass, s.ErrText)
	}
	if s.Valid() {
		t.Errorf("an errored turn left the sample valid")
	}
	if got, want := len(requests()), 3; got != want {
		t.Errorf("requests = %d, want %d (a 400 is not retried)", got, want)
	}
}

func TestAgentOneTurnCaseHasATrajectory(t *testing.T) {
	suite := parseAgent(t, `name: one
prompt:
  - {role: user, content: "Where is order {{id}}?"}
tools:
  - type: function
    function: {name: lookup_order, parameters: {type: object}}
tool_results:
  lookup_order:
    - result: {status: shipped}
tests:
  - vars: {id: A1}
    assert:
      - type: trajectory:tool-sequence
        value: [lookup_order]
      - type: icontains
        value: shipped
`)
	srv, _ := agentServer(t, shopAgent)
	_, samples := collect(t, context.Background(), suite, target(t, srv.URL, nil), fast)
	s := samples[0]
	if !s.Pass || len(s.Turns) != 1 || len(s.Turns[0].Calls) != 1 || s.Turns[0].User != "" {
		t.Errorf("one-turn sample: pass %v turns %+v results %+v; want a pass with one call", s.Pass, s.Turns, s.Results)
	}
	if s.Results[0].Turn != 0 {
		t.Errorf("one-turn result turn = %d, want 0", s.Results[0].Turn)
	}
}

// TestRegradeAgentTurns: a regrade checks each turn's assertions on that
// turn's stored text and calls, as the run did.
func TestRegradeAgentTurns(t *testing.T) {
	suite := parseAgent(t, agentYAML)
	srv, _ := agentServer(t, shopAgent)
	_, samples := collect(t, context.Background(), suite, target(t, srv.URL, nil), fast)
	js := newJudgeServer(t, func(int, http.ResponseWriter, chatReq) {}, nil)
	res, err := Regrade(context.Background(), judgeOf(t, js.URL, nil), suite.Cases,
		[]StoredOutput{{CaseIndex: 0, Text: samples[0].Text, Turns: samples[0].Turns}}, fast)
	if err != nil {
		t.Fatalf("Regrade: %v", err)
	}
	if diff := cmp.Diff(samples[0].Results, res.Samples[0].Results); diff != "" || !res.Samples[0].Pass {
		t.Errorf("regraded results differ from the run's (-run +regrade):\n%s", diff)
	}
	// Without its turns, the trajectory assertions see no calls.
	res, _ = Regrade(context.Background(), judgeOf(t, js.URL, nil), suite.Cases, []StoredOutput{{CaseIndex: 0, Text: samples[0].Text}}, fast)
	if res.Samples[0].Pass {
		t.Errorf("regrade without the stored turns passed")
	}
}

// TestAgentTooManyCallsFailTheTurn: a reply with more tool calls than evald
// answers fails the turn instead of growing the conversation.
func TestAgentTooManyCallsFailTheTurn(t *testing.T) {
	suite := parseAgent(t, agentYAML)
	var calls [][3]string
	for i := range maxCallsPerReply + 1 {
		calls = append(calls, [3]string{fmt.Sprintf("c%d", i), "lookup_order", `{"order_id":"A1"}`})
	}
	srv, requests := agentServer(t, func(wireReq) string { return toolCallsReply(calls...) })
	_, samples := collect(t, context.Background(), suite, target(t, srv.URL, nil), fast)
	s := samples[0]
	if s.Pass || s.ErrClass != "" || !strings.Contains(s.Turns[0].Failure, "65 tool calls in one reply") || len(s.Turns[0].Calls) != 0 {
		t.Errorf("sample pass %v err %q turn 1 %+v; want a failed turn with no call answered", s.Pass, s.ErrClass, s.Turns[0].Failure)
	}
	if got, want := len(requests()), 2; got != want {
		t.Errorf("requests = %d, want %d (one per turn)", got, want)
	}
}

// strictly refuses a request OpenAI would refuse: an assistant message with
// neither content nor tool calls, or a tool message that names no call.
func strictly(inner func(wireReq) string) func(wireReq) string {
	return func(req wireReq) string {
		for _, m := range req.Messages {
			if m.Role == "assistant" && m.Content == "" && len(m.ToolCalls) == 0 {
				return "HTTP400"
			}
			if m.Role == "tool" && m.ToolCallID == "" {
				return "HTTP400"
			}
		}
		return inner(req)
	}
}

// TestAgentLoopingTurnThenNextTurn: a turn cut off by max_tool_steps
// fails the sample, and the next turn still sends a request the API
// accepts (no empty assistant message), so a looping agent is a failed
// sample, not an errored one that would leave the pass rate.
func TestAgentLoopingTurnThenNextTurn(t *testing.T) {
	suite := parseAgent(t, agentYAML)
	srv, requests := agentServer(t, strictly(func(req wireReq) string {
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "Cancel") {
			return completion("I cannot cancel orders.", "gpt-test", "fp", "stop")
		}
		return toolCallsReply([3]string{"c", "lookup_order", `{"order_id":"A1"}`})
	}))
	_, samples := collect(t, context.Background(), suite, target(t, srv.URL, nil), fast)
	s := samples[0]
	if s.ErrClass != "" || s.Pass || len(s.Turns) != 2 {
		t.Fatalf("sample err %s %q, pass %v, %d turns; want a failed sample with both turns played", s.ErrClass, s.ErrText, s.Pass, len(s.Turns))
	}
	if !strings.Contains(s.Turns[0].Failure, "max_tool_steps") || s.Turns[1].Output != "I cannot cancel orders." {
		t.Errorf("turns %+v", s.Turns)
	}
	reqs := requests()
	last := reqs[len(reqs)-1].Messages
	if m := last[len(last)-2]; m.Role != "tool" {
		t.Errorf("turn 2's user message follows %s %q, want turn 1's last tool result", m.Role, m.Content)
	}
}

// TestAgentToolCallsWithoutIDs: a server that sends tool calls without ids
// gets each answered under a synthesized id, the same one in the
// assistant's call and in the tool message, and the same every run.
func TestAgentToolCallsWithoutIDs(t *testing.T) {
	suite := parseAgent(t, agentYAML)
	reply := strictly(func(req wireReq) string {
		last := req.Messages[len(req.Messages)-1]
		switch {
		case last.Role == "tool":
			return completion("Your order: "+last.Content, "gpt-test", "fp", "stop")
		case strings.Contains(last.Content, "Cancel"):
			return completion("I cannot cancel orders.", "gpt-test", "fp", "stop")
		}
		return toolCallsReply([3]string{"", "lookup_order", `{"order_id":"A1"}`}, [3]string{"", "lookup_order", `{"order_id":"B2"}`})
	})
	var ids [2][]string
	for run := range ids {
		srv, requests := agentServer(t, reply)
		_, samples := collect(t, context.Background(), suite, target(t, srv.URL, nil), fast)
		if s := samples[0]; s.ErrClass != "" || !strings.HasPrefix(s.Turns[0].Output, "Your order: ") {
			t.Fatalf("run %d: sample err %s %q, turn 1 %q", run, s.ErrClass, s.ErrText, s.Turns[0].Output)
		}
		for _, req := range requests() {
			for _, m := range req.Messages {
				for _, tc := range m.ToolCalls {
					ids[run] = append(ids[run], "call "+tc.ID)
				}
				if m.Role == "tool" {
					ids[run] = append(ids[run], "answer "+m.ToolCallID)
				}
			}
		}
	}
	want := "call call_1_1_1,call call_1_1_2,answer call_1_1_1,answer call_1_1_2"
	if got := strings.Join(ids[0], ","); !strings.HasPrefix(got, want) || got != strings.Join(ids[1], ",") {
		t.Errorf("ids sent %s then %s, want both to start %s", got, strings.Join(ids[1], ","), want)
	}
}

// TestAgentTooManyCallsInATurn: replies within the per-reply bound that
// add up past the per-turn bound fail the turn before it is answered.
func TestAgentTooManyCallsInATurn(t *testing.T) {
	suite := parseAgent(t, strings.Replace(agentYAML, "max_tool_steps: 2", "max_tool_steps: 10", 1))
	var calls [][3]string
	for i := range maxCallsPerReply {
		calls = append(calls, [3]string{fmt.Sprintf("c%d", i), "lookup_order", `{"order_id":"A1"}`})
	}
	srv, _ := agentServer(t, strictly(func(req wireReq) string {
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "Cancel") {
			return completion("I cannot cancel orders.", "gpt-test", "fp", "stop")
		}
		return toolCallsReply(calls...)
	}))
	_, samples := collect(t, context.Background(), suite, target(t, srv.URL, nil), fast)
	s := samples[0]
	if s.Pass || s.ErrClass != "" || !strings.Contains(s.Turns[0].Failure, "192 tool calls in one turn") || len(s.Turns[0].Calls) != maxCallsPerTurn {
		t.Errorf("sample pass %v err %s %q, turn 1 failure %q with %d calls; want a failed turn after %d calls", s.Pass, s.ErrClass, s.ErrText, s.Turns[0].Failure, len(s.Turns[0].Calls), maxCallsPerTurn)
	}
}
