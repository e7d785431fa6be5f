package sim_test

import (
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/evald/evald/sim"
)

const agentSystem = `You are the support agent of a shop.
- where order status => call lookup_order {"order_id": "$id"}
- cancel order => call cancel_order {"order_id": "$id"}
- opening hours => We are open 9 to 5.`

func agentRequest(msgs ...openai.ChatCompletionMessage) openai.ChatCompletionRequest {
	fn := func(name string) openai.Tool {
		return openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{Name: name}}
	}
	return openai.ChatCompletionRequest{Model: "sim-1",
		Messages: append([]openai.ChatCompletionMessage{{Role: "system", Content: agentSystem}}, msgs...),
		Tools:    []openai.Tool{fn("lookup_order"), fn("cancel_order")}}
}

func user(s string) openai.ChatCompletionMessage {
	return openai.ChatCompletionMessage{Role: "user", Content: s}
}

// TestAgentToolCalls: instructed to, the simulator answers with a tool call
// of a declared tool, with the id from the conversation, and reports the
// tool's result once it has it.
func TestAgentToolCalls(t *testing.T) {
	s := sim.New(sim.Options{WrongRate: -1})
	resp := ask(t, s, agentRequest(user("Where is order A1?")))
	m := resp.Choices[0].Message
	if len(m.ToolCalls) != 1 || m.ToolCalls[0].Function.Name != "lookup_order" || m.ToolCalls[0].Function.Arguments != `{"order_id": "A1"}` || m.ToolCalls[0].ID == "" {
		t.Fatalf("answer = %+v, want one call lookup_order {\"order_id\": \"A1\"}", m)
	}
	if got, want := resp.Choices[0].FinishReason, openai.FinishReasonToolCalls; got != want {
		t.Errorf("finish_reason = %q, want %q", got, want)
	}
	// The id comes from an earlier user message when the latest has none.
	later := ask(t, s, agentRequest(user("Where is order B7?"), openai.ChatCompletionMessage{Role: "assistant", Content: "It is on its way."}, user("Please cancel the order.")))
	if c := later.Choices[0].Message.ToolCalls; len(c) != 1 || c[0].Function.Name != "cancel_order" || c[0].Function.Arguments != `{"order_id": "B7"}` {
		t.Errorf("second turn calls %+v, want cancel_order for B7", c)
	}
	// After the tool's answer, the model reports it.
	done := ask(t, s, agentRequest(user("Where is order A1?"),
		openai.ChatCompletionMessage{Role: "assistant", ToolCalls: m.ToolCalls},
		openai.ChatCompletionMessage{Role: "tool", ToolCallID: m.ToolCalls[0].ID, Content: `{"status":"shipped"}`}))
	if got, want := done.Choices[0].Message.Content, `Here is what I found: {"status":"shipped"}`; got != want || done.Choices[0].Message.ToolCalls != nil {
		t.Errorf("after the tool result: %q with calls %v, want %q", got, done.Choices[0].Message.ToolCalls, want)
	}
	// Plain facts and undeclared tools answer as text.
	if got := ask(t, s, agentRequest(user("What are your opening hours?"))).Choices[0].Message; got.ToolCalls != nil || got.Content == "" {
		t.Errorf("a plain question got %+v, want a text answer", got)
	}
	if got := ask(t, s, chatRequest(agentSystem, "Where is order A1?")).Choices[0].Message; got.ToolCalls != nil {
		t.Errorf("a request without tools got calls %+v", got.ToolCalls)
	}
}

// TestAgentDriftChangesTheTool: after the update, the pairs it makes wrong
// call another tool.
func TestAgentDriftChangesTheTool(t *testing.T) {
	s := sim.New(sim.Options{WrongRate: -1, DriftAfter: 1, DriftShare: 1, DriftSilent: true})
	req := agentRequest(user("Where is order A1?"))
	before := ask(t, s, req).Choices[0].Message.ToolCalls
	after := ask(t, s, req).Choices[0].Message.ToolCalls
	if len(before) != 1 || before[0].Function.Name != "lookup_order" {
		t.Fatalf("before the update: %+v, want lookup_order", before)
	}
	if len(after) != 1 || after[0].Function.Name != "cancel_order" || after[0].Function.Arguments != `{"order_id": "A1"}` {
		t.Errorf("after the update: %+v, want cancel_order for A1", after)
	}
}
