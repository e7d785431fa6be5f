package evals

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Templates are deliberately tiny: {{name}} or {{ name }} is replaced by the
// case's var of that name, and nothing else is template syntax. Any other
// {{...}} (filters, dotted paths, control tags) is an error rather than text
// sent to the model unrendered.
var (
	templateExpr = regexp.MustCompile(`\{\{(.*?)\}\}`)
	// templateTag is Jinja's and Nunjucks' {% tag %}: not supported either.
	templateTag = regexp.MustCompile(`\{%.*?%\}`)
	varName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// templateError is what rendering one string can go wrong with.
type templateError struct {
	missing []string // var names absent from vars, in order of first use
	bad     string   // the first unsupported {{...}} expression
}

// render replaces the templates in s. It reports every missing var and the
// first unsupported expression.
func render(s string, vars map[string]any) (string, *templateError) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	var te *templateError
	out := templateExpr.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-2])
		if !varName.MatchString(name) {
			if te == nil {
				te = &templateError{}
			}
			if te.bad == "" {
				te.bad = m
			}
			return m
		}
		v, ok := vars[name]
		if !ok {
			if te == nil {
				te = &templateError{}
			}
			if !slices.Contains(te.missing, name) {
				te.missing = append(te.missing, name)
			}
			return m
		}
		return varText(v)
	})
	return out, te
}

// varText renders a var into a template: strings as they are, numbers and
// booleans as written, null as nothing, lists and mappings as canonical JSON.
func varText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	b, err := CanonicalJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// renderValue templates every string inside an assertion value. A string
// that is exactly one {{var}} whose var is a list or a mapping takes the
// var's value itself, so `value: "{{ideal}}"` keeps a list of ideals a list.
func renderValue(v any, vars map[string]any) (any, *templateError) {
	switch x := v.(type) {
	case string:
		if m := templateExpr.FindStringSubmatchIndex(x); m != nil && m[0] == 0 && m[1] == len(x) {
			name := strings.TrimSpace(x[m[2]:m[3]])
			if val, ok := vars[name]; ok {
				switch val.(type) {
				case []any, map[string]any:
					return val, nil
				}
			}
		}
		return render(x, vars)
	case []any:
		out := make([]any, len(x))
		var te *templateError
		for i, e := range x {
			r, err := renderValue(e, vars)
			te = te.merge(err)
			out[i] = r
		}
		return out, te
	case map[string]any:
		out := make(map[string]any, len(x))
		var te *templateError
		for k, e := range x {
			r, err := renderValue(e, vars)
			te = te.merge(err)
			out[k] = r
		}
		return out, te
	}
	return v, nil
}

func (te *templateError) merge(o *templateError) *templateError {
	if o == nil {
		return te
	}
	if te == nil {
		return o
	}
	for _, m := range o.missing {
		if !slices.Contains(te.missing, m) {
			te.missing = append(te.missing, m)
		}
	}
	if te.bad == "" {
		te.bad = o.bad
	}
	return te
}

// RenderMessages renders prompt templates with vars: {{name}} and
// {{ name }} become the var's value (strings as they are, numbers and
// booleans as written, lists and mappings as JSON). A missing var is an
// error wrapping ErrMissingVar, any other {{...}} one wrapping ErrTemplate.
func RenderMessages(prompt []Message, vars map[string]any) ([]Message, error) {
	out := make([]Message, len(prompt))
	var errs []error
	for i, m := range prompt {
		content, te := render(m.Content, vars)
		if te != nil {
			errs = append(errs, te.errorAt(fmt.Sprintf("prompt[%d].content", i)))
		}
		out[i] = Message{Role: m.Role, Content: content}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func (te *templateError) errorAt(field string) error {
	if te.bad != "" {
		return fmt.Errorf("%s: %w %s: only {{name}} is supported", field, ErrTemplate, te.bad)
	}
	return fmt.Errorf("%s: %w %s", field, ErrMissingVar, quoteAll(te.missing))
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
