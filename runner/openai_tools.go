package runner

import (
	"context"
	"fmt"

	openai "github.com/sashabaranov/go-openai"
)

var _ ToolProvider = (*OpenAI)(nil)

// CompleteChat sends a conversation that may hold the assistant's tool
// calls and the tool messages answering them, in OpenAI's wire format.
// req.Tools, when set, replaces the target's params.tools (a suite's
// tools win).
func (o *OpenAI) CompleteChat(ctx context.Context, req ChatRequest) (Response, error) {
	r := o.tmpl
	if req.Tools != nil {
		tools, err := toolsOf(req.Tools)
		if err != nil {
			return Response{}, &CallError{Class: ClassClient, Err: fmt.Errorf("tools: %w", err), final: true}
		}
		r.Tools = tools
	}
	r.Messages = make([]openai.ChatCompletionMessage, len(req.Messages))
	for i, m := range req.Messages {
		cm := openai.ChatCompletionMessage{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			cm.ToolCalls = append(cm.ToolCalls, openai.ToolCall{ID: tc.ID, Type: openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: tc.Name, Arguments: tc.Arguments}})
		}
		r.Messages[i] = cm
	}
	return o.send(ctx, r)
}
