package evals

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/evald/evald/internal/strictyaml"
	"github.com/evald/evald/scoring"
)

// resolver turns raw cases into Cases one at a time, as they are read, so
// that a large dataset is never held twice: vars (defaultTest's overlaid
// by the case's), the case id, rendered messages, and assertions
// (defaultTest's first) templated and compiled. Problems go to l.p;
// missing vars only when checkVars is set.
type resolver struct {
	l         *loader
	prompt    []Message
	defaults  rawCase
	checkVars bool
	first     map[string]caseRef
	// written holds the ids the cases give themselves.
	written map[string]bool
	cases   []Case
	// promptAt is where each prompt message was written (may be shorter
	// than prompt in a suite built by hand).
	promptAt []promptLoc
	// A var missing from every case is a typo in the template, said once
	// where the template is; one missing from some cases is said at each
	// of them. Until the last case is read it is not known which:
	// missing holds the per-case problems of each template use, resolved
	// counts the cases whose templates were rendered, varNames the vars
	// the cases have.
	missing  map[varUse]*missingVar
	uses     []varUse
	resolved int
	varNames map[string]bool
}

// varUse is one var name in one templated field (a prompt message or an
// assertion's value).
type varUse struct{ name, used string }

// missingVar is a varUse that some cases lack, with where it is written
// (file "" when unknown) and their problems.
type missingVar struct {
	file, field string
	line        int
	cases       int
	problems    []*FieldError
}

// caseRef is what a later duplicate of a case is told about it.
type caseRef struct {
	source string
	hasID  bool
}

func (l *loader) newResolver(prompt []Message, defaults rawCase, checkVars bool) *resolver {
	return &resolver{l: l, prompt: prompt, defaults: defaults, checkVars: checkVars, first: map[string]caseRef{}, written: map[string]bool{},
		missing: map[varUse]*missingVar{}, varNames: map[string]bool{}}
}

// maxVarNames caps the var names an unknown-var error lists.
const maxVarNames = 20

// finish reports the missing vars once every case is read: a var that no
// case has (a typo in the template, such as {{questoin}}) once, at the
// template's file:line, with the vars the cases have; a var that some
// cases lack at each of them.
func (r *resolver) finish() {
	names := slices.Sorted(maps.Keys(r.varNames))
	for _, u := range r.uses {
		mv := r.missing[u]
		if mv.cases < r.resolved || mv.file == "" || r.resolved < 2 {
			for _, p := range mv.problems {
				r.l.p.Add(p)
			}
			continue
		}
		hint := strictyaml.Suggest(u.name, names)
		if !strings.HasPrefix(hint, " (did you mean") {
			hint = ""
		}
		have := "the cases have no vars"
		if len(names) > 0 {
			have = "the cases' vars are " + strings.Join(names, ", ")
		}
		r.l.p.Addf(mv.file, mv.line, mv.field, "", ErrMissingVar, "unknown var {{%s}}: no case has it%s; %s", u.name, hint, have)
	}
}

// add resolves rc and appends it to r.cases (unless it has problems).
func (r *resolver) add(rc rawCase) {
	if rc.hasID {
		r.written[rc.id] = true
	}
	vars := map[string]any{}
	maps.Copy(vars, r.defaults.vars)
	maps.Copy(vars, rc.vars)
	varsField := strictyaml.Key(rc.field, "vars")
	if rc.noVarsKey {
		varsField = rc.field
	}

	id := rc.id
	if !rc.hasID && id == "" {
		own := rc.vars
		if own == nil {
			own = map[string]any{}
		}
		var key any = own
		if rc.turns != nil {
			users := make([]any, len(rc.turns))
			for i, t := range rc.turns {
				users[i] = map[string]any{"user": t.user, "vars": t.vars}
			}
			key = map[string]any{"vars": own, "turns": users}
		}
		h, err := hashOf(key)
		if err != nil {
			r.l.p.Addf(rc.file, rc.varsLine, varsField, "", ErrInvalid, "%v", err)
			return
		}
		id = "c-" + h[:12]
	}
	if f, dup := r.first[id]; dup {
		switch {
		case rc.rowID:
			r.l.p.Addf(rc.file, rc.line, varsField, "", ErrDuplicate, "duplicate case id %q (first at %s): two datasets of that name? give them an __id column", id, f.source)
		case rc.hasID:
			key := strictyaml.Key(rc.field, "id")
			if rc.idKey != "" {
				key = rc.idKey
			}
			r.l.p.Addf(rc.file, rc.idLine, key, "", ErrDuplicate, "duplicate case id %q (first at %s)", id, f.source)
		case f.hasID:
			r.l.p.Addf(rc.file, rc.line, varsField, "", ErrDuplicate, "duplicate case id %q (first at %s)", id, f.source)
		default:
			r.l.p.Addf(rc.file, rc.varsLine, varsField, "", ErrDuplicate,
				"duplicate case id %q: same vars as the case at %s (give one of them an id)", id, f.source)
		}
		return
	}
	r.first[id] = caseRef{source: rc.source(), hasID: rc.hasID}

	r.resolved++
	for name := range vars {
		if len(r.varNames) < maxVarNames {
			r.varNames[name] = true
		}
	}
	missing := func(name, used string, at promptLoc) {
		if !r.checkVars {
			return
		}
		u := varUse{name, used}
		mv := r.missing[u]
		if mv == nil {
			mv = &missingVar{file: at.file, field: at.field, line: at.lineOf(name)}
			r.missing[u] = mv
			r.uses = append(r.uses, u)
		}
		mv.cases++
		if len(mv.problems) < maxProblems {
			mv.problems = append(mv.problems, &FieldError{File: rc.file, Line: rc.varsLine, Field: varsField,
				Err: Because(ErrMissingVar, "missing var %q for %s (case %s)%s", name, used, id, rc.hint)})
		}
	}
	msgs := make([]Message, len(r.prompt))
	for i, m := range r.prompt {
		content, te := render(m.Content, vars)
		if te != nil {
			var at promptLoc
			if i < len(r.promptAt) {
				at = r.promptAt[i]
				at.content = m.Content
			}
			for _, name := range te.missing {
				missing(name, fmt.Sprintf("prompt[%d].content", i), at)
			}
		}
		msgs[i] = Message{Role: m.Role, Content: content}
	}

	c := Case{ID: id, Description: rc.desc, Vars: vars, Messages: msgs, Source: rc.source()}
	if rc.turns == nil {
		var ok bool
		if c.Asserts, ok = r.compile(slices.Concat(r.defaults.asserts, rc.asserts), vars, id, missing); !ok {
			return
		}
		r.cases = append(r.cases, c)
		return
	}
	c.Turns = make([]Turn, len(rc.turns))
	for i, rt := range rc.turns {
		tv := vars
		if rt.vars != nil {
			tv = maps.Clone(vars)
			maps.Copy(tv, rt.vars)
		}
		user, te := render(rt.user, tv)
		if te != nil {
			for _, name := range te.missing {
				missing(name, strictyaml.Key(rt.field, "user"), promptLoc{file: rc.file, field: strictyaml.Key(rt.field, "user"), line: rt.userLine})
			}
		}
		as, ok := r.compile(slices.Concat(r.defaults.asserts, rt.asserts), tv, id, missing)
		if !ok {
			return
		}
		c.Turns[i] = Turn{User: user, Vars: tv, First: len(c.Asserts), End: len(c.Asserts) + len(as)}
		c.Asserts = append(c.Asserts, as...)
	}
	r.cases = append(r.cases, c)
}

