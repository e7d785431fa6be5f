package scoring

import (
	"errors"
	"regexp"
	"regexp/syntax"
)

// regex passes when the pattern matches anywhere in the output (promptfoo's
// RegExp.test without flags). Patterns use Go's RE2 syntax, which runs in
// time linear in the output; JavaScript-only constructs (look-around,
// back-references) are rejected by Compile.
type regexChecker struct{ re *regexp.Regexp }

func compileRegex(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	p, ok := scalarText(s.Value)
	if !ok || p == "" {
		return nil, badValue(s, "want a non-empty regular expression")
	}
	re, err := regexp.Compile(p)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return nil, badValue(s, "%s", se.Code)
		}
		return nil, badValue(s, "%v", err)
	}
	return &regexChecker{re: re}, nil
}

func (c *regexChecker) check(out Output) outcome {
	return verdict(c.re.MatchString(out.Text))
}

func (c *regexChecker) reason(out Output, _ outcome, negated bool) string {
	return expect(negated, "match regex "+quote(c.re.String(), maxQuoted)) + got(out)
}
