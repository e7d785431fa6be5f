package evals

import (
	"fmt"
	"maps"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/evald/evald/internal/strictyaml"
	"github.com/evald/evald/scoring"
)

// DefaultMaxDisagreement is the share of calibration items a judge may
// grade against their expected verdict when the suite sets no
// max_disagreement.
const DefaultMaxDisagreement = 0.2

// Calibration is a suite's calibration set: outputs written by people with
// the verdict a sound judge gives them. The daemon grades them again
// whenever the judge's identity changes, and alerts when the judge
// disagrees with more than MaxDisagreement of them.
//
// The set checks the judge; it does not change what a run measures, so it
// is not part of the suite version (editing it must not start a new drift
// segment). Hash stands for it instead: a calibration is stored with the
// Hash of the set it graded, so that an edited set is graded again.
type Calibration struct {
	// MaxDisagreement is the largest share of items the judge may get
	// wrong, in [0,1).
	MaxDisagreement float64
	Items           []CalibrationItem
	// Hash is the sha256 of the canonical set: MaxDisagreement and, per
	// item, its case, vars, judge input, output, expected verdict and
	// resolved assertions.
	Hash string
	// Line is the line of `calibration:` in the suite file.
	Line int
}

// CalibrationItem is one output with its expected verdict.
type CalibrationItem struct {
	// Case is the id of the case whose vars and model-graded assertions the
	// item reuses ("" when it has its own).
	Case string
	Vars map[string]any
	// Input is the question the judge is shown: the last user message of
	// the suite's prompt rendered with the item's vars.
	Input  string
	Output string
	// Pass is the expected verdict: true when every assertion should pass.
	Pass bool
	// Asserts are the item's model-graded assertions (scoring.Graded).
	Asserts []scoring.Assertion
	// Source is where the item is written ("suites/faq.yaml:40").
	Source string
}

// Expected returns the expected verdict as written: "pass" or "fail".
func (it CalibrationItem) Expected() string {
	if it.Pass {
		return "pass"
	}
	return "fail"
}

var (
	calibrationKeys = []string{"max_disagreement", "items"}
	calItemKeys     = []string{"case", "vars", "assert", "output", "expect"}
)

// calibration decodes the calibration block. cases are the suite's
// resolved cases, raw the cases as written (a case that failed to resolve
// is reported where it is written, not again as unknown here).
func (l *loader) calibration(d *decoder, n *yaml.Node, prompt []Message, defaults rawCase, cases []Case, written map[string]bool, checkVars bool) *Calibration {
	f, ok := d.Fields(n, "calibration", "a mapping {max_disagreement, items}", calibrationKeys...)
	if !ok {
		return nil
	}
	c := &Calibration{MaxDisagreement: DefaultMaxDisagreement, Line: d.Line(n)}
	if m := f["max_disagreement"]; m != nil && !strictyaml.IsNull(m) {
		if v, ok := d.Number(m, "calibration.max_disagreement"); ok {
			if v < 0 || v >= 1 {
				d.FailGot(m, "calibration.max_disagreement", ErrInvalid, "must be in [0,1): the share of items the judge may get wrong")
			}
			c.MaxDisagreement = v
		}
	}
	byID := map[string]*Case{}
	for i := range cases {
		byID[cases[i].ID] = &cases[i]
	}
	items := f["items"]
	if items == nil {
		d.Fail(n, "calibration.items", ErrMissing, "required: a list of {output, expect} items")
		return c
	}
	list, ok := d.List(items, "calibration.items", "a list of {output, expect} items")
	if !ok {
		return c
	}
	if len(list) == 0 {
		d.Fail(items, "calibration.items", ErrMissing, "needs at least one item")
	}
	for i, item := range list {
		it, ok := l.calibrationItem(d, item, strictyaml.Index("calibration.items", i), prompt, defaults, byID, written, checkVars)
		if ok {
			c.Items = append(c.Items, it)
		}
	}
	return c
}

