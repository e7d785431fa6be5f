package scoring

import (
	"errors"
	"strings"
	"testing"
)

// calls builds a trajectory from "name" or "name{json args}" items.
func calls(items ...string) Output {
	var out Output
	for _, it := range items {
		name, args, _ := strings.Cut(it, "{")
		c := ToolCall{Name: name}
		if args != "" {
			v, err := parseArgs("{" + args)
			if err != nil {
				panic(err)
			}
			c.Args = v
		}
		out.Calls = append(out.Calls, c)
	}
	out.Text = "done"
	return out
}

var lookupTools = []any{
	map[string]any{"type": "function", "function": map[string]any{"name": "lookup_order",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"order_id": map[string]any{"type": "string"}}, "required": []any{"order_id"}}}},
	map[string]any{"type": "function", "function": map[string]any{"name": "cancel_order"}},
}

func TestTrajectoryChecks(t *testing.T) {
	a1 := map[string]any{"order_id": "A1"}
	runChecks(t, []checkCase{
		{name: "tool-used name pass", spec: Spec{Type: "trajectory:tool-used", Value: "lookup_order"}, out: calls("lookup_order"), pass: true},
		{name: "tool-used name fail", spec: Spec{Type: "trajectory:tool-used", Value: "lookup_order"}, out: calls("cancel_order"),
			reason: `expected a call of "lookup_order" (calls: cancel_order)`},
		{name: "tool-used list needs all", spec: Spec{Type: "trajectory:tool-used", Value: []any{"a", "b"}}, out: calls("a")},
		{name: "tool-used pattern", spec: Spec{Type: "trajectory:tool-used", Value: "lookup_*"}, out: calls("lookup_order"), pass: true},
		{name: "tool-used count in range", spec: Spec{Type: "trajectory:tool-used", Value: map[string]any{"name": "a", "min": 2.0, "max": 3.0}}, out: calls("a", "b", "a"), pass: true},
		{name: "tool-used count above max", spec: Spec{Type: "trajectory:tool-used", Value: map[string]any{"name": "a", "max": 1.0}}, out: calls("a", "a"),
			reason: `expected tool "a" to be called 1 to 1 times, it was called 2 times (calls: a, a)`},
		{name: "not-tool-used pass", spec: Spec{Type: "not-trajectory:tool-used", Value: "cancel_order"}, out: calls("lookup_order"), pass: true},
		{name: "not-tool-used fail", spec: Spec{Type: "not-trajectory:tool-used", Value: "cancel_order"}, out: calls("cancel_order"),
			reason: `expected no call of "cancel_order" (calls: cancel_order)`},
		{name: "sequence in order with gaps", spec: Spec{Type: "trajectory:tool-sequence", Value: []any{"a", "c"}}, out: calls("a", "b", "c"), pass: true},
		{name: "sequence out of order", spec: Spec{Type: "trajectory:tool-sequence", Value: []any{"c", "a"}}, out: calls("a", "b", "c")},
		{name: "sequence exact", spec: Spec{Type: "trajectory:tool-sequence", Value: map[string]any{"mode": "exact", "steps": []any{"a", "b"}}}, out: calls("a", "b"), pass: true},
		{name: "sequence exact extra call", spec: Spec{Type: "trajectory:tool-sequence", Value: map[string]any{"mode": "exact", "steps": []any{"a", "b"}}}, out: calls("a", "b", "c"),
			reason: `expected the calls to be exactly a → b (calls: a, b, c)`},
		{name: "not-sequence", spec: Spec{Type: "not-trajectory:tool-sequence", Value: []any{"b", "a"}}, out: calls("a", "b"), pass: true},
		{name: "args partial", spec: Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "lookup_order", "args": a1}},
			out: calls(`lookup_order{"order_id":"A1","verbose":true}`), pass: true},
		{name: "args partial wrong value", spec: Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "lookup_order", "args": a1}},
			out: calls(`lookup_order{"order_id":"B7"}`), reason: `expected a call matching lookup_order(order_id=A1) (partial), got lookup_order(order_id=B7)`},
		{name: "args exact extra key", spec: Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "lookup_order", "args": a1, "mode": "exact"}},
			out: calls(`lookup_order{"order_id":"A1","verbose":true}`)},
		{name: "args any call matches", spec: Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "lookup_order", "args": a1}},
			out: calls(`lookup_order{"order_id":"B7"}`, `lookup_order{"order_id":"A1"}`), pass: true},
		{name: "args number", spec: Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "add", "args": map[string]any{"a": 5.0}}},
			out: calls(`add{"a":5,"b":6}`), pass: true},
		{name: "not-args", spec: Spec{Type: "not-trajectory:tool-args-match", Value: map[string]any{"name": "lookup_order", "args": a1}},
			out: calls(`lookup_order{"order_id":"A1"}`)},
		{name: "step-count in range", spec: Spec{Type: "trajectory:step-count", Value: map[string]any{"min": 1.0, "max": 2.0}}, out: calls("a", "b"), pass: true},
		{name: "step-count above", spec: Spec{Type: "trajectory:step-count", Value: map[string]any{"max": 1.0}}, out: calls("a", "b"),
			reason: `expected at most 1 tool calls, got 2 (calls: a, b)`},
		{name: "step-count of a tool", spec: Spec{Type: "trajectory:step-count", Value: map[string]any{"name": "a", "min": 2.0}}, out: calls("a", "b")},
		{name: "not-step-count", spec: Spec{Type: "not-trajectory:step-count", Value: map[string]any{"max": 0.0}}, out: calls("a"), pass: true},
		{name: "f1 exact set", spec: Spec{Type: "tool-call-f1", Value: []any{"a", "b"}}, out: calls("b", "a", "a"), pass: true, graded: true, score: 1},
		{name: "f1 partial below 1", spec: Spec{Type: "tool-call-f1", Value: "a, b"}, out: calls("a"), graded: true, score: 2.0 / 3},
		{name: "f1 partial with threshold", spec: Spec{Type: "tool-call-f1", Value: "a,b", Threshold: ptr(0.6)}, out: calls("a"), pass: true, graded: true, score: 2.0 / 3},
		{name: "not-f1", spec: Spec{Type: "not-tool-call-f1", Value: []any{"a"}}, out: calls("b"), pass: true, graded: true, score: 1},
		{name: "valid tools call", spec: Spec{Type: "is-valid-openai-tools-call", Tools: lookupTools}, out: calls(`lookup_order{"order_id":"A1"}`, "cancel_order"), pass: true},
		{name: "valid tools call wrong type", spec: Spec{Type: "is-valid-openai-tools-call", Tools: lookupTools}, out: calls(`lookup_order{"order_id":1}`)},
		{name: "valid tools call missing arg", spec: Spec{Type: "is-valid-openai-tools-call", Tools: lookupTools}, out: calls(`lookup_order{}`)},
		{name: "valid tools call undeclared", spec: Spec{Type: "is-valid-openai-tools-call", Tools: lookupTools}, out: calls("refund"),
			reason: `call refund(): no tool "refund" is declared`},
		{name: "valid tools call none", spec: Spec{Type: "is-valid-openai-tools-call", Tools: lookupTools}, out: text("hi"),
			reason: `expected tool calls, the model made none (got "hi")`},
		{name: "valid tools call bad JSON", spec: Spec{Type: "is-valid-openai-tools-call", Tools: lookupTools},
			out: Output{Calls: []ToolCall{{Name: "lookup_order", RawArgs: "{order"}}}},
	})
}

func TestTrajectoryBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		kind error
	}{
		{"tool-used no value", Spec{Type: "trajectory:tool-used"}, ErrBadValue},
		{"tool-used empty list", Spec{Type: "trajectory:tool-used", Value: []any{}}, ErrBadValue},
		{"tool-used number", Spec{Type: "trajectory:tool-used", Value: 3.0}, ErrBadValue},
		{"tool-used object without name", Spec{Type: "trajectory:tool-used", Value: map[string]any{"min": 1.0}}, ErrBadValue},
		{"tool-used max below min", Spec{Type: "trajectory:tool-used", Value: map[string]any{"name": "a", "min": 2.0, "max": 1.0}}, ErrBadValue},
		{"tool-used threshold", Spec{Type: "trajectory:tool-used", Value: "a", Threshold: ptr(1)}, ErrBadThreshold},
		{"sequence empty", Spec{Type: "trajectory:tool-sequence", Value: []any{}}, ErrBadValue},
		{"sequence bad mode", Spec{Type: "trajectory:tool-sequence", Value: map[string]any{"mode": "any", "steps": []any{"a"}}}, ErrBadValue},
		{"sequence string", Spec{Type: "trajectory:tool-sequence", Value: "a"}, ErrBadValue},
		{"args no args", Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "a"}}, ErrBadValue},
		{"args no name", Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"args": map[string]any{}}}, ErrBadValue},
		{"args bad mode", Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "a", "args": map[string]any{}, "mode": "fuzzy"}}, ErrBadValue},
		{"args unknown key", Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "a", "arg": map[string]any{}}}, ErrBadValue},
		{"step-count no bound", Spec{Type: "trajectory:step-count", Value: map[string]any{}}, ErrBadValue},
		{"step-count negative", Spec{Type: "trajectory:step-count", Value: map[string]any{"min": -1.0}}, ErrBadValue},
		{"step-count number", Spec{Type: "trajectory:step-count", Value: 2.0}, ErrBadValue},
		{"f1 no names", Spec{Type: "tool-call-f1", Value: " , "}, ErrBadValue},
		{"f1 threshold above 1", Spec{Type: "tool-call-f1", Value: "a", Threshold: ptr(2)}, ErrBadThreshold},
		{"valid tools call without tools", Spec{Type: "is-valid-openai-tools-call"}, ErrBadValue},
		{"valid tools call with value", Spec{Type: "is-valid-openai-tools-call", Value: "x", Tools: lookupTools}, ErrBadValue},
		{"valid tools call bad schema", Spec{Type: "is-valid-openai-tools-call", Tools: []any{map[string]any{"function": map[string]any{"name": "a", "parameters": map[string]any{"type": 5.0}}}}}, ErrBadValue},
		{"valid tools call has no not- form", Spec{Type: "not-is-valid-openai-tools-call", Tools: lookupTools}, ErrUnknownType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Weight = 1
			_, err := Compile(tc.spec)
			if !errors.Is(err, tc.kind) {
				t.Errorf("Compile(%+v) = %v, want %v", tc.spec, err, tc.kind)
			}
		})
	}
}

