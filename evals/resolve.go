package evals

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/evald/evald/internal/strictyaml"
	"github.com/evald/evald/scoring"
)

// resolve turns raw cases into Cases: vars (defaultTest's overlaid by the
// case's), the case id, rendered messages, and assertions (defaultTest's
// first) templated and compiled. Problems go to l.p; missing vars only when
// checkVars is set.
func (l *loader) resolve(prompt []Message, defaults rawCase, raw []rawCase, checkVars bool) []Case {
	first := map[string]rawCase{}
	cases := make([]Case, 0, len(raw))
	for _, rc := range raw {
		vars := map[string]any{}
		maps.Copy(vars, defaults.vars)
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
			h, err := hashOf(own)
			if err != nil {
				l.p.Addf(rc.file, rc.varsLine, varsField, "", ErrInvalid, "%v", err)
				continue
			}
			id = "c-" + h[:12]
		}
		if f, dup := first[id]; dup {
			switch {
			case rc.hasID:
				l.p.Addf(rc.file, rc.idLine, strictyaml.Key(rc.field, "id"), "", ErrDuplicate, "duplicate case id %q (first at %s)", id, f.source())
			case f.hasID:
				l.p.Addf(rc.file, rc.line, varsField, "", ErrDuplicate, "duplicate case id %q (first at %s)", id, f.source())
			default:
				l.p.Addf(rc.file, rc.varsLine, varsField, "", ErrDuplicate,
					"duplicate case id %q: same vars as the case at %s (give one of them an id)", id, f.source())
			}
			continue
		}
		first[id] = rc

		missing := func(name, used string) {
			if !checkVars {
				return
			}
			l.p.Addf(rc.file, rc.varsLine, varsField, "", ErrMissingVar, "missing var %q for %s (case %s)%s", name, used, id, rc.hint)
		}
		msgs := make([]Message, len(prompt))
		for i, m := range prompt {
			content, te := render(m.Content, vars)
			if te != nil {
				for _, name := range te.missing {
					missing(name, fmt.Sprintf("prompt[%d].content", i))
				}
			}
			msgs[i] = Message{Role: m.Role, Content: content}
		}

		all := slices.Concat(defaults.asserts, rc.asserts)
		c := Case{ID: id, Description: rc.desc, Vars: vars, Messages: msgs, Source: rc.source()}
		for _, ra := range all {
			spec := ra.spec
			templated := false
			if !ra.literal {
				v, te := renderValue(spec.Value, vars)
				if te != nil {
					for _, name := range te.missing {
						missing(name, ra.field+valueSuffix(ra))
					}
					continue
				}
				templated = hasTemplate(spec.Value)
				spec.Value = v
			}
			spec.JudgePrompts = l.judgePrompts
			a, err := scoring.Compile(spec)
			if err != nil {
				if ra.shared && templated {
					err = fmt.Errorf("%w (case %s)", err, id)
				}
				l.p.Add(assertError(ra, err))
				continue
			}
			c.Asserts = append(c.Asserts, a)
		}
		cases = append(cases, c)
	}
	return cases
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
