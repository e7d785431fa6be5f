package scoring

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// notPrefix negates any assertion type: "not-contains" passes when
// "contains" would fail.
const notPrefix = "not-"

// checker is the behaviour of one base assertion type, compiled from a Spec.
// Implementations are immutable after compilation and safe for concurrent use.
type checker interface {
	// check judges an output as the base (non-negated) type would.
	check(out Output) outcome
	// reason explains a failed final verdict in one short line; negated tells
	// whether it was the not- form that failed.
	reason(out Output, o outcome, negated bool) string
}

// outcome is a base type's verdict on one output.
type outcome struct {
	ok    bool    // the base type passes
	score float64 // the base score in [0,1]
	// unmeasurable marks a verdict that cannot be reached (a cost that the
	// target does not report): it fails in the plain and the not- form.
	unmeasurable bool
}

// passed and failed are the outcomes of the pass/fail (ungraded) types.
var (
	passed = outcome{ok: true, score: 1}
	failed = outcome{ok: false, score: 0}
)

func verdict(ok bool) outcome {
	if ok {
		return passed
	}
	return failed
}

// kinds maps each base type to its compiler.
var kinds = map[string]func(Spec) (checker, error){
	"equals":        compileEquals,
	"contains":      compileContains,
	"icontains":     compileIContains,
	"contains-any":  compileContainsAny,
	"icontains-any": compileIContainsAny,
	"contains-all":  compileContainsAll,
	"icontains-all": compileIContainsAll,
	"starts-with":   compileStartsWith,
	"regex":         compileRegex,
	"is-json":       compileIsJSON,
	"contains-json": compileContainsJSON,
	"levenshtein":   compileLevenshtein,
	"rouge-n":       compileRouge,
	"word-count":    compileWordCount,
	"latency":       compileLatency,
	"cost":          compileCost,

	"trajectory:tool-used":       compileToolUsed,
	"trajectory:tool-sequence":   compileToolSequence,
	"trajectory:tool-args-match": compileToolArgsMatch,
	"trajectory:step-count":      compileStepCount,
	"tool-call-f1":               compileToolCallF1,
	"is-valid-openai-tools-call": compileValidToolsCall,
}

// noNotForm lists the base types that have no not- form (promptfoo gives
// them none: is-valid-openai-tools-call ignores its inverse).
var noNotForm = map[string]bool{"is-valid-openai-tools-call": true}

// Known reports whether typ names an assertion type, with or without the
// "not-" prefix.
func Known(typ string) bool {
	return allTypes()[strings.TrimPrefix(typ, notPrefix)]
}

// Types returns the base assertion type names, sorted. Each also exists in a
// "not-" form.
func Types() []string {
	return slices.Sorted(maps.Keys(allTypes()))
}

// Compile validates s and returns the assertion it describes; the
// model-graded types return a Graded assertion. Errors wrap
// ErrUnknownType, ErrBadValue, ErrBadThreshold or ErrBadWeight, and read as
// one short lower-case line naming the type, what is wrong and the offending
// value, for example
//
//	regex: invalid value "a(b": missing closing )
//
// The caller adds the file, line and field.
func Compile(s Spec) (Assertion, error) {
	base, negated := strings.CutPrefix(s.Type, notPrefix)
	compile, ok := kinds[base]
	compileGrader, graded := graders[base]
	if !ok && !graded {
		return nil, unknownType(s.Type)
	}
	if negated && noNotForm[base] {
		return nil, specErr(ErrUnknownType, "unknown assertion type %s: %s has no not- form", show(s.Type), base)
	}
	if w := s.Weight; w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
		return nil, specErr(ErrBadWeight, "%s: invalid weight %s: must be a number of at least 0", s.Type, show(w))
	}
	if graded {
		g, err := compileGrader(s)
		if err != nil {
			return nil, err
		}
		return &gradedAssertion{spec: s, negated: negated, g: g}, nil
	}
	c, err := compile(s)
	if err != nil {
		return nil, err
	}
	return &assertion{spec: s, negated: negated, c: c}, nil
}

// assertion is a compiled Spec.
type assertion struct {
	spec    Spec
	negated bool
	c       checker
}

func (a *assertion) Spec() Spec { return a.spec }

// Check judges one output. It never panics: model output is untrusted, and a
// bug in a scorer must cost one failed assertion, not the daemon.
func (a *assertion) Check(out Output) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			r = Result{Type: a.spec.Type, Weight: a.spec.Weight, Reason: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	o := a.c.check(out)
	r = Result{Type: a.spec.Type, Weight: a.spec.Weight}
	switch {
	case o.unmeasurable:
		r.Pass, r.Score = false, 0
	case a.negated:
		r.Pass, r.Score = !o.ok, clamp01(1-o.score)
	default:
		r.Pass, r.Score = o.ok, clamp01(o.score)
	}
	if !r.Pass {
		r.Reason = a.c.reason(out, o, a.negated)
	}
	return r
}

func clamp01(x float64) float64 {
	switch {
	case math.IsNaN(x) || x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}
