package scoring

import (
	"fmt"
	"math"
)

// levenshtein passes when the edit distance between the output and the
// value is at most the threshold (default 5, promptfoo's). The distance
// counts insertions, deletions and substitutions of Unicode code points
// (promptfoo counts UTF-16 units, so an emoji costs it 2 and us 1). The
// score is 1 or 0.
type levenshteinChecker struct {
	want []rune
	max  int // the threshold, rounded down
}

const defaultLevenshtein = 5

func compileLevenshtein(s Spec) (checker, error) {
	t, ok := scalarText(s.Value)
	if !ok {
		return nil, badValue(s, "want the expected text")
	}
	th, err := threshold(s, defaultLevenshtein, 0, math.Inf(1), "must be a number of at least 0 (the largest distance that passes)")
	if err != nil {
		return nil, err
	}
	return &levenshteinChecker{want: []rune(t), max: int(min(math.Floor(th), math.MaxInt32))}, nil
}

func (c *levenshteinChecker) check(out Output) outcome {
	d := boundedDistance([]rune(out.Text), c.want, c.max)
	return verdict(d <= c.max)
}

func (c *levenshteinChecker) reason(out Output, _ outcome, negated bool) string {
	a := []rune(out.Text)
	if negated {
		return fmt.Sprintf("levenshtein distance %d is not above threshold %d", boundedDistance(a, c.want, c.max), c.max) + got(out)
	}
	if len(a)*len(c.want) <= maxExactCells {
		return fmt.Sprintf("levenshtein distance %d is above threshold %d", editDistance(a, c.want), c.max) + got(out)
	}
	return fmt.Sprintf("levenshtein distance is above threshold %d", c.max) + got(out)
}

// maxExactCells bounds the table a failure reason may fill to report the
// exact distance of a long output.
const maxExactCells = 1 << 20

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b []rune) int {
	return boundedDistance(a, b, max(len(a), len(b)))
}

// boundedDistance is the Levenshtein distance between a and b when it is at
// most k, and k+1 otherwise. It fills only the diagonal band of width 2k+1,
// so it costs O(len(a)·k) time and O(len(b)) memory.
func boundedDistance(a, b []rune, k int) int {
	// A common prefix or suffix costs nothing: drop it.
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a)-len(b) > k {
		return k + 1
	}
	if len(b) == 0 {
		return len(a)
	}
	inf := k + 1
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = min(j, inf)
	}
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-k), min(len(b), i+k)
		cur[0] = min(i, inf)
		if lo > 1 {
			cur[lo-1] = inf
		}
		rowMin := cur[0]
		if lo > 1 {
			rowMin = inf
		}
		for j := lo; j <= hi; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j-1]+cost, prev[j]+1, cur[j-1]+1, inf)
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if hi < len(b) {
			cur[hi+1] = inf
		}
		if rowMin >= inf {
			return inf
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], inf)
}