// calibrationItem decodes one item: {case, output, expect} or {vars,
// assert, output, expect}.
func (l *loader) calibrationItem(d *decoder, n *yaml.Node, field string, prompt []Message, defaults rawCase,
	byID map[string]*Case, written map[string]bool, checkVars bool) (CalibrationItem, bool) {
	it := CalibrationItem{Source: d.File + ":" + strconv.Itoa(d.Line(n))}
	f, ok := d.Fields(n, field, "a calibration item {case or vars and assert, output, expect}", calItemKeys...)
	if !ok {
		return it, false
	}
	before := l.p.Len()
	if o := f["output"]; o == nil {
		d.Fail(n, strictyaml.Key(field, "output"), ErrMissing, "required: the output to grade")
	} else if v, ok := d.NonEmpty(o, strictyaml.Key(field, "output")); ok {
		it.Output = v
	}
	if e := f["expect"]; e == nil {
		d.Fail(n, strictyaml.Key(field, "expect"), ErrMissing, "required: pass or fail")
	} else if v, ok := d.Str(e, strictyaml.Key(field, "expect")); ok {
		switch v {
		case "pass", "fail":
			it.Pass = v == "pass"
		default:
			d.FailGot(e, strictyaml.Key(field, "expect"), ErrInvalid, "must be pass or fail")
		}
	}

	if cn := f["case"]; cn != nil {
		for _, k := range []string{"vars", "assert"} {
			if f[k] != nil {
				d.Fail(f[k], strictyaml.Key(field, k), ErrInvalid, "an item with case: reuses that case's vars and assertions; give either case or vars and assert")
			}
		}
		id, ok := d.NonEmpty(cn, strictyaml.Key(field, "case"))
		if !ok {
			return it, false
		}
		it.Case = id
		c := byID[id]
		if c == nil {
			if !written[id] {
				d.FailGot(cn, strictyaml.Key(field, "case"), ErrInvalid, "no case has this id")
			}
			return it, false
		}
		it.Vars, it.Input = c.Vars, LastUser(c.Messages)
		for _, a := range c.Asserts {
			if _, graded := a.(scoring.Graded); graded {
				it.Asserts = append(it.Asserts, a)
			}
		}
		if len(it.Asserts) == 0 {
			d.Fail(cn, strictyaml.Key(field, "case"), ErrMissing, "case %q has no model-graded assertion: a calibration item checks the judge", id)
		}
		return it, l.p.Len() == before
	}

	vars := map[string]any{}
	maps.Copy(vars, defaults.vars)
	if v := f["vars"]; v != nil {
		maps.Copy(vars, varsOf(d, v, strictyaml.Key(field, "vars")))
	}
	it.Vars = vars
	missing := func(name, used string) {
		if checkVars {
			d.Fail(n, field, ErrMissingVar, "missing var %q for %s (calibration item)", name, used)
		}
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
	it.Input = LastUser(msgs)

	an := f["assert"]
	if an == nil {
		d.Fail(n, strictyaml.Key(field, "assert"), ErrMissing, "required: the model-graded assertions to grade the output with (or case: to reuse a case's)")
		return it, false
	}
	for _, ra := range asserts(d, an, strictyaml.Key(field, "assert")) {
		spec := ra.spec
		v, te := renderValue(spec.Value, vars)
		if te != nil {
			for _, name := range te.missing {
				missing(name, ra.field+".value")
			}
			continue
		}
		spec.Value = v
		spec.JudgePrompts = l.judgePrompts
		a, err := scoring.Compile(spec)
		if err != nil {
			l.p.Add(assertError(ra, err))
			continue
		}
		if _, graded := a.(scoring.Graded); !graded {
			fe := assertError(ra, Because(ErrInvalid, "%s is not model-graded: a calibration item checks the judge (llm-rubric, factuality, model-graded-closedqa, similar, answer-relevance, g-eval)", spec.Type))
			fe.Field, fe.Line = strictyaml.Key(ra.field, "type"), ra.lines["type"]
			l.p.Add(fe)
			continue
		}
		it.Asserts = append(it.Asserts, a)
	}
	if len(it.Asserts) == 0 && l.p.Len() == before {
		d.Fail(an, strictyaml.Key(field, "assert"), ErrMissing, "needs at least one model-graded assertion")
	}
	return it, l.p.Len() == before
}

// keyLine is the line of key in the mapping root (the line of its value
// n when the key is not written there, as with a merged mapping).
func keyLine(d *decoder, root *yaml.Node, key string, n *yaml.Node) int {
	if m := strictyaml.Deref(root); m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key && m.Content[i+1] == n {
				return d.Line(m.Content[i])
			}
		}
	}
	return d.Line(n)
}

// LastUser is the content of the last user message: the question a judge
// is shown ("" when there is none).
func LastUser(msgs []Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}

// calibrationHash hashes what decides a calibration's outcome.
func calibrationHash(c *Calibration) (string, error) {
	items := make([]any, len(c.Items))
	for i, it := range c.Items {
		asserts := make([]any, len(it.Asserts))
		for j, a := range it.Asserts {
			asserts[j] = specJSON(a.Spec())
		}
		vars := map[string]any{}
		maps.Copy(vars, it.Vars)
		items[i] = map[string]any{"case": it.Case, "vars": vars, "input": it.Input, "output": it.Output, "pass": it.Pass, "assert": asserts}
	}
	return hashOf(map[string]any{"max_disagreement": c.MaxDisagreement, "items": items})
}
