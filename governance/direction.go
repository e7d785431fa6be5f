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
)

// assertBounds are the assertion types whose threshold is a maximum. Every
// other type's threshold is the minimum score a sample must reach (rouge-n,
// similar, llm-rubric, g-eval, answer-relevance, ... as in promptfoo), so
// raising it is tightening. A "not-" type inverts its base type's verdict,
// so it inverts the bound too: not-levenshtein with a higher threshold
// demands a more different answer, which is tighter.
var assertBounds = map[string]bound{
	"levenshtein": ceiling, // the largest edit distance that still passes
	"latency":     ceiling, // milliseconds
	"cost":        ceiling, // USD per sample
	"perplexity":  ceiling, // the largest perplexity that still passes
}

// assertBound returns the bound of the threshold of an assertion type.
func assertBound(typ string) bound {
	base, negated := strings.CutPrefix(typ, "not-")
	b, ok := assertBounds[base]
	if !ok {
		b = floor
	}
	if negated {
		switch b {
		case floor:
			b = ceiling
		case ceiling:
			b = floor
		}
	}
	return b
}

// direction returns which way moving a value with bound b from old to new
// goes.
func direction(b bound, old, new float64) Direction {
	up := new > old
	switch b {
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
