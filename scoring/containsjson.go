package scoring

import (
	"bytes"
	"encoding/json"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// contains-json passes when the output holds a JSON object or list somewhere,
// in prose or in a code fence, and, when the value gives a JSON Schema, one
// of them satisfies it.
//
// Like promptfoo it looks for objects; it also accepts a list that holds at
// least one string, object or list, so `[{"id": 1}]` counts while the "[1]"
// of a citation and the "[ ]" of a check box do not. When a found list holds
// objects, each of them is also tried against the schema (promptfoo sees
// those objects one by one). Only strict JSON counts: no comments, trailing
// commas or single quotes.
type containsJSONChecker struct{ schema *jsonschema.Schema }

func compileContainsJSON(s Spec) (checker, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	sch, err := compileSchema(s)
	if err != nil {
		return nil, err
	}
	return &containsJSONChecker{schema: sch}, nil
}

func (c *containsJSONChecker) check(out Output) outcome {
	found, matched, _ := c.search(out.Text)
	if c.schema == nil {
		return verdict(found)
	}
	return verdict(matched)
}

// search reports whether the text holds JSON and whether some of it
// satisfies the schema; mismatch explains the first one that does not.
func (c *containsJSONChecker) search(text string) (found, matched bool, mismatch error) {
	eachJSON(text, func(v any) bool {
		found = true
		if c.schema == nil {
			return true
		}
		for _, cand := range candidates(v) {
			err := c.schema.Validate(cand)
			if err == nil {
				matched = true
				return true
			}
			if mismatch == nil {
				mismatch = err
			}
		}
		return false
	})
	return found, matched, mismatch
}

// candidates are the values a found JSON value offers to the schema: itself,
// and the objects directly inside it when it is a list.
func candidates(v any) []any {
	list, ok := v.([]any)
	if !ok {
		return []any{v}
	}
	out := []any{v}
	for _, e := range list {
		if _, isObj := e.(map[string]any); isObj {
			out = append(out, e)
		}
	}
	return out
}

func (c *containsJSONChecker) reason(out Output, _ outcome, negated bool) string {
	switch {
	case negated && c.schema != nil:
		return "expected output not to contain JSON matching the schema" + got(out)
	case negated:
		return "expected output not to contain JSON" + got(out)
	}
	found, _, mismatch := c.search(out.Text)
	if found && mismatch != nil {
		return "no JSON in the output matches the schema: " + schemaMismatch(mismatch)
	}
	return "expected output to contain JSON (an object or list)" + got(out)
}

// Limits that keep the scan bounded on hostile output: apart from the whole
// output, a candidate longer than maxJSONSpan is not considered, and the scan
// gives up (finding nothing more) after maxJSONWork bytes of work, which
// ordinary output, however long, does not approach: each bracket costs the
// length of what it encloses.
const (
	maxJSONSpan = 1 << 20
	maxJSONWork = 1 << 24
)

// eachJSON calls visit with each JSON object, and each list that holds a
// string, object or list, embedded in text, left to right, without looking
// inside the ones it found. It stops when visit returns true.
func eachJSON(text string, visit func(v any) bool) {
	b := []byte(text)
	// The whole output, however long, when it is one JSON value.
	if t := bytes.TrimSpace(b); len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t) {
		if v, err := parseJSON(t); err == nil && structured(v) {
			visit(v)
			return
		}
	}
	work := 0
	for i := 0; i < len(b) && work < maxJSONWork; i++ {
		if b[i] != '{' && b[i] != '[' {
			continue
		}
		end, scanned := closing(b, i)
		work += scanned
		if end < 0 || !json.Valid(b[i:end]) {
			continue
		}
		work += end - i
		v, err := parseJSON(b[i:end])
		if err != nil || !structured(v) {
			continue
		}
		if visit(v) {
			return
		}
		i = end - 1
	}
}

// closing returns the index just past the bracket that closes the one at
// b[i], skipping brackets inside JSON strings, or -1; and how many bytes it
// looked at.
func closing(b []byte, i int) (end, scanned int) {
	depth, inString, escaped := 0, false, false
	limit := min(len(b), i+maxJSONSpan)
	for j := i; j < limit; j++ {
		c := b[j]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, j + 1 - i
			}
		}
	}
	return -1, limit - i
}

// structured reports whether a found value counts as JSON in prose: an
// object, or a list holding a string, object or list.
func structured(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return true
	case []any:
		for _, e := range x {
			switch e.(type) {
			case string, map[string]any, []any:
				return true
			}
		}
	}
	return false
}
