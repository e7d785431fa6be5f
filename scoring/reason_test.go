package scoring

import (
	"strings"
	"testing"
)

// TestReasonsQuoteTheOutput: every assertion that matches the output's text
// ends its failure reason with the excerpt regex gives, so a text report
// shows what the model said: the same truncation and the same quoting,
// control characters escaped (the output is untrusted).
func TestReasonsQuoteTheOutput(t *testing.T) {
	out := text("I don't know the answer to that.\x1b[2J\r\n" + strings.Repeat("é", 100))
	want := ` (got "I don't know the answer to that.\x1b[2J\r\n` + strings.Repeat("é", 80-38) + `…")`
	if r := mustCompile(t, Spec{Type: "regex", Value: "30 days", Weight: 1}).Check(out); !strings.HasSuffix(r.Reason, want) {
		t.Fatalf("regex reason = %q, want it to end with %q", r.Reason, want)
	}
	jsonOut := text(`{"answer": "I don't know."}` + "\r\n")
	jsonWant := ` (got "{\"answer\": \"I don't know.\"}\r\n")`
	for _, tc := range []struct {
		spec Spec
		out  Output
		want string
	}{
		{Spec{Type: "contains", Value: "30 days"}, out, want},
		{Spec{Type: "icontains", Value: "30 DAYS"}, out, want},
		{Spec{Type: "contains-any", Value: []any{"30 days", "a month"}}, out, want},
		{Spec{Type: "icontains-any", Value: []any{"30 days", "a month"}}, out, want},
		{Spec{Type: "contains-all", Value: []any{"30 days", "answer"}}, out, want},
		{Spec{Type: "icontains-all", Value: []any{"30 days", "ANSWER"}}, out, want},
		{Spec{Type: "starts-with", Value: "You have"}, out, want},
		{Spec{Type: "equals", Value: "You have 30 days."}, out, want},
		{Spec{Type: "equals", Value: map[string]any{"answer": "30 days"}}, out, want},
		{Spec{Type: "levenshtein", Value: "You have 30 days."}, out, want},
		{Spec{Type: "rouge-n", Value: "You have 30 days."}, out, want},
		{Spec{Type: "is-json"}, out, want},
		{Spec{Type: "contains-json"}, out, want},
		{Spec{Type: "not-contains", Value: "know"}, out, want},
		{Spec{Type: "not-icontains", Value: "KNOW"}, out, want},
		{Spec{Type: "not-contains-any", Value: []any{"know", "sorry"}}, out, want},
		{Spec{Type: "not-icontains-any", Value: []any{"KNOW", "sorry"}}, out, want},
		{Spec{Type: "not-contains-all", Value: []any{"know", "answer"}}, out, want},
		{Spec{Type: "not-icontains-all", Value: []any{"KNOW", "answer"}}, out, want},
		{Spec{Type: "not-starts-with", Value: "I don't"}, out, want},
		{Spec{Type: "not-equals", Value: out.Text}, out, want},
		{Spec{Type: "not-regex", Value: "know"}, out, want},
		{Spec{Type: "not-levenshtein", Value: out.Text}, out, want},
		{Spec{Type: "not-rouge-n", Value: "I don't know the answer"}, out, want},
		{Spec{Type: "not-is-json"}, jsonOut, jsonWant},
		{Spec{Type: "not-contains-json"}, jsonOut, jsonWant},
	} {
		tc.spec.Weight = 1
		r := mustCompile(t, tc.spec).Check(tc.out)
		if r.Pass || !strings.HasSuffix(r.Reason, tc.want) {
			t.Errorf("%s: pass %v, reason %q: want a failure whose reason ends with %q", tc.spec.Type, r.Pass, r.Reason, tc.want)
		}
	}
}