// TestTrajectoryPromptfooTable: the verdicts promptfoo's trajectory
// handlers (src/assertions/trajectory.ts, toolCallF1.ts) reach on the same
// tool-call trajectories, worked out from their code: a forbidden list
// fails when any listed tool was used; in_order allows gaps; partial args
// match nested keys; an unnamed step-count counts every call; F1 compares
// name sets.
func TestTrajectoryPromptfooTable(t *testing.T) {
	traj := [][]string{
		{},
		{"search"},
		{"search", "compose_reply"},
		{`search{"q":"x","limit":5}`, `compose_reply{"to":{"id":1,"name":"a"}}`},
		{"search", "search", "delete_all"},
	}
	rows := []struct {
		spec Spec
		want []bool // one verdict per trajectory
	}{
		{Spec{Type: "trajectory:tool-used", Value: "search"}, []bool{false, true, true, true, true}},
		{Spec{Type: "trajectory:tool-used", Value: []any{"search", "compose_reply"}}, []bool{false, false, true, true, false}},
		{Spec{Type: "not-trajectory:tool-used", Value: []any{"compose_reply", "delete_all"}}, []bool{true, true, false, false, false}},
		{Spec{Type: "trajectory:tool-used", Value: map[string]any{"name": "search", "min": 2.0}}, []bool{false, false, false, false, true}},
		{Spec{Type: "trajectory:tool-used", Value: map[string]any{"pattern": "*_reply", "max": 1.0}}, []bool{false, false, true, true, false}},
		{Spec{Type: "not-trajectory:tool-used", Value: map[string]any{"name": "search", "max": 1.0}}, []bool{true, false, false, false, true}},
		{Spec{Type: "trajectory:tool-sequence", Value: []any{"search", "compose_reply"}}, []bool{false, false, true, true, false}},
		{Spec{Type: "trajectory:tool-sequence", Value: map[string]any{"mode": "exact", "steps": []any{"search", "search"}}}, []bool{false, false, false, false, false}},
		{Spec{Type: "trajectory:tool-sequence", Value: map[string]any{"steps": []any{"search", "delete_all"}}}, []bool{false, false, false, false, true}},
		{Spec{Type: "not-trajectory:tool-sequence", Value: []any{"search"}}, []bool{true, false, false, false, false}},
		{Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "search", "args": map[string]any{"q": "x"}}}, []bool{false, false, false, true, false}},
		{Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "search", "args": map[string]any{"q": "x"}, "mode": "exact"}}, []bool{false, false, false, false, false}},
		{Spec{Type: "trajectory:tool-args-match", Value: map[string]any{"name": "compose_reply", "args": map[string]any{"to": map[string]any{"id": 1.0}}}}, []bool{false, false, false, true, false}},
		{Spec{Type: "trajectory:step-count", Value: map[string]any{"max": 2.0}}, []bool{true, true, true, true, false}},
		{Spec{Type: "trajectory:step-count", Value: map[string]any{"min": 1.0, "pattern": "search"}}, []bool{false, true, true, true, true}},
		{Spec{Type: "tool-call-f1", Value: []any{"search", "compose_reply"}}, []bool{false, false, true, true, false}},
		{Spec{Type: "tool-call-f1", Value: "search", Threshold: ptr(0.5)}, []bool{false, true, true, true, true}},
	}
	for _, r := range rows {
		r.spec.Weight = 1
		a, err := Compile(r.spec)
		if err != nil {
			t.Fatalf("Compile(%+v): %v", r.spec, err)
		}
		for i, tr := range traj {
			if got := a.Check(calls(tr...)).Pass; got != r.want[i] {
				t.Errorf("%s %v on %v: pass = %v, want %v (promptfoo)", r.spec.Type, r.spec.Value, tr, got, r.want[i])
			}
		}
	}
}

func TestToolNames(t *testing.T) {
	a := mustCompile(t, Spec{Type: "trajectory:tool-sequence", Value: []any{"a", "b*", "a", "c"}})
	if got, want := strings.Join(ToolNames(a), ","), "a,c"; got != want {
		t.Errorf("ToolNames(sequence) = %q, want %q", got, want)
	}
	if got := ToolNames(mustCompile(t, Spec{Type: "contains", Value: "x"})); got != nil {
		t.Errorf("ToolNames(contains) = %q, want nil", got)
	}
}

func TestToolCallString(t *testing.T) {
	c := ToolCall{Name: "lookup_order", Args: map[string]any{"order_id": "B7", "note": "two words", "n": 2.0}}
	if got, want := c.String(), `lookup_order(n=2, note="two words", order_id=B7)`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
