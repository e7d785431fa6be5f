package scoring

import "strings"

// starts-with passes when the output begins with the value, exactly: leading
// white space in the output counts, as in promptfoo.
type startsWithChecker struct{ want string }

func compileStartsWith(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	t, err := nonEmptyText(s)
	if err != nil {
		return nil, err
	}
	return &startsWithChecker{want: t}, nil
}

func (c *startsWithChecker) check(out Output) outcome {
	return verdict(strings.HasPrefix(out.Text, c.want))
}

func (c *startsWithChecker) reason(out Output, _ outcome, negated bool) string {
	return expect(negated, "start with "+quote(c.want, maxQuoted)) + got(out)
}
