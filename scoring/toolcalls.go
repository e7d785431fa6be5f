package scoring

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// --- tool-call-f1 ---

// toolCallF1 scores the set of tools called against the expected set:
// F1 of precision (called and expected / called) and recall (called and
// expected / expected), names compared as sets (order and repeats do not
// count). It passes at a score of at least the threshold (default 1).
type toolCallF1 struct {
	want      []string
	threshold float64
}

func compileToolCallF1(s Spec) (checker, error) {
	var names []string
	switch v := s.Value.(type) {
	case string:
		for n := range strings.SplitSeq(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	case []any:
		for i, e := range v {
			str, ok := scalarText(e)
			if !ok {
				return nil, badValue(s, "item %d must be a tool name", i+1)
			}
			if str = strings.TrimSpace(str); str != "" {
				names = append(names, str)
			}
		}
	default:
		return nil, badValue(s, "want a list of tool names or a comma-separated string")
	}
	if len(names) == 0 {
		return nil, badValue(s, "name at least one expected tool")
	}
	slices.Sort(names)
	names = slices.Compact(names)
	t, err := threshold(s, 1, 0, 1, "must be in [0,1]")
	if err != nil {
		return nil, err
	}
	return &toolCallF1{want: names, threshold: t}, nil
}

func (t *toolCallF1) scores(out Output) (f1, precision, recall float64) {
	called := map[string]bool{}
	for _, c := range out.Calls {
		called[c.Name] = true
	}
	hit := 0
	for _, n := range t.want {
		if called[n] {
			hit++
		}
	}
	if len(called) > 0 {
		precision = float64(hit) / float64(len(called))
	}
	recall = float64(hit) / float64(len(t.want))
	if precision+recall > 0 {
		f1 = 2 * precision * recall / (precision + recall)
	}
	return f1, precision, recall
}

func (t *toolCallF1) check(out Output) outcome {
	f1, _, _ := t.scores(out)
	return outcome{ok: f1 >= t.threshold, score: f1}
}

func (t *toolCallF1) reason(out Output, _ outcome, negated bool) string {
	f1, p, r := t.scores(out)
	cmp := "below"
	if negated {
		cmp = "at or above"
	}
	return fmt.Sprintf("tool call F1 %.3f is %s %s (precision %.3f, recall %.3f; expected %s; %s)",
		f1, cmp, jsNumber(t.threshold), p, r, strings.Join(t.want, ", "), callNames(out.Calls))
}

// --- is-valid-openai-tools-call ---

// validToolsCall passes when the turn made at least one tool call and every
// call names a declared tool with arguments that are JSON and valid against
// that tool's parameters schema. The tools are the suite's (Spec.Tools).
// As in promptfoo, it has no not- form.
type validToolsCall struct {
	schemas map[string]*jsonschema.Schema // nil schema: no parameters declared
}

func compileValidToolsCall(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	if err := noValue(s, "the calls are checked against the suite's tools"); err != nil {
		return nil, err
	}
	if len(s.Tools) == 0 {
		return nil, badValue(s, "the suite declares no tools to check the calls against")
	}
	v := &validToolsCall{schemas: map[string]*jsonschema.Schema{}}
	for i, raw := range s.Tools {
		name, params, err := toolDef(raw)
		if err != nil {
			return nil, badValue(s, "tools[%d]: %v", i, err)
		}
		var sch *jsonschema.Schema
		if params != nil {
			sch, err = compileSchema(Spec{Type: s.Type, Value: params})
			if err != nil {
				return nil, specErr(ErrBadValue, "%s: tool %q: parameters: %v", s.Type, name, err)
			}
		}
		v.schemas[name] = sch
	}
	return v, nil
}

// toolDef reads the name and parameters of an OpenAI tool definition
// ({type: function, function: {name, parameters}}).
func toolDef(raw any) (string, any, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("must be a tool definition {type, function}")
	}
	fn, ok := m["function"].(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("needs function: {name, parameters}")
	}
	name, _ := fn["name"].(string)
	if name == "" {
		return "", nil, fmt.Errorf("function needs a name")
	}
	return name, fn["parameters"], nil
}

func (v *validToolsCall) problem(out Output) string {
	if len(out.Calls) == 0 {
		return "expected tool calls, the model made none" + got(out)
	}
	for _, c := range out.Calls {
		sch, declared := v.schemas[c.Name]
		if !declared {
			return fmt.Sprintf("call %s: no tool %q is declared", c.String(), c.Name)
		}
		if c.Args == nil && c.RawArgs != "" {
			return fmt.Sprintf("call of %q: the arguments are not JSON: %s", c.Name, quote(c.RawArgs, maxQuoted))
		}
		if sch == nil {
			continue
		}
		args := c.Args
		if args == nil {
			args = map[string]any{}
		}
		b, err := json.Marshal(args)
		if err != nil {
			return fmt.Sprintf("call of %q: %v", c.Name, err)
		}
		doc, err := parseJSON(b)
		if err != nil {
			return fmt.Sprintf("call of %q: %v", c.Name, err)
		}
		if err := sch.Validate(doc); err != nil {
			return fmt.Sprintf("call %s does not match the parameters of %q: %s", c.String(), c.Name, schemaMismatch(err))
		}
	}
	return ""
}

func (v *validToolsCall) check(out Output) outcome { return verdict(v.problem(out) == "") }

func (v *validToolsCall) reason(out Output, _ outcome, _ bool) string { return v.problem(out) }
