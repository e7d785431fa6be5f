package scoring

import "strings"

// contains-any passes when the output holds at least one of the values;
// icontains-any compares after Unicode case folding. The value is a list,
// or one comma-separated string as in promptfoo's compact form.
type containsAnyChecker struct {
	want    []string // as written, for reasons
	needles []string // folded when fold is set
	fold    bool
}

func compileContainsAny(s Spec) (checker, error)  { return newContainsAny(s, false) }
func compileIContainsAny(s Spec) (checker, error) { return newContainsAny(s, true) }

func newContainsAny(s Spec, fold bool) (checker, error) {
	want, needles, err := compileList(s, fold)
	if err != nil {
		return nil, err
	}
	return &containsAnyChecker{want: want, needles: needles, fold: fold}, nil
}

// compileList checks the shared rules of the list types and returns the
// values as written and as searched for.
func compileList(s Spec, fold bool) (want, needles []string, err error) {
	if err := noThreshold(s); err != nil {
		return nil, nil, err
	}
	want, err = textList(s)
	if err != nil {
		return nil, nil, err
	}
	needles = want
	if fold {
		needles = make([]string, len(want))
		for i, w := range want {
			needles[i] = foldCase(w)
		}
	}
	return want, needles, nil
}

// found returns the index of the first needle in text, or -1.
func found(text string, needles []string) int {
	for i, n := range needles {
		if strings.Contains(text, n) {
			return i
		}
	}
	return -1
}

func (c *containsAnyChecker) check(out Output) outcome {
	text := out.Text
	if c.fold {
		text = foldCase(text)
	}
	return verdict(found(text, c.needles) >= 0)
}

func (c *containsAnyChecker) reason(out Output, _ outcome, negated bool) string {
	if !negated {
		return expect(false, "contain one of "+quoteList(c.want)) + caseNote(c.fold) + got(out)
	}
	text := out.Text
	if c.fold {
		text = foldCase(text)
	}
	i := max(found(text, c.needles), 0)
	return expect(true, "contain any of "+quoteList(c.want)) + caseNote(c.fold) + " (found " + quote(c.want[i], 40) + ")" + got(out)
}

func caseNote(fold bool) string {
	if fold {
		return " (ignoring case)"
	}
	return ""
}