// compile templates and compiles a case's (or a turn's) assertions.
func (r *resolver) compile(all []rawAssert, vars map[string]any, id string, missing func(name, used string, at promptLoc)) ([]scoring.Assertion, bool) {
	var out []scoring.Assertion
	for _, ra := range all {
		spec := ra.spec
		templated := false
		if !ra.literal {
			v, te := renderValue(spec.Value, vars)
			if te != nil {
				at := promptLoc{file: ra.file, field: ra.field + valueSuffix(ra), line: ra.line}
				if l := ra.lines["value"]; l > 0 {
					at.line = l
				}
				for _, name := range te.missing {
					missing(name, ra.field+valueSuffix(ra), at)
				}
				return nil, false
			}
			templated = hasTemplate(spec.Value)
			spec.Value = v
		}
		spec.JudgePrompts = r.l.judgePrompts
		spec.Tools = r.l.tools
		a, err := scoring.Compile(spec)
		if err != nil {
			if ra.shared && templated {
				err = fmt.Errorf("%w (case %s)", err, id)
			}
			r.l.p.Add(assertError(ra, err))
			return nil, false
		}
		if !r.checkToolNames(ra, a) {
			return nil, false
		}
		out = append(out, a)
	}
	return out, true
}

// valueSuffix is ".value" for an assertion written as a mapping.
func valueSuffix(ra rawAssert) string {
	if ra.lines != nil {
		return ".value"
	}
	return ""
}

// assertError places a scoring.Compile error on the assertion's field: the
// type, value or threshold it is about, when the assertion has those keys.
func assertError(ra rawAssert, err error) *FieldError {
	fe := &FieldError{File: ra.file, Line: ra.line, Field: ra.field, Err: err}
	if ra.lines == nil {
		return fe
	}
	sub := ""
	switch {
	case errors.Is(err, scoring.ErrUnknownType):
		sub = "type"
	case errors.Is(err, scoring.ErrBadValue):
		sub = "value"
	case errors.Is(err, scoring.ErrBadThreshold):
		sub = "threshold"
	case errors.Is(err, scoring.ErrBadWeight):
		sub = "weight"
	}
	if sub != "" {
		fe.Field = strictyaml.Key(ra.field, sub)
		if line := ra.lines[sub]; line > 0 {
			fe.Line = line
		}
	}
	return fe
}

// hasTemplate reports whether any string in v holds a {{...}}.
func hasTemplate(v any) bool {
	switch x := v.(type) {
	case string:
		return templateExpr.MatchString(x)
	case []any:
		return slices.ContainsFunc(x, hasTemplate)
	case map[string]any:
		for _, e := range x {
			if hasTemplate(e) {
				return true
			}
		}
	}
	return false
}

// promptLoc is where a templated text was written: file:line of its
// start (of the file itself for a file:// text), and whether it is a YAML
// block scalar (its text starts on the next line) or a whole text file.
type promptLoc struct {
	file, field string
	line        int
	block, text bool
	content     string // the text, to find the line of a var in it
}

// lineOf is the line where {{name}} first appears in the text.
func (at promptLoc) lineOf(name string) int {
	if at.content == "" || (!at.block && !at.text) {
		return at.line
	}
	for _, m := range templateExpr.FindAllStringIndex(at.content, -1) {
		if strings.TrimSpace(at.content[m[0]+2:m[1]-2]) == name {
			n := strings.Count(at.content[:m[0]], "\n")
			if at.block {
				n++
			}
			return at.line + n
		}
	}
	return at.line
}
