package evals

import (
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/evald/evald/internal/strictyaml"
	"github.com/evald/evald/scoring"
)

// DefaultMaxToolSteps is the number of tool round trips a turn may take
// when a suite does not set max_tool_steps.
const DefaultMaxToolSteps = 5

// ToolResult is one entry of tool_results: what evald answers when the
// tool is called with arguments that contain When (a subset match: every
// key of When is in the call's arguments with an equal value, objects
// compared the same way). A nil When is the default and matches any call.
type ToolResult struct {
	When   map[string]any `json:"when,omitempty"`
	Result any            `json:"result"`
}

// Turn is one user message of a scripted conversation (a case's turns).
// Its assertions are Case.Asserts[First:End]: defaultTest's, then its own.
type Turn struct {
	User string
	// Vars are the case's vars overlaid with the turn's own.
	Vars       map[string]any
	First, End int
}

// Answer returns the result for a call of tool with args: the first entry
// whose When is contained in args, else ok is false (no entry matches, or
// the tool has no entries).
func (s *Suite) Answer(tool string, args any) (result any, ok bool) {
	for _, r := range s.ToolResults[tool] {
		if r.When == nil || contains(args, r.When) {
			return r.Result, true
		}
	}
	return nil, false
}

// contains reports whether every key of want is in got with a value that
// equals it (nested objects compared the same way).
func contains(got any, want map[string]any) bool {
	g, ok := got.(map[string]any)
	if !ok {
		return false
	}
	for k, wv := range want {
		gv, has := g[k]
		if !has {
			return false
		}
		if wm, isMap := wv.(map[string]any); isMap {
			if !contains(gv, wm) {
				return false
			}
			continue
		}
		a, err1 := CanonicalJSON(gv)
		b, err2 := CanonicalJSON(wv)
		if err1 != nil || err2 != nil || string(a) != string(b) {
			return false
		}
	}
	return true
}

// ToolNames returns the names of the suite's declared tools, sorted.
func (s *Suite) ToolNames() []string {
	var names []string
	for _, t := range s.Tools {
		if m, ok := t.(map[string]any); ok {
			if fn, ok := m["function"].(map[string]any); ok {
				if n, ok := fn["name"].(string); ok {
					names = append(names, n)
				}
			}
		}
	}
	slices.Sort(names)
	return names
}

// tools decodes the suite's tools: a list of OpenAI tool definitions
// {type: function, function: {name, description, parameters, strict}}.
func (l *loader) parseTools(d *decoder, n *yaml.Node) []any {
	items, ok := d.List(n, "tools", "a list of OpenAI tool definitions")
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	out := make([]any, 0, len(items))
	for i, item := range items {
		fi := strictyaml.Index("tools", i)
		f, ok := d.Fields(item, fi, "a tool {type: function, function: {name, description, parameters}}", "type", "function")
		if !ok {
			continue
		}
		if t := f["type"]; t != nil {
			if v, ok := d.Str(t, strictyaml.Key(fi, "type")); ok && v != "function" {
				d.FailGot(t, strictyaml.Key(fi, "type"), ErrInvalid, "must be function")
			}
		}
		fn := f["function"]
		if fn == nil {
			d.Fail(item, strictyaml.Key(fi, "function"), ErrMissing, "required: {name, description, parameters}")
			continue
		}
		ff := strictyaml.Key(fi, "function")
		fk, ok := d.Fields(fn, ff, "a function {name, description, parameters, strict}", "name", "description", "parameters", "strict")
		if !ok {
			continue
		}
		if fk["name"] == nil {
			d.Fail(fn, strictyaml.Key(ff, "name"), ErrMissing, "required")
			continue
		}
		name, ok := d.NonEmpty(fk["name"], strictyaml.Key(ff, "name"))
		if !ok {
			continue
		}
		if seen[name] {
			d.FailGot(fk["name"], strictyaml.Key(ff, "name"), ErrDuplicate, "a tool of this name is declared already")
			continue
		}
		seen[name] = true
		if p := fk["parameters"]; p != nil {
			if dp := strictyaml.Deref(p); dp.Kind != yaml.MappingNode {
				d.FailGot(p, strictyaml.Key(ff, "parameters"), ErrType, "must be a JSON Schema object")
				continue
			}
		}
		v, ok := d.value(fn, ff)
		if !ok {
			continue
		}
		out = append(out, map[string]any{"type": "function", "function": jsonNumbers(v)})
	}
	return out
}

