package scoring

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"unicode"
)

// JudgeMessage is one chat message sent to the judge.
type JudgeMessage struct {
	Role    string
	Content string
}

// JudgeReply is what the judge endpoint answered, with what it told about
// itself, so that each grade can be traced to the judge that gave it.
type JudgeReply struct {
	Text             string
	Model            string // the model id the judge endpoint returned
	Fingerprint      string // its system_fingerprint, when it sends one
	PromptTokens     int
	CompletionTokens int
}

// Judge is the model that grades the model-graded types. It is declared here,
// where it is consumed, and implemented by the runner over HTTP: scoring
// itself does no I/O. An error means the judge gave no usable answer (after
// any retries); the grade is then missing, never a failure.
type Judge interface {
	// Complete sends one chat request to the judge.
	Complete(ctx context.Context, messages []JudgeMessage) (JudgeReply, error)
	// Embed returns one embedding per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float64, JudgeReply, error)
}

// Graded is an Assertion that needs a Judge: llm-rubric, factuality,
// model-graded-closedqa, g-eval, answer-relevance and similar. Check on a Graded assertion returns a
// missing Result (there is no judge to ask); the runner calls Grade instead.
type Graded interface {
	Assertion
	// Grade judges one output with the judge's help. A judge that fails or
	// answers something that cannot be read yields a Result with Missing
	// set and the judge's raw answer quoted in Reason.
	Grade(ctx context.Context, j Judge, out Output) Result
}

// grader is the behaviour of one base model-graded type, compiled from a Spec.
type grader interface {
	// grade asks the judge and returns the base (non-negated) outcome; a
	// non-empty missing says why no verdict could be reached.
	grade(ctx context.Context, j Judge, out Output) (o outcome, why string, missing string)
}

// graders maps each base model-graded type to its compiler.
var graders = map[string]func(Spec) (grader, error){
	"llm-rubric":              compileRubric,
	"factuality":              compileFactuality,
	"model-graded-factuality": compileFactuality,
	"model-graded-closedqa":   compileClosedQA,
	"similar":                 compileSimilar,
	"answer-relevance":        compileRelevance,
	"g-eval":                  compileGEval,
}

// allTypes is kinds and graders together, for Known and Types.
func allTypes() map[string]bool {
	m := make(map[string]bool, len(kinds)+len(graders))
	for k := range maps.Keys(kinds) {
		m[k] = true
	}
	for k := range maps.Keys(graders) {
		m[k] = true
	}
	return m
}

// gradedAssertion is a compiled model-graded Spec.
type gradedAssertion struct {
	spec    Spec
	negated bool
	g       grader
}

var _ Graded = (*gradedAssertion)(nil)

func (a *gradedAssertion) Spec() Spec { return a.spec }

// Check cannot grade without a judge: the result is missing.
func (a *gradedAssertion) Check(Output) Result {
	return Result{Type: a.spec.Type, Weight: a.spec.Weight, Missing: true, Reason: "no judge to grade with"}
}

// Grade asks the judge. It never panics: the judge's answer is untrusted.
func (a *gradedAssertion) Grade(ctx context.Context, j Judge, out Output) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			r = Result{Type: a.spec.Type, Weight: a.spec.Weight, Missing: true, Reason: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	r = Result{Type: a.spec.Type, Weight: a.spec.Weight}
	if j == nil {
		return a.Check(out)
	}
	o, why, missing := a.g.grade(ctx, j, out)
	switch {
	case missing != "":
		r.Missing, r.Reason = true, truncate(missing, maxMissingQuoted)
		return r
	case a.negated:
		r.Pass, r.Score = !o.ok, clamp01(1-o.score)
	default:
		r.Pass, r.Score = o.ok, clamp01(o.score)
	}
	if !r.Pass {
		if a.negated {
			r.Reason = "expected the grade to fail: " + oneLine(why)
		} else {
			r.Reason = oneLine(why)
		}
	}
	return r
}

// maxJudgeQuoted is how much of a judge's answer a Reason keeps, in runes:
// enough to see why it could not be read.
const maxJudgeQuoted = 300

// maxMissingQuoted bounds the raw judge text a missing grade keeps, in runes.
const maxMissingQuoted = 4000

// oneLine folds a judge's text into one line of bounded length. The judge
// is a model, so its text is untrusted: control characters other than
// whitespace (an ESC starting a terminal escape sequence, BEL, NUL) become
// U+FFFD, since reasons are printed to terminals as they are.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return '\uFFFD'
		}
		return r
	}, s)
	return truncate(strings.Join(strings.Fields(s), " "), maxJudgeQuoted)
}
