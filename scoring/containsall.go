package scoring

import "strings"

// contains-all passes when the output holds every one of the values;
// icontains-all compares after Unicode case folding. The value is a list,
// or one comma-separated string as in promptfoo's compact form.
type containsAllChecker struct {
	want    []string // as written, for reasons
	needles []string // folded when fold is set
	fold    bool
}

func compileContainsAll(s Spec) (checker, error)  { return newContainsAll(s, false) }
func compileIContainsAll(s Spec) (checker, error) { return newContainsAll(s, true) }

func newContainsAll(s Spec, fold bool) (checker, error) {
	want, needles, err := compileList(s, fold)
	if err != nil {
		return nil, err
	}
	return &containsAllChecker{want: want, needles: needles, fold: fold}, nil
}

func (c *containsAllChecker) check(out Output) outcome {
	text := out.Text
	if c.fold {
		text = foldCase(text)
	}
	for _, n := range c.needles {
		if !strings.Contains(text, n) {
			return failed
		}
	}
	return passed
}

func (c *containsAllChecker) reason(out Output, _ outcome, negated bool) string {
	msg := expect(negated, "contain all of "+quoteList(c.want)) + caseNote(c.fold)
	if negated {
		return msg + got(out)
	}
	text := out.Text
	if c.fold {
		text = foldCase(text)
	}
	var missing []string
	for i, n := range c.needles {
		if !strings.Contains(text, n) {
			missing = append(missing, c.want[i])
		}
	}
	return msg + " (missing " + quoteList(missing) + ")" + got(out)
}
