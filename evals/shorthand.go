package evals

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/evald/evald/scoring"
)

// promptfooTypes are the assertion names promptfoo's shorthand recognises.
// A CSV cell that starts with one of them or with a type scoring knows
// (optionally "not-", a threshold in parentheses and ":value") is that
// assertion; any other text is an equals.
// Whether evald implements a type is scoring.Compile's business: a known
// name it does not implement is reported as an unknown assertion type.
var promptfooTypes = []string{
	"answer-relevance", "bleu", "classifier", "contains", "contains-all", "contains-any",
	"contains-html", "contains-json", "contains-sql", "contains-xml", "context-faithfulness",
	"context-recall", "context-relevance", "conversation-relevance", "cost", "equals",
	"factuality", "finish-reason", "g-eval", "gleu", "guardrails", "icontains",
	"icontains-all", "icontains-any", "is-html", "is-json", "is-refusal", "is-sql",
	"is-valid-function-call", "is-valid-openai-function-call", "is-valid-openai-tools-call",
	"is-xml", "javascript", "latency", "levenshtein", "llm-rubric", "meteor",
	"model-graded-closedqa", "model-graded-factuality", "moderation", "perplexity",
	"perplexity-score", "pi", "python", "regex", "rouge-n", "ruby", "select-best",
	"similar", "starts-with", "webhook", "word-count",
}

// legacyPrefixes are promptfoo's older spellings of some types.
var legacyPrefixes = map[string]string{
	"fn:":         "javascript",
	"eval:":       "javascript",
	"javascript:": "javascript",
	"python:":     "python",
	"grade:":      "llm-rubric",
}

var shorthandForm = regexp.MustCompile(`(?s)^(not-)?([a-z][a-z0-9-]*)(?:\(([^)]*)\))?(?::(.*))?$`)

// Shorthand parses promptfoo's one-line assertion form, as found in a CSV
// __expected column:
//
//	contains:30 days          icontains: refund     not-icontains:as an ai
//	regex:^\d+$               starts-with:Yes       is-json
//	similar(0.8):the answer   contains-any:a,b,c    grade:is polite
//
// The value after the colon is trimmed. contains-any, contains-all and
// their i-/not- forms take comma-separated values; is-json and
// contains-json take an optional JSON schema. Text that does not start
// with a known type is an equals assertion on the whole text.
func Shorthand(s string) (scoring.Spec, error) {
	s = strings.TrimSpace(s)
	spec := scoring.Spec{Weight: 1}
	neg := ""
	body := s
	if strings.HasPrefix(body, "not-") {
		neg, body = "not-", body[len("not-"):]
	}
	for prefix, typ := range legacyPrefixes {
		if strings.HasPrefix(body, prefix) {
			spec.Type = neg + typ
			spec.Value = strings.TrimSpace(body[len(prefix):])
			return spec, nil
		}
	}
	m := shorthandForm.FindStringSubmatchIndex(s)
	if m == nil {
		spec.Type, spec.Value = "equals", s
		return spec, nil
	}
	group := func(i int) (string, bool) {
		if m[2*i] < 0 {
			return "", false
		}
		return s[m[2*i]:m[2*i+1]], true
	}
	typ, _ := group(2)
	if !slices.Contains(promptfooTypes, typ) && !scoring.Known(typ) {
		spec.Type, spec.Value = "equals", s
		return spec, nil
	}
	not, _ := group(1)
	spec.Type = not + typ
	if th, ok := group(3); ok {
		t, err := strconv.ParseFloat(strings.TrimSpace(th), 64)
		if err != nil {
			return spec, Because(ErrInvalid, "threshold %q in %s(...) is not a number", th, typ)
		}
		spec.Threshold = &t
	}
	value, ok := group(4)
	if !ok {
		return spec, nil
	}
	value = strings.TrimSpace(value)
	switch typ {
	case "contains-any", "contains-all", "icontains-any", "icontains-all":
		var list []any
		for _, part := range strings.Split(value, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = append(list, part)
			}
		}
		spec.Value = list
	case "is-json", "contains-json":
		if value == "" {
			return spec, nil
		}
		var schema map[string]any
		if err := json.Unmarshal([]byte(value), &schema); err != nil {
			return spec, Because(ErrInvalid, "%s: the value must be a JSON schema object", typ)
		}
		spec.Value = schema
	default:
		spec.Value = value
	}
	return spec, nil
}
