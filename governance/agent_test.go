package governance

import (
	"strings"
	"testing"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

func agentSuite(secondTool string, secondUser string) *evals.Suite {
	return &evals.Suite{
		Name: "agent", Repeats: 1, Thresholds: evals.Thresholds{PassRate: ptr(1)},
		Cases: []evals.Case{{ID: "order", Vars: map[string]any{},
			Turns: []evals.Turn{{User: "Where is A1?", First: 0, End: 1}, {User: secondUser, First: 1, End: 2}},
			Asserts: []scoring.Assertion{
				as("trajectory:tool-used", "lookup_order", nil),
				as("not-trajectory:tool-used", secondTool, nil),
			}}},
	}
}

// TestAgentGoverned: a trajectory assertion of a turn is governed like any
// other, its turn is part of it, and the turns' messages are what the case
// asks.
func TestAgentGoverned(t *testing.T) {
	signed := FromSuite(agentSuite("cancel_order", "Cancel it."), nil)
	if got := FromSuite(agentSuite("cancel_order", "Cancel it."), nil).Hash(); got != signed.Hash() {
		t.Fatalf("same agent suite hashes apart")
	}
	changes := Diff(signed, FromSuite(agentSuite("refund_order", "Cancel it."), nil))
	var keys []string
	for _, c := range changes {
		keys = append(keys, c.Key)
		// Removing an assertion loosens; adding one only tightens.
		if want := c.Direction == Removed; c.NeedsSignoff != want {
			t.Errorf("change %s (%s) NeedsSignoff = %v, want %v", c.Key, c.Direction, c.NeedsSignoff, want)
		}
	}
	if got, want := strings.Join(keys, "; "), `tests[order].assert(turn 2 not-trajectory:tool-used "cancel_order"); tests[order].assert(turn 2 not-trajectory:tool-used "refund_order")`; got != want {
		t.Errorf("Diff keys = %s, want %s", got, want)
	}
	changes = Diff(signed, FromSuite(agentSuite("cancel_order", "Refund it."), nil))
	if len(changes) != 1 || changes[0].Key != "tests[order].turns" || !changes[0].NeedsSignoff {
		t.Errorf("Diff after changing a turn's message = %+v, want one tests[order].turns change needing a sign-off", changes)
	}
	// Moving an assertion to another turn changes what it checks.
	moved := agentSuite("cancel_order", "Cancel it.")
	moved.Cases[0].Turns = []evals.Turn{{User: "Where is A1?", First: 0, End: 2}, {User: "Cancel it.", First: 2, End: 2}}
	if FromSuite(moved, nil).Hash() == signed.Hash() {
		t.Errorf("moving an assertion to another turn left the governed set unchanged")
	}
}

// TestAgentToolsGoverned: an agent suite's tool schemas, tool results and
// max_tool_steps decide its verdicts, so they are in the governed set:
// changing a schema or a fixture needs a sign-off either way, more round
// trips loosen, fewer tighten; a suite that is no agent keeps its hash.
func TestAgentToolsGoverned(t *testing.T) {
	tooled := func(required []any, status string, steps int) *evals.Suite {
		s := agentSuite("cancel_order", "Cancel it.")
		s.Tools = []any{map[string]any{"type": "function", "function": map[string]any{
			"name": "lookup_order", "parameters": map[string]any{"type": "object", "required": required}}}}
		s.ToolResults = map[string][]evals.ToolResult{"lookup_order": {{Result: map[string]any{"status": status}}}}
		s.MaxToolSteps = steps
		return s
	}
	signed := FromSuite(tooled([]any{"order_id"}, "shipped", 3), nil)
	if signed.Tools == "" || signed.ToolResults == "" || signed.MaxToolSteps != 3 {
		t.Fatalf("agent suite's set: tools %q, tool_results %q, max_tool_steps %d", signed.Tools, signed.ToolResults, signed.MaxToolSteps)
	}
	for _, tc := range []struct {
		name      string
		file      *evals.Suite
		key       string
		direction Direction
		signoff   bool
	}{
		{"a schema loosened", tooled([]any{}, "shipped", 3), KeyTools, Changed, true},
		{"a schema tightened", tooled([]any{"order_id", "reason"}, "shipped", 3), KeyTools, Changed, true},
		{"a fixture edited", tooled([]any{"order_id"}, "in transit", 3), KeyToolResults, Changed, true},
		{"more round trips", tooled([]any{"order_id"}, "shipped", 50), KeyMaxToolSteps, Loosened, true},
		{"fewer round trips", tooled([]any{"order_id"}, "shipped", 2), KeyMaxToolSteps, Tightened, false},
		{"the default written out", tooled([]any{"order_id"}, "shipped", evals.DefaultMaxToolSteps), KeyMaxToolSteps, Loosened, true},
	} {
		changes := Diff(signed, FromSuite(tc.file, nil))
		if len(changes) != 1 || changes[0].Key != tc.key || changes[0].Direction != tc.direction || changes[0].NeedsSignoff != tc.signoff {
			t.Errorf("%s: Diff = %+v, want one %s change %s, needs sign-off %v", tc.name, changes, tc.key, tc.direction, tc.signoff)
		}
	}
	plain := faqSuite()
	if set := FromSuite(plain, nil); set.Tools != "" || set.ToolResults != "" || set.MaxToolSteps != 0 || strings.Contains(string(set.Canonical()), "tool") {
		t.Errorf("a suite without tools or turns gained agent fields: %s", set.Canonical())
	}
}
