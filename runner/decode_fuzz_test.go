package runner

import (
	"errors"
	"testing"
)

// FuzzDecodeChat: no body an endpoint sends panics the decoder; what it
// accepts has token counts in [0, ceiling] and text taken from the body,
// and what it refuses is a bad_response.
func FuzzDecodeChat(f *testing.F) {
	f.Add([]byte(completion("yes", "m", "fp", "stop")))
	f.Add([]byte(`{"choices":[{"message":{"content":null}}],"usage":{"prompt_tokens":-1}}`))
	f.Add([]byte(`{"choices":[{"message":{"content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}`))
	f.Add([]byte(`{"choices":[{"message":{"content":[{"type":"text","text":"hi"}]}}],"usage":{"prompt_tokens":1e400}}`))
	f.Add([]byte(`{"choices":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		const ceiling = 1000
		r, err := decodeChat(body, ceiling)
		if err != nil {
			var ce *CallError
			if !errors.As(err, &ce) || ce.Class != ClassBadReply {
				t.Fatalf("decodeChat error %v: want a bad_response CallError", err)
			}
			return
		}
		if r.PromptTokens < 0 || r.PromptTokens > ceiling || r.CompletionTokens < 0 || r.CompletionTokens > ceiling {
			t.Fatalf("accepted token counts %d, %d outside [0, %d]", r.PromptTokens, r.CompletionTokens, ceiling)
		}
		if len(r.Text) > 3*len(body) { // an invalid byte decodes as U+FFFD, 3 bytes
			t.Fatalf("text of %d bytes from a body of %d", len(r.Text), len(body))
		}
	})
}
