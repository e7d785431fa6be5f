package scoring

import "testing"

func TestEquals(t *testing.T) {
	obj := map[string]any{"a": 1.0, "b": []any{"x", true, nil}}
	runChecks(t, []checkCase{
		{name: "exact", spec: Spec{Type: "equals", Value: "Paris"}, out: text("Paris"), pass: true},
		{name: "trailing newline is not trimmed", spec: Spec{Type: "equals", Value: "Paris"}, out: text("Paris\n"),
			reason: `expected output to equal "Paris" (got "Paris\n")`},
		{name: "leading space", spec: Spec{Type: "equals", Value: "Paris"}, out: text(" Paris")},
		{name: "case matters", spec: Spec{Type: "equals", Value: "Paris"}, out: text("paris")},
		{name: "empty output", spec: Spec{Type: "equals", Value: "Paris"}, out: text(""),
			reason: `expected output to equal "Paris" (got empty output)`},
		{name: "empty value and output", spec: Spec{Type: "equals", Value: ""}, out: text(""), pass: true},
		{name: "number 42 equals text 42", spec: Spec{Type: "equals", Value: 42.0}, out: text("42"), pass: true},
		{name: "int 42 equals text 42", spec: Spec{Type: "equals", Value: 42}, out: text("42"), pass: true},
		{name: "number is not 42.0", spec: Spec{Type: "equals", Value: 42.0}, out: text("42.0")},
		{name: "fraction", spec: Spec{Type: "equals", Value: 0.5}, out: text("0.5"), pass: true},
		{name: "large number as JavaScript prints it", spec: Spec{Type: "equals", Value: 1e21}, out: text("1e+21"), pass: true},
		{name: "tiny number as JavaScript prints it", spec: Spec{Type: "equals", Value: 1e-7}, out: text("1e-7"), pass: true},
		{name: "bool", spec: Spec{Type: "equals", Value: true}, out: text("true"), pass: true},
		{name: "object equals JSON in any key order", spec: Spec{Type: "equals", Value: obj},
			out: text(` {"b": ["x", true, null], "a": 1.0}` + "\n"), pass: true},
		{name: "object types are strict", spec: Spec{Type: "equals", Value: obj}, out: text(`{"a": "1", "b": ["x", true, null]}`),
			reason: `expected output to equal {"a":1,"b":["x",true,null]} (got "{\"a\": \"1\", \"b\": [\"x\", true, null]}")`},
		{name: "object extra key", spec: Spec{Type: "equals", Value: obj}, out: text(`{"a": 1, "b": ["x", true, null], "c": 0}`)},
		{name: "object against prose", spec: Spec{Type: "equals", Value: obj}, out: text("a is 1"),
			reason: `expected output to be JSON equal to {"a":1,"b":["x",true,null]} (got "a is 1")`},
		{name: "list order matters", spec: Spec{Type: "equals", Value: []any{1.0, 2.0}}, out: text("[2,1]")},
		{name: "list", spec: Spec{Type: "equals", Value: []any{1.0, 2.0}}, out: text("[1, 2]"), pass: true},
		{name: "not-equals different", spec: Spec{Type: "not-equals", Value: "Paris"}, out: text("London"), pass: true},
		{name: "not-equals same", spec: Spec{Type: "not-equals", Value: "Paris"}, out: text("Paris"),
			reason: `expected output not to equal "Paris" (got "Paris")`},
		{name: "not-equals object against prose passes", spec: Spec{Type: "not-equals", Value: obj}, out: text("nope"), pass: true},
		{name: "long output is truncated in the reason", spec: Spec{Type: "equals", Value: "x"}, out: text(repeat("ab", 100)),
			reason: `expected output to equal "x" (got "` + repeat("ab", 40) + `…")`},
	})
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}
