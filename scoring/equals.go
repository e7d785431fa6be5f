package scoring

import (
	"encoding/json"
	"strconv"
)

// equals passes when the output is exactly the value, as promptfoo's does:
//   - a string, number or boolean value is compared as text with the whole
//     output, byte for byte: no trimming (a trailing newline fails), no
//     case folding; the value 42 matches the output "42";
//   - an object or list value is compared with the output parsed as JSON
//     (deep equality, key order aside, 1 and "1" differ); an output that is
//     not JSON fails equals and passes not-equals.
type equalsChecker struct {
	text   string // the scalar value as text
	json   any    // the object or list value, when it is one
	isJSON bool
}

func compileEquals(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	switch v := s.Value.(type) {
	case nil:
		return nil, badValue(s, "want the expected output (a string, number, object or list)")
	case bool:
		return &equalsChecker{text: strconv.FormatBool(v)}, nil
	case map[string]any, []any, map[any]any, []string:
		j, err := jsonValue(v)
		if err != nil {
			return nil, badValue(s, "the object cannot be JSON: %v", err)
		}
		return &equalsChecker{json: j, isJSON: true}, nil
	}
	t, ok := scalarText(s.Value)
	if !ok {
		return nil, badValue(s, "want a string, number, object or list")
	}
	return &equalsChecker{text: t}, nil
}

func (c *equalsChecker) check(out Output) outcome {
	if !c.isJSON {
		return verdict(out.Text == c.text)
	}
	var v any
	if err := json.Unmarshal([]byte(out.Text), &v); err != nil {
		return failed
	}
	return verdict(jsonEqual(c.json, v))
}

func (c *equalsChecker) reason(out Output, _ outcome, negated bool) string {
	want := quote(c.text, maxQuoted)
	if c.isJSON {
		want = show(c.json)
		if !json.Valid([]byte(out.Text)) && !negated {
			return "expected output to be JSON equal to " + want + got(out)
		}
	}
	return expect(negated, "equal "+want) + got(out)
}
