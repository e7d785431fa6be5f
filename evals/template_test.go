package evals

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/scoring"
)

func TestRenderMessages(t *testing.T) {
	prompt := []Message{
		{Role: "system", Content: "Facts: {{facts}}. Limit {{ n }}, strict {{strict}}, ratio {{r}}, none [{{nothing}}]."},
		{Role: "user", Content: "{{question}} {{question}}"},
	}
	vars := map[string]any{
		"facts":    map[string]any{"b": []any{"x", int64(2)}, "a": "y"},
		"n":        int64(3),
		"strict":   true,
		"r":        0.25,
		"nothing":  nil,
		"question": "Why {{not}}?", // vars are not templates themselves
	}
	got, err := RenderMessages(prompt, vars)
	if err != nil {
		t.Fatalf("RenderMessages: %v", err)
	}
	want := []Message{
		{Role: "system", Content: `Facts: {"a":"y","b":["x",2]}. Limit 3, strict true, ratio 0.25, none [].`},
		{Role: "user", Content: "Why {{not}}? Why {{not}}?"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RenderMessages mismatch (-want +got):\n%s", diff)
	}
}

func TestRenderMessagesErrors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		content string
		kind    error
		want    string
	}{
		{"missing", "{{a}} {{b}} {{a}}", ErrMissingVar, `prompt[0].content: missing var "a", "b"`},
		{"filter", "{{ a | upper }}", ErrTemplate, `prompt[0].content: unsupported template {{ a | upper }}: only {{name}} is supported`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RenderMessages([]Message{{Role: "user", Content: tt.content}}, nil)
			if got := errString(err); got != tt.want {
				t.Errorf("RenderMessages error = %q, want %q", got, tt.want)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("errors.Is(%v, %v) = false, want true", err, tt.kind)
			}
		})
	}
}

func TestRenderValue(t *testing.T) {
	vars := map[string]any{"ideal": []any{"a", "b"}, "n": int64(4), "s": "x"}
	in := map[string]any{"whole": "{{ideal}}", "inside": "[{{ideal}}]", "num": "{{n}}", "list": []any{"{{s}}", 1.5}}
	got, te := renderValue(in, vars)
	if te != nil {
		t.Fatalf("renderValue: %+v", te)
	}
	// A lone {{var}} keeps a list a list; anything else renders as text.
	want := map[string]any{"whole": []any{"a", "b"}, "inside": `[["a","b"]]`, "num": "4", "list": []any{"x", 1.5}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("renderValue mismatch (-want +got):\n%s", diff)
	}
}

func TestShorthand(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want scoring.Spec
	}{
		{"Paris", scoring.Spec{Type: "equals", Value: "Paris", Weight: 1}},
		{"  yes: indeed ", scoring.Spec{Type: "equals", Value: "yes: indeed", Weight: 1}},
		{"contains:30 days", scoring.Spec{Type: "contains", Value: "30 days", Weight: 1}},
		{"contains: 30 days", scoring.Spec{Type: "contains", Value: "30 days", Weight: 1}},
		{"icontains:Refund", scoring.Spec{Type: "icontains", Value: "Refund", Weight: 1}},
		{"not-icontains:as an ai", scoring.Spec{Type: "not-icontains", Value: "as an ai", Weight: 1}},
		{"regex:^a:b$", scoring.Spec{Type: "regex", Value: "^a:b$", Weight: 1}},
		{"starts-with:Yes", scoring.Spec{Type: "starts-with", Value: "Yes", Weight: 1}},
		{"is-json", scoring.Spec{Type: "is-json", Weight: 1}},
		{`is-json:{"type":"object","required":["answer"]}`, scoring.Spec{Type: "is-json", Value: map[string]any{"type": "object", "required": []any{"answer"}}, Weight: 1}},
		{"contains-any: a, b ,c", scoring.Spec{Type: "contains-any", Value: []any{"a", "b", "c"}, Weight: 1}},
		{"not-icontains-all:x,y", scoring.Spec{Type: "not-icontains-all", Value: []any{"x", "y"}, Weight: 1}},
		{"similar(0.8):the answer", scoring.Spec{Type: "similar", Value: "the answer", Threshold: ptr(0.8), Weight: 1}},
		{"levenshtein(5):hello", scoring.Spec{Type: "levenshtein", Value: "hello", Threshold: ptr(5.0), Weight: 1}},
		{"grade:is polite", scoring.Spec{Type: "llm-rubric", Value: "is polite", Weight: 1}},
		{"fn:output.length < 10", scoring.Spec{Type: "javascript", Value: "output.length < 10", Weight: 1}},
		{"llm-rubric: Provides weather information", scoring.Spec{Type: "llm-rubric", Value: "Provides weather information", Weight: 1}},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Shorthand(tt.in)
			if err != nil {
				t.Fatalf("Shorthand(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Shorthand(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	for _, in := range []string{"similar(x):a", "similar():a", "is-json:{", "contains-json:[1]"} {
		t.Run("bad "+in, func(t *testing.T) {
			if _, err := Shorthand(in); !errors.Is(err, ErrInvalid) {
				t.Errorf("Shorthand(%q) error = %v, want ErrInvalid", in, err)
			}
		})
	}
}
