package scoring

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// Judges are asked for one JSON object, and often wrap it in prose or a
// Markdown fence anyway. These helpers read what they answer, falling back on
// free text; whatever they cannot read becomes a missing grade.

// maxJSONStarts bounds how many "{" findJSONObject tries, so a hostile or
// broken answer costs linear time.
const maxJSONStarts = 32

// findJSONObject returns the first JSON object in text: the whole text, or
// the first "{" from which an object decodes (inside a Markdown fence or after
// some prose).
func findJSONObject(text string) (map[string]any, bool) {
	var obj map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(text)), &obj); err == nil && obj != nil {
		return obj, true
	}
	b := []byte(text)
	off := 0
	for range maxJSONStarts {
		i := bytes.IndexByte(b[off:], '{')
		if i < 0 {
			return nil, false
		}
		off += i
		dec := json.NewDecoder(bytes.NewReader(b[off:]))
		obj = nil
		if err := dec.Decode(&obj); err == nil && obj != nil {
			return obj, true
		}
		off++
	}
	return nil, false
}

// boolField reads a JSON boolean, also written as "true"/"yes"/"pass".
func boolField(obj map[string]any, key string) (bool, bool) {
	switch v := obj[key].(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "pass", "passed":
			return true, true
		case "false", "no", "fail", "failed":
			return false, true
		}
	}
	return false, false
}

// numberField reads a JSON number, also written as a string.
func numberField(obj map[string]any, key string) (float64, bool) {
	switch v := obj[key].(type) {
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err == nil {
			return f, true
		}
	}
	return 0, false
}

// stringField reads a JSON string.
func stringField(obj map[string]any, key string) string {
	s, _ := obj[key].(string)
	return s
}

var passFailWord = regexp.MustCompile(`\b(PASS|FAIL)(?:ED|ES)?\b`)

// passFailWords reads a free-text verdict: the upper-case words PASS or FAIL,
// when only one of them appears.
func passFailWords(text string) (pass, ok bool) {
	seen := map[string]bool{}
	for _, m := range passFailWord.FindAllStringSubmatch(text, -1) {
		seen[m[1]] = true
	}
	if len(seen) != 1 {
		return false, false
	}
	return seen["PASS"], true
}

// unreadable is the Reason of a missing grade: why, and the judge's raw text.
func unreadable(why, raw string) string {
	if strings.TrimSpace(raw) == "" {
		return "judge reply unreadable: " + why + " (empty reply)"
	}
	return "judge reply unreadable: " + why + ": " + strconv.Quote(raw)
}
