package evals

import (
	"errors"
	"fmt"
	"maps"
	"slices"

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
}

// caseRef is what a later duplicate of a case is told about it.
type caseRef struct {
	source string
	hasID  bool
}

func (l *loader) newResolver(prompt []Message, defaults rawCase, checkVars bool) *resolver {
	return &resolver{l: l, prompt: prompt, defaults: defaults, checkVars: checkVars, first: map[string]caseRef{}, written: map[string]bool{}}
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
	if !rc.hasID {
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
		case rc.hasID:
			r.l.p.Addf(rc.file, rc.idLine, strictyaml.Key(rc.field, "id"), "", ErrDuplicate, "duplicate case id %q (first at %s)", id, f.source)
		case f.hasID:
			r.l.p.Addf(rc.file, rc.line, varsField, "", ErrDuplicate, "duplicate case id %q (first at %s)", id, f.source)
		default:
			r.l.p.Addf(rc.file, rc.varsLine, varsField, "", ErrDuplicate,
				"duplicate case id %q: same vars as the case at %s (give one of them an id)", id, f.source)
		}
		return
	}
	r.first[id] = caseRef{source: rc.source(), hasID: rc.hasID}

	missing := func(name, used string) {
		if !r.checkVars {
			return
		}
		r.l.p.Addf(rc.file, rc.varsLine, varsField, "", ErrMissingVar, "missing var %q for %s (case %s)%s", name, used, id, rc.hint)
	}
	msgs := make([]Message, len(r.prompt))
	for i, m := range r.prompt {
		content, te := render(m.Content, vars)
		if te != nil {
			for _, name := range te.missing {
				missing(name, fmt.Sprintf("prompt[%d].content", i))
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
				missing(name, strictyaml.Key(rt.field, "user"))
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
func (r *resolver) compile(all []rawAssert, vars map[string]any, id string, missing func(name, used string)) ([]scoring.Assertion, bool) {
	var out []scoring.Assertion
	for _, ra := range all {
		spec := ra.spec
		templated := false
		if !ra.literal {
			v, te := renderValue(spec.Value, vars)
			if te != nil {
				for _, name := range te.missing {
					missing(name, ra.field+valueSuffix(ra))
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
