package scoring

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// is-json passes when the whole output is one JSON value (an object, list,
// string, number, true, false or null; white space around it is allowed, as
// JSON.parse allows it) and, when the value gives a JSON Schema, the value
// satisfies it. Code fences or prose around the JSON fail: use contains-json
// for those.
type isJSONChecker struct{ schema *jsonschema.Schema }

func compileIsJSON(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	sch, err := compileSchema(s)
	if err != nil {
		return nil, err
	}
	return &isJSONChecker{schema: sch}, nil
}

func (c *isJSONChecker) check(out Output) outcome {
	if c.schema == nil {
		return verdict(json.Valid([]byte(out.Text)))
	}
	return verdict(c.judge(out.Text) == nil)
}

// judge returns why text is not JSON, or not JSON the schema accepts (a
// *jsonschema.ValidationError then), or nil.
func (c *isJSONChecker) judge(text string) error {
	b := []byte(text)
	if c.schema == nil {
		if json.Valid(b) {
			return nil
		}
		var v any
		return json.Unmarshal(b, &v) // for its error
	}
	v, err := parseJSON(b)
	if err != nil {
		return err
	}
	return c.schema.Validate(v)
}

func (c *isJSONChecker) reason(out Output, _ outcome, negated bool) string {
	if negated {
		if c.schema != nil {
			return "expected output not to be JSON matching the schema" + got(out)
		}
		return "expected output not to be valid JSON" + got(out)
	}
	err := c.judge(out.Text)
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return "output JSON does not match the schema: " + schemaMismatch(err)
	}
	return "expected output to be valid JSON" + jsonSyntax(err) + got(out)
}

// jsonSyntax is ": <what is wrong>" for a parse error, or "".
func jsonSyntax(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, io.EOF):
		return ": unexpected end of input"
	}
	return ": " + truncate(firstLine(err.Error()), maxQuoted)
}
