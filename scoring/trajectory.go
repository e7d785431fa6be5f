package scoring

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
)

// ToolCall is one tool call a model made while answering a turn: the tool's
// name, its arguments parsed as JSON, and the result evald answered with.
// A turn's calls, in the order made, are its trajectory.
type ToolCall struct {
	Name string `json:"name"`
	// Args are the arguments as JSON values (objects as map[string]any,
	// numbers as float64). When the model sent arguments that are not
	// JSON, Args is nil and RawArgs holds them as sent.
	Args    any    `json:"args,omitempty"`
	RawArgs string `json:"raw_args,omitempty"`
	// Result is what the model was told the call returned.
	Result any `json:"result,omitempty"`
}

// Turn is what one turn of a case went through: the user's message (empty
// for a one-turn case, whose prompt holds it), the model's final text, its
// tool calls with their results, and why it failed beyond its assertions
// (Failure: max_tool_steps exceeded) or could not finish (Error).
type Turn struct {
	User    string     `json:"user,omitempty"`
	Output  string     `json:"output"`
	Calls   []ToolCall `json:"calls,omitempty"`
	Failure string     `json:"failure,omitempty"`
	Error   string     `json:"error,omitempty"`
}

// TurnReason prefixes a failure reason with the turn it happened in
// ("turn 2: ..."); turn 0 (a one-turn case) leaves it as it is.
func TurnReason(turn int, reason string) string {
	if turn <= 0 {
		return reason
	}
	return fmt.Sprintf("turn %d: %s", turn, reason)
}

// String renders the call as name(key=value, ...) for reports and diffs:
// keys sorted, strings unquoted when they are plain words.
func (c ToolCall) String() string {
	if c.Args == nil && c.RawArgs != "" {
		return c.Name + "(" + truncate(c.RawArgs, 60) + ")"
	}
	m, ok := c.Args.(map[string]any)
	if !ok {
		if c.Args == nil {
			return c.Name + "()"
		}
		return c.Name + "(" + argText(c.Args) + ")"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + argText(m[k])
	}
	return c.Name + "(" + strings.Join(parts, ", ") + ")"
}

func argText(v any) string {
	if s, ok := v.(string); ok {
		if s != "" && !strings.ContainsAny(s, " ,()=\"\n\t") {
			return truncate(s, 40)
		}
		return quote(s, 40)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(b), 40)
}

// callNames lists the names of calls, for reasons.
func callNames(calls []ToolCall) string {
	if len(calls) == 0 {
		return "no tool calls"
	}
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.Name
	}
	return "calls: " + truncate(strings.Join(names, ", "), 2*maxQuoted)
}

// toolMatcher selects calls by tool name: an exact name, or a pattern in
// which '*' stands for any run of characters (as promptfoo's trajectory
// matchers do; nothing else is special and matching is case-sensitive).
type toolMatcher struct {
	label string
	name  string // exact name ("" for a pattern)
	parts []string
}

func newMatcher(p string) toolMatcher {
	if !strings.Contains(p, "*") {
		return toolMatcher{label: p, name: p}
	}
	return toolMatcher{label: p, parts: strings.Split(p, "*")}
}

func (m toolMatcher) match(name string) bool {
	if m.parts == nil {
		return name == m.name
	}
	first, last := m.parts[0], m.parts[len(m.parts)-1]
	if !strings.HasPrefix(name, first) || len(name) < len(first)+len(last) || !strings.HasSuffix(name, last) {
		return false
	}
	rest := name[len(first) : len(name)-len(last)]
	for _, p := range m.parts[1 : len(m.parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}

// literal reports the exact tool name of the matcher ("" for a pattern).
func (m toolMatcher) literal() string { return m.name }

func (m toolMatcher) count(calls []ToolCall) int {
	n := 0
	for _, c := range calls {
		if m.match(c.Name) {
			n++
		}
	}
	return n
}

// matcherOf reads a tool name or {name|pattern} object; what names the
// assertion's value shape for errors.
func matcherOf(s Spec, v any, what string) (toolMatcher, error) {
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			return toolMatcher{}, badValue(s, "%s: a tool name must not be empty", what)
		}
		return newMatcher(x), nil
	case map[string]any:
		p, _ := x["pattern"].(string)
		if p == "" {
			p, _ = x["name"].(string)
		}
		if strings.TrimSpace(p) == "" {
			return toolMatcher{}, badValue(s, "%s needs a name or a pattern", what)
		}
		return newMatcher(p), nil
	}
	return toolMatcher{}, badValue(s, "%s must be a tool name or {name|pattern}", what)
}

