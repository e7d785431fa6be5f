package evals

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

const agentSuite = `name: support-agent
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
    function: {name: cancel_order, parameters: {type: object}}
tool_results:
  lookup_order:
    - when: {order_id: A1}
      result: {status: shipped, eta: "2 days"}
    - result: {error: not found}
max_tool_steps: 3
defaultTest:
  assert:
    - type: not-icontains
      value: "as an ai"
tests:
  - id: where-is-my-order
    vars: {order: A1}
    turns:
      - user: "Where is order {{order}}?"
        assert:
          - type: trajectory:tool-used
            value: lookup_order
          - type: trajectory:tool-args-match
            value: {name: lookup_order, args: {order_id: "{{order}}"}}
      - user: "Thanks. Cancel it, please."
        vars: {order: B7}
        assert:
          - type: not-trajectory:tool-used
            value: cancel_order
  - id: one-turn
    vars: {q: hi}
    assert:
      - type: is-valid-openai-tools-call
`

func parseText(t *testing.T, text string) *Suite {
	t.Helper()
	s, err := Parse(fstest.MapFS{"suites/agent.yaml": {Data: []byte(text)}}, "suites/agent.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func TestParseAgentSuite(t *testing.T) {
	s := parseText(t, agentSuite)
	if got, want := s.ToolNames(), []string{"cancel_order", "lookup_order"}; !cmp.Equal(got, want) {
		t.Errorf("ToolNames() = %q, want %q", got, want)
	}
	if got, want := s.ToolSteps(), 3; got != want {
		t.Errorf("ToolSteps() = %d, want %d", got, want)
	}
	if got, want := s.ToolsLine, 5; got != want {
		t.Errorf("ToolsLine = %d, want %d", got, want)
	}
	c := s.Cases[0]
	if got, want := len(c.Turns), 2; got != want {
		t.Fatalf("turns = %d, want %d", got, want)
	}
	if got, want := c.Turns[0].User, "Where is order A1?"; got != want {
		t.Errorf("turn 1 user = %q, want %q", got, want)
	}
	// defaultTest's assertion applies to every turn: 1+2 then 1+1.
	if got, want := [][2]int{{c.Turns[0].First, c.Turns[0].End}, {c.Turns[1].First, c.Turns[1].End}}, [][2]int{{0, 3}, {3, 5}}; !cmp.Equal(got, want) {
		t.Errorf("turn assertion ranges = %v, want %v", got, want)
	}
	if got, want := c.Asserts[2].Spec().Value, any(map[string]any{"name": "lookup_order", "args": map[string]any{"order_id": "A1"}}); !cmp.Equal(got, want) {
		t.Errorf("templated args = %v, want %v", got, want)
	}
	if got, want := c.Turns[1].Vars["order"], any("B7"); got != want {
		t.Errorf("turn 2 vars.order = %v, want %v", got, want)
	}
	if s.Cases[1].Turns != nil {
		t.Errorf("one-turn case has turns %v", s.Cases[1].Turns)
	}
	for _, tc := range []struct {
		args any
		want any
		ok   bool
	}{
		{map[string]any{"order_id": "A1", "verbose": true}, map[string]any{"status": "shipped", "eta": "2 days"}, true},
		{map[string]any{"order_id": "B7"}, map[string]any{"error": "not found"}, true},
		{"not an object", map[string]any{"error": "not found"}, true},
	} {
		got, ok := s.Answer("lookup_order", tc.args)
		if !cmp.Equal(got, tc.want) || ok != tc.ok {
			t.Errorf("Answer(lookup_order, %v) = %v, %v, want %v, %v", tc.args, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := s.Answer("cancel_order", nil); ok {
		t.Errorf("Answer(cancel_order) ok with no tool_results for it")
	}
}

// TestAgentVersion: tools, tool_results, max_tool_steps and the turns are
// part of the suite version.
func TestAgentVersion(t *testing.T) {
	base := parseText(t, agentSuite).Version
	for _, tc := range []struct{ name, from, to string }{
		{"tool result", `status: shipped, eta: "2 days"`, `status: shipped, eta: "3 days"`},
		{"when", `order_id: A1}`, `order_id: A2}`},
		{"tool description", "Find an order by id", "Find an order"},
		{"max_tool_steps", "max_tool_steps: 3", "max_tool_steps: 4"},
		{"turn user", "Thanks. Cancel it, please.", "Thanks. Cancel it."},
		{"turn assertion", "value: cancel_order", "value: lookup_order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(agentSuite, tc.from) {
				t.Fatalf("suite text lacks %q", tc.from)
			}
			if v := parseText(t, strings.Replace(agentSuite, tc.from, tc.to, 1)).Version; v == base {
				t.Errorf("version unchanged after changing the %s", tc.name)
			}
		})
	}
}
