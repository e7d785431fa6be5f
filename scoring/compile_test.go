package scoring

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		kind error
		msg  string // the whole message, or its start when it ends in "…"
	}{
		{name: "unknown type", spec: Spec{Type: "contanis", Value: "x"}, kind: ErrUnknownType,
			msg: `unknown assertion type "contanis" (did you mean "contains"?)`},
		{name: "unknown negated type", spec: Spec{Type: "not-contanis", Value: "x"}, kind: ErrUnknownType,
			msg: `unknown assertion type "not-contanis" (did you mean "not-contains"?)`},
		{name: "unsupported type", spec: Spec{Type: "context-recall", Value: "x"}, kind: ErrUnknownType,
			msg: `unknown assertion type "context-recall"`},
		{name: "empty type", spec: Spec{}, kind: ErrUnknownType, msg: `unknown assertion type ""`},
		{name: "bare not-", spec: Spec{Type: "not-"}, kind: ErrUnknownType, msg: `unknown assertion type "not-"`},
		{name: "double negation", spec: Spec{Type: "not-not-contains", Value: "x"}, kind: ErrUnknownType,
			msg: `unknown assertion type "not-not-contains"`},
		{name: "negative weight", spec: Spec{Type: "contains", Value: "x", Weight: -1}, kind: ErrBadWeight,
			msg: `contains: invalid weight -1: must be a number of at least 0`},
		{name: "NaN weight", spec: Spec{Type: "contains", Value: "x", Weight: math.NaN()}, kind: ErrBadWeight,
			msg: `contains: invalid weight NaN: must be a number of at least 0`},

		{name: "equals without value", spec: Spec{Type: "equals"}, kind: ErrBadValue,
			msg: `equals: missing value: want the expected output (a string, number, object or list)`},
		{name: "equals with NaN", spec: Spec{Type: "equals", Value: math.NaN()}, kind: ErrBadValue,
			msg: `equals: invalid value NaN: want a string, number, object or list`},
		{name: "contains empty", spec: Spec{Type: "contains", Value: ""}, kind: ErrBadValue,
			msg: `contains: invalid value "": want a non-empty string`},
		{name: "contains without value", spec: Spec{Type: "not-contains"}, kind: ErrBadValue,
			msg: `not-contains: missing value: want a non-empty string`},
		{name: "contains a list", spec: Spec{Type: "contains", Value: []any{"a"}}, kind: ErrBadValue,
			msg: `contains: invalid value ["a"]: want a non-empty string`},
		{name: "contains with threshold", spec: Spec{Type: "contains", Value: "a", Threshold: ptr(3)}, kind: ErrBadThreshold,
			msg: `contains: invalid threshold 3: contains takes no threshold`},
		{name: "starts-with bool", spec: Spec{Type: "starts-with", Value: true}, kind: ErrBadValue,
			msg: `starts-with: invalid value true: want a non-empty string`},
		{name: "contains-any number", spec: Spec{Type: "contains-any", Value: 42.0}, kind: ErrBadValue,
			msg: `contains-any: invalid value 42: want a list of strings or a comma-separated string`},
		{name: "contains-any without value", spec: Spec{Type: "contains-any"}, kind: ErrBadValue,
			msg: `contains-any: missing value: want a list of strings or a comma-separated string`},
		{name: "contains-any empty string", spec: Spec{Type: "contains-any", Value: ""}, kind: ErrBadValue,
			msg: `contains-any: invalid value "": the list is empty`},
		{name: "contains-any only commas", spec: Spec{Type: "icontains-any", Value: " , ,"}, kind: ErrBadValue,
			msg: `icontains-any: invalid value " , ,": the list is empty`},
		{name: "contains-all empty list", spec: Spec{Type: "contains-all", Value: []any{}}, kind: ErrBadValue,
			msg: `contains-all: invalid value []: the list is empty`},
		{name: "contains-all empty item", spec: Spec{Type: "contains-all", Value: []any{"a", ""}}, kind: ErrBadValue,
			msg: `contains-all: invalid value ["a",""]: item 1 is empty`},
		{name: "contains-all object item", spec: Spec{Type: "contains-all", Value: []any{"a", map[string]any{"b": 1.0}}}, kind: ErrBadValue,
			msg: `contains-all: invalid value ["a",{"b":1}]: item 1 is {"b":1}; want a list of strings or a comma-separated string`},
		{name: "contains-any unterminated quote", spec: Spec{Type: "contains-any", Value: `"a, b`}, kind: ErrBadValue,
			msg: `contains-any: invalid value "\"a, b": unterminated quoted item`},
		{name: "contains-any text after quote", spec: Spec{Type: "contains-any", Value: `"a" b, c`}, kind: ErrBadValue,
			msg: `contains-any: invalid value "\"a\" b, c": a quoted item must be followed by a comma`},
		{name: "regex syntax", spec: Spec{Type: "regex", Value: "a(b"}, kind: ErrBadValue,
			msg: `regex: invalid value "a(b": missing closing )`},
		{name: "regex look-ahead", spec: Spec{Type: "not-regex", Value: "(?=x)"}, kind: ErrBadValue,
			msg: `not-regex: invalid value "(?=x)": invalid or unsupported Perl syntax`},
		{name: "regex empty", spec: Spec{Type: "regex", Value: ""}, kind: ErrBadValue,
			msg: `regex: invalid value "": want a non-empty regular expression`},
		{name: "schema of wrong kind", spec: Spec{Type: "is-json", Value: 42.0}, kind: ErrBadValue,
			msg: `is-json: invalid value 42: want a JSON schema (an object)`},
		{name: "schema breaks the spec", spec: Spec{Type: "is-json", Value: map[string]any{"minimum": "a"}}, kind: ErrBadValue,
			msg: `is-json: invalid value {"minimum":"a"}: invalid JSON schema: does not follow the JSON Schema specification: at "/minimum": got string, want number`},
		{name: "schema string not YAML", spec: Spec{Type: "contains-json", Value: "type: ["}, kind: ErrBadValue,
			msg: `contains-json: invalid value "type: [": not a JSON schema: yaml: line 1: did not find expected node content`},
		{name: "schema string is a scalar", spec: Spec{Type: "contains-json", Value: "file://schema.json"}, kind: ErrBadValue,
			msg: `contains-json: invalid value "file://schema.json": want a JSON schema (an object)`},
		{name: "schema with remote ref", spec: Spec{Type: "is-json", Value: map[string]any{"$ref": "https://example.com/s.json"}}, kind: ErrBadValue,
			msg: `is-json: invalid value {"$ref":"https://example.com/s.json"}: invalid JSON schema: failing loading "https://example.com/s.json": external reference "https://example.com/s.json" not allowed`},
		{name: "schema with file ref", spec: Spec{Type: "is-json", Value: map[string]any{"$ref": "file:///etc/passwd"}}, kind: ErrBadValue,
			msg: `is-json: invalid value {"$ref":"file:///etc/passwd"}: invalid JSON schema: failing loading "file:///etc/passwd"…`},
		{name: "schema with threshold", spec: Spec{Type: "is-json", Threshold: ptr(1)}, kind: ErrBadThreshold,
			msg: `is-json: invalid threshold 1: is-json takes no threshold`},
		{name: "levenshtein without value", spec: Spec{Type: "levenshtein"}, kind: ErrBadValue,
			msg: `levenshtein: missing value: want the expected text`},
		{name: "levenshtein negative threshold", spec: Spec{Type: "levenshtein", Value: "a", Threshold: ptr(-1)}, kind: ErrBadThreshold,
			msg: `levenshtein: invalid threshold -1: must be a number of at least 0 (the largest distance that passes)`},
		{name: "levenshtein NaN threshold", spec: Spec{Type: "levenshtein", Value: "a", Threshold: ptr(math.NaN())}, kind: ErrBadThreshold,
			msg: `levenshtein: invalid threshold NaN: must be a number of at least 0 (the largest distance that passes)`},
		{name: "rouge-n threshold above 1", spec: Spec{Type: "rouge-n", Value: "a", Threshold: ptr(1.5)}, kind: ErrBadThreshold,
			msg: `rouge-n: invalid threshold 1.5: must be between 0 and 1`},
		{name: "rouge-n without words", spec: Spec{Type: "rouge-n", Value: " \n"}, kind: ErrBadValue,
			msg: `rouge-n: invalid value " \n": the reference has no words`},
		{name: "rouge-n list", spec: Spec{Type: "rouge-n", Value: []any{"a"}}, kind: ErrBadValue,
			msg: `rouge-n: invalid value ["a"]: want the reference text`},
		{name: "word-count min above max", spec: Spec{Type: "word-count", Value: map[string]any{"min": 5.0, "max": 2.0}}, kind: ErrBadValue,
			msg: `word-count: invalid value {"max":2,"min":5}: min 5 is greater than max 2`},
		{name: "word-count negative", spec: Spec{Type: "word-count", Value: -1.0}, kind: ErrBadValue,
			msg: `word-count: invalid value -1: value must be a whole number of at least 0`},
		{name: "word-count fraction", spec: Spec{Type: "word-count", Value: map[string]any{"max": 2.5}}, kind: ErrBadValue,
			msg: `word-count: invalid value {"max":2.5}: max must be a whole number of at least 0`},
		{name: "word-count text", spec: Spec{Type: "word-count", Value: "many"}, kind: ErrBadValue,
			msg: `word-count: invalid value "many": want a word count, or {min, max}`},
		{name: "word-count unknown key", spec: Spec{Type: "word-count", Value: map[string]any{"minimum": 2.0}}, kind: ErrBadValue,
			msg: `word-count: invalid value {"minimum":2}: unknown key "minimum"; want min and max`},
		{name: "word-count empty range", spec: Spec{Type: "word-count", Value: map[string]any{}}, kind: ErrBadValue,
			msg: `word-count: invalid value {}: set min, max or both`},
		{name: "word-count without value", spec: Spec{Type: "word-count"}, kind: ErrBadValue,
			msg: `word-count: missing value: want a word count, or {min, max}`},
		{name: "latency without threshold", spec: Spec{Type: "latency"}, kind: ErrBadThreshold,
			msg: `latency: missing threshold: set the maximum latency in milliseconds`},
		{name: "latency zero threshold", spec: Spec{Type: "latency", Threshold: ptr(0)}, kind: ErrBadThreshold,
			msg: `latency: invalid threshold 0: must be a number above 0 (latency in milliseconds)`},
		{name: "latency with value", spec: Spec{Type: "latency", Value: 500.0}, kind: ErrBadValue,
			msg: `latency: invalid value 500: latency takes no value; set threshold to the maximum latency in milliseconds`},
		{name: "cost without threshold", spec: Spec{Type: "not-cost"}, kind: ErrBadThreshold,
			msg: `not-cost: missing threshold: set the maximum cost in US dollars`},
		{name: "cost infinite threshold", spec: Spec{Type: "cost", Threshold: ptr(math.Inf(1))}, kind: ErrBadThreshold,
			msg: `cost: invalid threshold +Inf: must be a number above 0 (cost in US dollars)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			if spec.Weight == 0 {
				spec.Weight = 1
			}
			a, err := Compile(spec)
			if err == nil {
				t.Fatalf("Compile(%+v) = %v, want an error", spec, a)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("Compile(%+v) error %q does not wrap %v", spec, err, tc.kind)
			}
			got := err.Error()
			if prefix, ok := strings.CutSuffix(tc.msg, "…"); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("Compile(%+v) error = %q, want it to start with %q", spec, got, prefix)
				}
			} else if got != tc.msg {
				t.Errorf("Compile(%+v) error = %q, want %q", spec, got, tc.msg)
			}
		})
	}
}

func TestCompileKeepsSpec(t *testing.T) {
	s := Spec{Type: "not-levenshtein", Value: "abc", Threshold: ptr(2), Weight: 0.5}
	a := mustCompile(t, s)
	if diff := cmp.Diff(s, a.Spec()); diff != "" {
		t.Errorf("Compile(%+v).Spec() mismatch (-want +got):\n%s", s, diff)
	}
	if got, want := a.Check(text("xyz")).Weight, 0.5; got != want {
		t.Errorf("Check weight = %v, want %v", got, want)
	}
}

func TestZeroWeightStillJudged(t *testing.T) {
	a, err := Compile(Spec{Type: "contains", Value: "x", Weight: 0})
	if err != nil {
		t.Fatalf("Compile(weight 0) error: %v", err)
	}
	r := a.Check(text("y"))
	if got, want := r.Pass, false; got != want {
		t.Errorf("Check(%q) pass = %v, want %v", "y", got, want)
	}
}

func TestTypesAndKnown(t *testing.T) {
	want := []string{
		"answer-relevance", "contains", "contains-all", "contains-any", "contains-json", "cost", "equals",
		"factuality", "g-eval", "icontains", "icontains-all", "icontains-any", "is-json",
		"is-valid-openai-tools-call", "latency",
		"levenshtein", "llm-rubric", "model-graded-closedqa", "model-graded-factuality",
		"regex", "rouge-n", "similar", "starts-with", "tool-call-f1",
		"trajectory:step-count", "trajectory:tool-args-match", "trajectory:tool-sequence", "trajectory:tool-used",
		"word-count",
	}
	if diff := cmp.Diff(want, Types()); diff != "" {
		t.Errorf("Types() mismatch (-want +got):\n%s", diff)
	}
	if !slices.IsSorted(Types()) {
		t.Errorf("Types() = %q, want sorted", Types())
	}
	for _, tc := range []struct {
		typ  string
		want bool
	}{
		{"contains", true},
		{"not-contains", true},
		{"not-rouge-n", true},
		{"not-", false},
		{"not-not-contains", false},
		{"Contains", false},
		{"llm-rubric", true},
		{"not-similar", true},
		{"not-g-eval", true},
		{"context-recall", false},
		{"", false},
	} {
		if got := Known(tc.typ); got != tc.want {
			t.Errorf("Known(%q) = %v, want %v", tc.typ, got, tc.want)
		}
	}
}

func TestSplitCommaList(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{name: "plain", in: "a,b", want: []string{"a", "b"}},
		{name: "spaces and empty items", in: " a , ,b ,", want: []string{"a", "b"}},
		{name: "quoted comma", in: `"1,000", in stock`, want: []string{"1,000", "in stock"}},
		{name: "escaped quote", in: `"say \"hi\"", x`, want: []string{`say "hi"`, "x"}},
		{name: "doubled quote", in: `"a""b"`, want: []string{`a"b`}},
		{name: "escaped backslash", in: `"a\\b"`, want: []string{`a\b`}},
		{name: "quote inside unquoted item", in: `a"b, c`, want: []string{`a"b`, "c"}},
		{name: "empty", in: "", want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitCommaList(tc.in)
			if err != nil {
				t.Fatalf("splitCommaList(%q) error: %v", tc.in, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("splitCommaList(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestJSNumber(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {42, "42"}, {-3.5, "-3.5"}, {0.1, "0.1"},
		{1e20, "100000000000000000000"}, {1e21, "1e+21"}, {1.5e-7, "1.5e-7"}, {0.000001, "0.000001"},
	} {
		if got := jsNumber(tc.in); got != tc.want {
			t.Errorf("jsNumber(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 80, "short"},
		{"abcdef", 3, "abc…"},
		{"héllo wörld", 4, "héll…"},
		{"日本語テキスト", 3, "日本語…"},
		{"abc", 3, "abc"},
		{"\xff\xfe\xfd\xfc", 2, "\xff\xfe…"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