// onlyKeys rejects keys of m outside allowed: a misspelt key would
// otherwise be ignored and the assertion check less than written.
func onlyKeys(s Spec, m map[string]any, allowed ...string) error {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return badValue(s, "unknown key %q (known: %s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// countBound reads an optional min or max: a whole number of at least 0.
func countBound(s Spec, m map[string]any, key string) (int, bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	f, isNum := number(v)
	if !isNum || f < 0 || f != math.Trunc(f) || f > 1e9 {
		return 0, false, badValue(s, "%s must be a whole number of at least 0", key)
	}
	return int(f), true, nil
}

// --- trajectory:tool-used ---

// toolUsed passes when the turn called the named tools. A name or a list
// of names: every one was called (the not- form: none was, as promptfoo
// reads a forbidden list). {name|pattern, min, max}: the matching calls
// number at least min (default 1) and at most max.
type toolUsed struct {
	list     []toolMatcher
	one      toolMatcher
	min, max int
	hasMax   bool
	negated  bool
}

func compileToolUsed(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	t := &toolUsed{negated: strings.HasPrefix(s.Type, notPrefix)}
	switch v := s.Value.(type) {
	case string:
		m, err := matcherOf(s, v, "the value")
		if err != nil {
			return nil, err
		}
		t.list = []toolMatcher{m}
	case []any:
		if len(v) == 0 {
			return nil, badValue(s, "name at least one tool")
		}
		for i, e := range v {
			str, ok := e.(string)
			if !ok {
				return nil, badValue(s, "item %d must be a tool name", i+1)
			}
			m, err := matcherOf(s, str, fmt.Sprintf("item %d", i+1))
			if err != nil {
				return nil, err
			}
			t.list = append(t.list, m)
		}
	case map[string]any:
		if err := onlyKeys(s, v, "name", "pattern", "min", "max"); err != nil {
			return nil, err
		}
		m, err := matcherOf(s, v, "the value")
		if err != nil {
			return nil, err
		}
		t.one, t.min = m, 1
		if n, ok, err := countBound(s, v, "min"); err != nil {
			return nil, err
		} else if ok {
			t.min = n
		}
		n, ok, err := countBound(s, v, "max")
		if err != nil {
			return nil, err
		}
		t.max, t.hasMax = n, ok
		if ok && n < t.min {
			return nil, badValue(s, "max is below min")
		}
	default:
		return nil, badValue(s, "want a tool name, a list of names, or {name|pattern, min, max}")
	}
	return t, nil
}

func (t *toolUsed) check(out Output) outcome {
	if t.list == nil {
		n := t.one.count(out.Calls)
		return verdict(n >= t.min && (!t.hasMax || n <= t.max))
	}
	used := 0
	for _, m := range t.list {
		if m.count(out.Calls) > 0 {
			used++
		}
	}
	if t.negated {
		// promptfoo: a forbidden list fails when any of it was used.
		return verdict(used > 0)
	}
	return verdict(used == len(t.list))
}

func (t *toolUsed) reason(out Output, _ outcome, negated bool) string {
	if t.list == nil {
		n := t.one.count(out.Calls)
		want := fmt.Sprintf("at least %d", t.min)
		if t.hasMax {
			want = fmt.Sprintf("%d to %d", t.min, t.max)
		}
		if negated {
			return fmt.Sprintf("expected tool %q not to be called %s times, it was called %d times (%s)", t.one.label, want, n, callNames(out.Calls))
		}
		return fmt.Sprintf("expected tool %q to be called %s times, it was called %d times (%s)", t.one.label, want, n, callNames(out.Calls))
	}
	var hit, miss []string
	for _, m := range t.list {
		if m.count(out.Calls) > 0 {
			hit = append(hit, m.label)
		} else {
			miss = append(miss, m.label)
		}
	}
	if negated {
		return "expected no call of " + quoteList(hit) + " (" + callNames(out.Calls) + ")"
	}
	return "expected a call of " + quoteList(miss) + " (" + callNames(out.Calls) + ")"
}

// --- trajectory:tool-sequence ---

// toolSequence passes when the calls follow the steps: in_order (the
// default) allows other calls in between, exact wants exactly these calls.
type toolSequence struct {
	steps []toolMatcher
	exact bool
}

func compileToolSequence(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	var raw []any
	t := &toolSequence{}
	switch v := s.Value.(type) {
	case []any:
		raw = v
	case map[string]any:
		if err := onlyKeys(s, v, "mode", "steps"); err != nil {
			return nil, err
		}
		switch m := v["mode"]; m {
		case nil, "in_order":
		case "exact":
			t.exact = true
		default:
			return nil, badValue(s, "mode must be in_order or exact")
		}
		steps, ok := v["steps"].([]any)
		if !ok {
			return nil, badValue(s, "steps must be a list of tool names")
		}
		raw = steps
	default:
		return nil, badValue(s, "want a list of tool names or {mode, steps}")
	}
	if len(raw) == 0 {
		return nil, badValue(s, "name at least one step")
	}
	for i, e := range raw {
		m, err := matcherOf(s, e, fmt.Sprintf("step %d", i+1))
		if err != nil {
			return nil, err
		}
		t.steps = append(t.steps, m)
	}
	return t, nil
}

func (t *toolSequence) check(out Output) outcome {
	if t.exact {
		if len(out.Calls) != len(t.steps) {
			return failed
		}
		for i, m := range t.steps {
			if !m.match(out.Calls[i].Name) {
				return failed
			}
		}
		return passed
	}
	next := 0
	for _, c := range out.Calls {
		if next < len(t.steps) && t.steps[next].match(c.Name) {
			next++
		}
	}
	return verdict(next == len(t.steps))
}

func (t *toolSequence) reason(out Output, _ outcome, negated bool) string {
	labels := make([]string, len(t.steps))
	for i, m := range t.steps {
		labels[i] = m.label
	}
	mode := "in order"
	if t.exact {
		mode = "exactly"
	}
	not := ""
	if negated {
		not = "not "
	}
	return fmt.Sprintf("expected the calls %sto be %s %s (%s)", not, mode, strings.Join(labels, " → "), callNames(out.Calls))
}

// --- trajectory:tool-args-match ---

// toolArgsMatch passes when some call of the tool had the arguments:
// partial (the default) wants the given keys with equal values (nested
// objects alike, lists element by element), exact wants equal arguments.
type toolArgsMatch struct {
	tool  toolMatcher
	args  any
	exact bool
}

func compileToolArgsMatch(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	v, ok := s.Value.(map[string]any)
	if !ok {
		return nil, badValue(s, "want {name, args, mode}")
	}
	if err := onlyKeys(s, v, "name", "pattern", "args", "arguments", "mode"); err != nil {
		return nil, err
	}
	m, err := matcherOf(s, v, "the value")
	if err != nil {
		return nil, err
	}
	t := &toolArgsMatch{tool: m}
	args, has := v["args"]
	if !has {
		args, has = v["arguments"]
	}
	if !has {
		return nil, badValue(s, "needs args")
	}
	t.args = args
	switch v["mode"] {
	case nil, "partial":
	case "exact":
		t.exact = true
	default:
		return nil, badValue(s, "mode must be partial or exact")
	}
	return t, nil
}

func (t *toolArgsMatch) check(out Output) outcome {
	for _, c := range out.Calls {
		if !t.tool.match(c.Name) || c.Args == nil {
			continue
		}
		if t.exact && reflect.DeepEqual(c.Args, t.args) || !t.exact && partialMatch(c.Args, t.args) {
			return passed
		}
	}
	return failed
}

// partialMatch: every key of an expected object is in the actual one with
// a matching value; lists match element by element and in length; other
// values are equal.
func partialMatch(actual, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		a, ok := actual.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			av, has := a[k]
			if !has || !partialMatch(av, wv) {
				return false
			}
		}
		return true
	case []any:
		a, ok := actual.([]any)
		if !ok || len(a) != len(w) {
			return false
		}
		for i := range w {
			if !partialMatch(a[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(actual, want)
}

func (t *toolArgsMatch) reason(out Output, _ outcome, negated bool) string {
	want := ToolCall{Name: t.tool.label, Args: t.args}.String()
	var seen []string
	for _, c := range out.Calls {
		if t.tool.match(c.Name) {
			seen = append(seen, c.String())
		}
	}
	mode := "partial"
	if t.exact {
		mode = "exact"
	}
	if negated {
		return fmt.Sprintf("expected no call matching %s (%s), got %s", want, mode, strings.Join(seen, ", "))
	}
	if len(seen) == 0 {
		return fmt.Sprintf("expected a call matching %s (%s), but %q was not called (%s)", want, mode, t.tool.label, callNames(out.Calls))
	}
	return fmt.Sprintf("expected a call matching %s (%s), got %s", want, mode, truncate(strings.Join(seen, ", "), 2*maxQuoted))
}

// --- trajectory:step-count ---

// stepCount passes when the number of calls (of the named tool, when a
// name or pattern is given) is within {min, max}.
type stepCount struct {
	tool           *toolMatcher
	min, max       int
	hasMin, hasMax bool
}

func compileStepCount(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	v, ok := s.Value.(map[string]any)
	if !ok {
		return nil, badValue(s, "want {min, max}")
	}
	if err := onlyKeys(s, v, "min", "max", "name", "pattern", "type"); err != nil {
		return nil, err
	}
	t := &stepCount{}
	if ty, has := v["type"]; has && ty != "tool" {
		return nil, badValue(s, "type can only be tool: evald's trajectories hold tool calls")
	}
	var err error
	if t.min, t.hasMin, err = countBound(s, v, "min"); err != nil {
		return nil, err
	}
	if t.max, t.hasMax, err = countBound(s, v, "max"); err != nil {
		return nil, err
	}
	if !t.hasMin && !t.hasMax {
		return nil, badValue(s, "needs min or max")
	}
	if t.hasMin && t.hasMax && t.max < t.min {
		return nil, badValue(s, "max is below min")
	}
	if _, named := v["name"]; named || v["pattern"] != nil {
		m, err := matcherOf(s, v, "the value")
		if err != nil {
			return nil, err
		}
		t.tool = &m
	}
	return t, nil
}

func (t *stepCount) count(out Output) int {
	if t.tool == nil {
		return len(out.Calls)
	}
	return t.tool.count(out.Calls)
}

func (t *stepCount) check(out Output) outcome {
	n := t.count(out)
	return verdict((!t.hasMin || n >= t.min) && (!t.hasMax || n <= t.max))
}

func (t *stepCount) reason(out Output, _ outcome, negated bool) string {
	var want string
	switch {
	case t.hasMin && t.hasMax:
		want = fmt.Sprintf("%d to %d", t.min, t.max)
	case t.hasMin:
		want = fmt.Sprintf("at least %d", t.min)
	default:
		want = fmt.Sprintf("at most %d", t.max)
	}
	what := "tool calls"
	if t.tool != nil {
		what = fmt.Sprintf("calls of %q", t.tool.label)
	}
	not := ""
	if negated {
		not = "not "
	}
	return fmt.Sprintf("expected %s%s %s, got %d (%s)", not, want, what, t.count(out), callNames(out.Calls))
}

// ToolNames returns the exact tool names a trajectory assertion refers to
// (patterns with '*' are left out), so that a suite can check them against
// the tools it declares. Other types return nil.
func ToolNames(a Assertion) []string {
	var ms []toolMatcher
	switch c := checkerOf(a).(type) {
	case *toolUsed:
		ms = append(ms, c.list...)
		if c.list == nil {
			ms = append(ms, c.one)
		}
	case *toolSequence:
		ms = c.steps
	case *toolArgsMatch:
		ms = []toolMatcher{c.tool}
	case *stepCount:
		if c.tool != nil {
			ms = []toolMatcher{*c.tool}
		}
	case *toolCallF1:
		return slices.Clone(c.want)
	}
	var names []string
	for _, m := range ms {
		if n := m.literal(); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

func checkerOf(a Assertion) checker {
	if x, ok := a.(*assertion); ok {
		return x.c
	}
	return nil
}

// parseArgs decodes a tool call's arguments as the assertions compare
// them (numbers as float64).
func parseArgs(s string) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	return v, nil
}