// toolResults decodes tool_results: a mapping of tool names to lists of
// {when, result}. known holds the declared tools (nil: the suite declares
// none, and any name is taken).
func (l *loader) parseToolResults(d *decoder, n *yaml.Node, known []string) map[string][]ToolResult {
	dn := strictyaml.Deref(n)
	if dn.Kind != yaml.MappingNode {
		d.FailGot(n, "tool_results", ErrType, "must be a mapping of tool names to lists of {when, result}")
		return nil
	}
	out := map[string][]ToolResult{}
	for i := 0; i+1 < len(dn.Content); i += 2 {
		kn, vn := dn.Content[i], dn.Content[i+1]
		name := kn.Value
		field := "tool_results." + name
		if known != nil && !slices.Contains(known, name) {
			d.FailGot(kn, field, ErrInvalid, "unknown tool %q (the suite's tools: %s)", name, strings.Join(known, ", "))
			continue
		}
		items, ok := d.List(vn, field, "a list of {when, result}")
		if !ok {
			continue
		}
		var list []ToolResult
		defaultAt := -1
		for j, item := range items {
			fj := strictyaml.Index(field, j)
			f, ok := d.Fields(item, fj, "a tool result {when, result}", "when", "result")
			if !ok {
				continue
			}
			if defaultAt >= 0 {
				d.Fail(item, fj, ErrInvalid, "never used: the entry without when at %s[%d] answers every call first", field, defaultAt)
				continue
			}
			var r ToolResult
			if w := f["when"]; w != nil && !strictyaml.IsNull(w) {
				if strictyaml.Deref(w).Kind != yaml.MappingNode {
					d.FailGot(w, strictyaml.Key(fj, "when"), ErrType, "must be a mapping of argument names to values (a subset of the call's arguments)")
					continue
				}
				v, ok := d.value(w, strictyaml.Key(fj, "when"))
				if !ok {
					continue
				}
				r.When, _ = jsonNumbers(v).(map[string]any)
			} else {
				defaultAt = j
			}
			res := f["result"]
			if res == nil {
				d.Fail(item, strictyaml.Key(fj, "result"), ErrMissing, "required: what the tool returns")
				continue
			}
			v, ok := d.value(res, strictyaml.Key(fj, "result"))
			if !ok {
				continue
			}
			r.Result = jsonNumbers(v)
			list = append(list, r)
		}
		out[name] = list
	}
	return out
}

// rawTurn is a turn as written.
type rawTurn struct {
	user     string
	vars     map[string]any
	asserts  []rawAssert
	line     int
	field    string
	userLine int
}

// turns decodes a case's turns: a list of {user, assert, vars}.
func turns(d *decoder, n *yaml.Node, field string) ([]rawTurn, bool) {
	items, ok := d.List(n, field, "a list of turns {user, assert, vars}")
	if !ok {
		return nil, false
	}
	if len(items) == 0 {
		d.Fail(n, field, ErrMissing, "needs at least one turn")
		return nil, false
	}
	out := make([]rawTurn, 0, len(items))
	ok = true
	for i, item := range items {
		fi := strictyaml.Index(field, i)
		t := rawTurn{line: d.Line(item), field: fi}
		f, fok := d.Fields(item, fi, "a turn {user, assert, vars}", "user", "assert", "vars")
		if !fok {
			ok = false
			continue
		}
		if u := f["user"]; u == nil {
			d.Fail(item, strictyaml.Key(fi, "user"), ErrMissing, "required: the user's message of this turn")
			ok = false
		} else if v, vok := d.NonEmpty(u, strictyaml.Key(fi, "user")); vok {
			t.user, t.userLine = v, d.Line(u)
			if bad := badTemplate(v); bad != "" {
				d.Fail(u, strictyaml.Key(fi, "user"), ErrTemplate, onlyNames, bad)
				ok = false
			}
		} else {
			ok = false
		}
		if v := f["vars"]; v != nil {
			t.vars = varsOf(d, v, strictyaml.Key(fi, "vars"))
		}
		if a := f["assert"]; a != nil {
			t.asserts = asserts(d, a, strictyaml.Key(fi, "assert"))
		}
		out = append(out, t)
	}
	return out, ok
}

// checkToolNames reports the tools an assertion names that the suite does
// not declare.
func (r *resolver) checkToolNames(ra rawAssert, a scoring.Assertion) bool {
	if r.l.toolNames == nil {
		return true
	}
	for _, name := range scoring.ToolNames(a) {
		if !slices.Contains(r.l.toolNames, name) {
			fe := &FieldError{File: ra.file, Line: ra.line, Field: ra.field,
				Err: Because(ErrInvalid, "unknown tool %q in %s (the suite's tools: %s)", name, a.Spec().Type, strings.Join(r.l.toolNames, ", "))}
			if line := ra.lines["value"]; line > 0 {
				fe.Line, fe.Field = line, strictyaml.Key(ra.field, "value")
			}
			r.l.p.Add(fe)
			return false
		}
	}
	return true
}

// agentJSON is the part of an agent suite that enters its version: the
// tools, their results and max_tool_steps. Suites without tools, results
// or turns leave it out, so their versions stay as they were.
func agentJSON(s *Suite) map[string]any {
	return map[string]any{"tools": s.ToolsJSON(), "tool_results": s.ToolResultsJSON(), "max_tool_steps": s.ToolSteps()}
}

// ToolsJSON is the suite's tool definitions as plain JSON values (an empty
// list when it declares none).
func (s *Suite) ToolsJSON() []any {
	if s.Tools == nil {
		return []any{}
	}
	return s.Tools
}

// ToolResultsJSON is the suite's tool_results as plain JSON values: by
// tool name, the entries in file order, each with its result and, when
// set, its when.
func (s *Suite) ToolResultsJSON() map[string]any {
	results := map[string]any{}
	names := make([]string, 0, len(s.ToolResults))
	for k := range s.ToolResults {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		list := make([]any, len(s.ToolResults[k]))
		for i, r := range s.ToolResults[k] {
			e := map[string]any{"result": r.Result}
			if r.When != nil {
				e["when"] = r.When
			}
			list[i] = e
		}
		results[k] = list
	}
	return results
}

// ToolSteps is the number of tool round trips a turn may take.
func (s *Suite) ToolSteps() int {
	if s.MaxToolSteps > 0 {
		return s.MaxToolSteps
	}
	return DefaultMaxToolSteps
}

// IsAgent reports whether the suite uses any of the agent settings.
func (s *Suite) IsAgent() bool {
	if len(s.Tools) > 0 || s.ToolResults != nil || s.MaxToolSteps != 0 {
		return true
	}
	for _, c := range s.Cases {
		if c.Turns != nil {
			return true
		}
	}
	return false
}
