package scoring

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
)

// contains passes when the output holds the value (a non-empty string, or a
// number written as JavaScript would: 42, 0.5). icontains does the same
// after Unicode case folding of both sides, so "STRASSE" is found in
// "Straße" and "Σ" in "ς". Neither trims anything.
type containsChecker struct {
	want   string // as written, for reasons
	needle string // folded when fold is set
	fold   bool
}

func compileContains(s Spec) (checker, error)  { return newContains(s, false) }
func compileIContains(s Spec) (checker, error) { return newContains(s, true) }

func newContains(s Spec, fold bool) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	t, err := nonEmptyText(s)
	if err != nil {
		return nil, err
	}
	c := &containsChecker{want: t, needle: t, fold: fold}
	if fold {
		c.needle = foldCase(t)
	}
	return c, nil
}

func (c *containsChecker) check(out Output) outcome {
	text := out.Text
	if c.fold {
		text = foldCase(text)
	}
	return verdict(strings.Contains(text, c.needle))
}

func (c *containsChecker) reason(out Output, _ outcome, negated bool) string {
	what := "contain "
	if c.fold {
		what = "contain (ignoring case) "
	}
	return expect(negated, what+quote(c.want, maxQuoted)) + got(out)
}

// foldCase applies full Unicode case folding. ASCII text, the common case,
// takes a fast path that allocates nothing when it has no upper case.
func foldCase(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			// A Caser keeps state, so each call makes its own.
			return cases.Fold().String(s)
		}
	}
	return strings.ToLower(s)
}
