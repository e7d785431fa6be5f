package scoring

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// number returns v as a float64 when it is a finite number of any Go numeric
// type (the loader hands over float64; tests and other callers may not).
func number(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case int32:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint64:
		f = float64(x)
	case uint32:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// jsNumber formats f as JavaScript's String(f) does, so that `value: 42`
// compares with the output "42" as it does in promptfoo (and 1e21 prints as
// "1e+21", 0.0000001 as "1e-7").
func jsNumber(f float64) string {
	if f == 0 {
		return "0" // also -0, as in JavaScript
	}
	if a := math.Abs(f); a >= 1e21 || a < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e-07
		mant, exp, _ := strings.Cut(s, "e")
		return mant + "e" + exp[:1] + strings.TrimLeft(exp[1:], "0")
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// scalarText is a string or number value as text (promptfoo's String(v)).
func scalarText(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	if f, ok := number(v); ok {
		return jsNumber(f), true
	}
	return "", false
}

// nonEmptyText is the value of contains, starts-with and the like: a
// non-empty string, or a number.
func nonEmptyText(s Spec) (string, error) {
	t, ok := scalarText(s.Value)
	if !ok || t == "" {
		return "", badValue(s, "want a non-empty string")
	}
	return t, nil
}

// textList is the value of contains-any and its kin: a list of strings or
// numbers, or one string of comma-separated values (quote a value that holds
// a comma: `"1,000", in stock`).
func textList(s Spec) ([]string, error) {
	const want = `want a list of strings or a comma-separated string`
	var out []string
	switch v := s.Value.(type) {
	case string:
		list, err := splitCommaList(v)
		if err != nil {
			return nil, badValue(s, "%v", err)
		}
		out = list
	case []string:
		out = v
	case []any:
		out = make([]string, 0, len(v))
		for i, e := range v {
			t, ok := scalarText(e)
			if b, isBool := e.(bool); isBool {
				t, ok = strconv.FormatBool(b), true
			}
			if !ok {
				return nil, badValue(s, "item %d is %s; %s", i, show(e), want)
			}
			out = append(out, t)
		}
	default:
		return nil, badValue(s, want)
	}
	if len(out) == 0 {
		return nil, badValue(s, "the list is empty")
	}
	for i, t := range out {
		if t == "" {
			return nil, badValue(s, "item %d is empty", i)
		}
	}
	return out, nil
}

// splitCommaList splits promptfoo's compact list form: values separated by
// commas, each trimmed of surrounding white space, empty ones dropped. A value
// may be double-quoted to hold commas; inside quotes \" and "" stand for a
// quote and \\ for a backslash.
func splitCommaList(s string) ([]string, error) {
	var out []string
	i := 0
	for i < len(s) {
		// Skip separators and the space around them.
		for i < len(s) && (s[i] == ',' || isSpaceByte(s[i])) {
			i++
		}
		if i == len(s) {
			break
		}
		if s[i] != '"' {
			j := strings.IndexByte(s[i:], ',')
			if j < 0 {
				j = len(s) - i
			}
			out = append(out, strings.TrimFunc(s[i:i+j], unicode.IsSpace))
			i += j
			continue
		}
		var b strings.Builder
		i++
		closed := false
		for i < len(s) {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
				b.WriteByte(s[i+1])
				i += 2
			case c == '"' && i+1 < len(s) && s[i+1] == '"':
				b.WriteByte('"')
				i += 2
			case c == '"':
				i++
				closed = true
			default:
				b.WriteByte(c)
				i++
			}
			if closed {
				break
			}
		}
		if !closed {
			return nil, errors.New("unterminated quoted item")
		}
		for i < len(s) && isSpaceByte(s[i]) {
			i++
		}
		if i < len(s) && s[i] != ',' {
			return nil, errors.New("a quoted item must be followed by a comma")
		}
		out = append(out, b.String())
	}
	return out, nil
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// jsonValue turns a decoded YAML/JSON value into the form encoding/json
// produces (float64 numbers, map[string]any, []any), or fails when the
// value cannot be JSON (a map with non-string keys, NaN).
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// jsonEqual is deep equality of two encoding/json values with strict types
// (1 and "1" differ) and unordered object keys: util.isDeepStrictEqual as
// promptfoo's equals applies it to parsed JSON.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}
