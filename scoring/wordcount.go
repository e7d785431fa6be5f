package scoring

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// word-count counts the output's words (runs of characters between white
// space, as JavaScript's /\s+/ splits them) and passes when the count is the
// value (a number, or a string holding one) or lies within {min, max}, both
// inclusive, either optional.
type wordCountChecker struct {
	lo, hi int // inclusive bounds; hi < 0 means none
}

func compileWordCount(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	const want = "want a word count, or {min, max}"
	switch v := s.Value.(type) {
	case map[string]any:
		return wordRange(s, v)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, badValue(s, want)
		}
		n, err := count(s, "value", f)
		if err != nil {
			return nil, err
		}
		return &wordCountChecker{lo: n, hi: n}, nil
	}
	f, ok := number(s.Value)
	if !ok {
		return nil, badValue(s, want)
	}
	n, err := count(s, "value", f)
	if err != nil {
		return nil, err
	}
	return &wordCountChecker{lo: n, hi: n}, nil
}

func wordRange(s Spec, m map[string]any) (checker, error) {
	if len(m) == 0 {
		return nil, badValue(s, "set min, max or both")
	}
	c := &wordCountChecker{lo: 0, hi: -1}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != "min" && k != "max" {
			return nil, badValue(s, "unknown key %q; want min and max", k)
		}
		f, ok := number(m[k])
		if !ok {
			return nil, badValue(s, "%s must be a whole number of at least 0", k)
		}
		n, err := count(s, k, f)
		if err != nil {
			return nil, err
		}
		if k == "min" {
			c.lo = n
		} else {
			c.hi = n
		}
	}
	if c.hi >= 0 && c.lo > c.hi {
		return nil, badValue(s, "min %d is greater than max %d", c.lo, c.hi)
	}
	return c, nil
}

// count checks that f is a whole number of words.
func count(s Spec, what string, f float64) (int, error) {
	if f < 0 || f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) || f > math.MaxInt32 {
		return 0, badValue(s, "%s must be a whole number of at least 0", what)
	}
	return int(f), nil
}

func (c *wordCountChecker) check(out Output) outcome {
	n := wordCount(out.Text)
	return verdict(n >= c.lo && (c.hi < 0 || n <= c.hi))
}

func (c *wordCountChecker) reason(out Output, _ outcome, negated bool) string {
	n := wordCount(out.Text)
	var want string
	switch {
	case c.lo == c.hi:
		want = fmt.Sprintf("exactly %d", c.lo)
	case c.hi < 0:
		want = fmt.Sprintf("at least %d", c.lo)
	case c.lo == 0:
		want = fmt.Sprintf("at most %d", c.hi)
	default:
		want = fmt.Sprintf("between %d and %d", c.lo, c.hi)
	}
	if negated {
		return fmt.Sprintf("expected a word count other than %s, got %d", want, n)
	}
	return fmt.Sprintf("expected a word count of %s, got %d", want, n)
}

// wordCount counts words separated by JavaScript white space (\s), which
// adds U+FEFF to Go's and lacks U+0085.
func wordCount(s string) int {
	n, inWord := 0, false
	for _, r := range s {
		space := r == '\uFEFF' || r != '\u0085' && unicode.IsSpace(r)
		if !space && !inWord {
			n++
		}
		inWord = !space
	}
	return n
}
