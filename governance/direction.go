package governance

import "strings"

// bound says how a governed value bars a pass, and so which way of moving it
// is looser. This file is the one place that knows.
type bound int

const (
	// floor: the value is a minimum the measurement must reach; raising it
	// is tightening.
	floor bound = iota
	// ceiling: the value is a maximum; raising it is loosening.
	ceiling
	// neither: moving the value is a change with no better or worse side.
	neither
)

// suiteBounds are the suite-level keys.
//
// repeats is neither: fewer samples per case do not lower a bar, they make
// every measurement noisier, so a fixed bar is both likelier to pass a bad
// case and to fail a good one (and drift loses power). The diff calls such
// a move "changed"; it needs a sign-off like any other.
//
// drift.min_effect is the smallest drop worth a page: a larger value needs a
// bigger drop before anyone hears of it, so raising it is loosening.
var suiteBounds = map[string]bound{
	KeyPassRate:  floor,
	KeyMeanScore: floor,
	KeyMinEffect: ceiling,
	KeyRepeats:   neither,
}

// assertBounds are the assertion types whose threshold is a maximum. Every
// other type's threshold is the minimum score a sample must reach (rouge-n,
// similar, bleu, llm-rubric, answer-relevance, perplexity-score, ... as in
// promptfoo), so raising it is tightening. A "not-" type inverts its base
// type's verdict, so it inverts the bound too: not-levenshtein with a higher
// threshold demands a more different answer, which is tighter.
var assertBounds = map[string]bound{
	"levenshtein": ceiling, // the largest edit distance that still passes
	"latency":     ceiling, // milliseconds
	"cost":        ceiling, // USD per sample
	"perplexity":  ceiling, // the largest perplexity that still passes
}

// boundOf returns the bound of a key of a ThresholdSet. An unknown
// suite-level key counts as neither.
func boundOf(key string) bound {
	if b, ok := suiteBounds[key]; ok {
		return b
	}
	typ, ok := assertType(key)
	if !ok {
		return neither
	}
	base, negated := strings.CutPrefix(typ, "not-")
	b, ok := assertBounds[base]
	if !ok {
		b = floor
	}
	if negated {
		b = flip(b)
	}
	return b
}

func flip(b bound) bound {
	switch b {
	case floor:
		return ceiling
	case ceiling:
		return floor
	}
	return b
}

// assertType returns TYPE from a key made by AssertKey.
func assertType(key string) (string, bool) {
	rest, ok := strings.CutSuffix(key, ").threshold")
	if !ok || !strings.HasPrefix(key, "tests[") {
		return "", false
	}
	i := strings.LastIndexByte(rest, '(')
	if i < 0 {
		return "", false
	}
	return rest[i+1:], true
}

// direction returns which way moving key from old to new goes.
func direction(key string, old, new float64) Direction {
	up := new > old
	switch boundOf(key) {
	case floor:
		if up {
			return Tightened
		}
		return Loosened
	case ceiling:
		if up {
			return Loosened
		}
		return Tightened
	}
	return Changed
}
