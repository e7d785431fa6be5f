package evals

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/fstest"
)

const versionSuite = `name: faq
description: Support answers
prompt:
  - role: system
    content: file://system.txt
  - role: user
    content: "Q: {{question}}"
repeats: 2
defaultTest:
  vars: {lang: en}
  assert:
    - type: not-icontains
      value: as an ai
tests:
  - id: refund
    description: the refund window
    vars: {question: "Refund?", n: 1}
    assert:
      - type: contains
        value: 30 days
      - type: levenshtein
        value: "30 days"
        threshold: 5
  - file://cases.jsonl
thresholds:
  pass_rate: 0.9
drift:
  min_effect: 0.1
`

func versionFiles(suite string) fstest.MapFS {
	return files(
		"suite.yaml", suite,
		"system.txt", "Be brief.",
		"cases.jsonl", `{"vars": {"question": "Ship?"}}`+"\n",
	)
}

// TestVersions: the prompt and suite versions move when, and only when,
// what they cover changes.
func TestVersions(t *testing.T) {
	base := mustParse(t, versionFiles(versionSuite), "suite.yaml")
	edit := func(old, new string) func(fstest.MapFS) {
		return func(fsys fstest.MapFS) {
			s := string(fsys["suite.yaml"].Data)
			if !strings.Contains(s, old) {
				t.Fatalf("suite has no %q", old)
			}
			fsys["suite.yaml"].Data = []byte(strings.Replace(s, old, new, 1))
		}
	}
	file := func(name, data string) func(fstest.MapFS) {
		return func(fsys fstest.MapFS) { fsys[name] = &fstest.MapFile{Data: []byte(data)} }
	}
	for _, tt := range []struct {
		name          string
		change        func(fstest.MapFS)
		prompt, suite bool // whether each version moves
	}{
		// Neither moves: formatting, comments, order, and what is governed
		// or named elsewhere.
		{"comment", edit("repeats: 2", "repeats: 2 # samples"), false, false},
		{"flow style", edit("    assert:\n      - type: contains\n        value: 30 days\n      - type: levenshtein\n        value: \"30 days\"\n        threshold: 5\n",
			"    assert: [{type: contains, value: '30 days'}, {value: 30 days, threshold: 5.0, type: levenshtein}]\n"), false, false},
		{"key order", edit("  - id: refund\n    description: the refund window\n", "  - description: the refund window\n    id: refund\n"), false, false},
		{"1.0 is 1", edit("n: 1}", "n: 1.0}"), false, false},
		{"explicit weight 1", edit("value: 30 days\n", "value: 30 days\n        weight: 1\n"), false, false},
		{"quoting", edit(`content: "Q: {{question}}"`, `content: 'Q: {{question}}'`), false, false},
		{"template spacing", edit(`{{question}}`, `{{ question }}`), false, false},
		{"thresholds", edit("pass_rate: 0.9", "pass_rate: 0.5"), false, false},
		{"description", edit("description: Support answers", "description: Other"), false, false},
		{"case description", edit("the refund window", "refunds"), false, false},
		{"name", edit("name: faq", "name: faq2"), false, false},
		{"drift", edit("min_effect: 0.1", "min_effect: 0.2"), false, false},
		{"judge", edit("repeats: 2", "repeats: 2\njudge: grader"), false, false},
		{"prompt file final newline", file("system.txt", "Be brief.\n"), false, false},
		{"prompt file CRLF", file("system.txt", "Be brief.\r\n"), false, false},
		{"dataset reformatted", file("cases.jsonl", "\n{ \"vars\" : { \"question\" : \"Ship?\" } }\n\n"), false, false},

		// Both move: the prompt is part of the suite.
		{"prompt text", edit("Q: {{question}}", "Question: {{question}}"), true, true},
		{"prompt file", file("system.txt", "Be very brief."), true, true},
		{"role", edit("role: system", "role: developer"), true, true},

		// Only the suite version moves.
		{"repeats", edit("repeats: 2", "repeats: 3"), false, true},
		{"vars", edit(`question: "Refund?"`, `question: "Refunds?"`), false, true},
		{"default vars", edit("lang: en", "lang: fr"), false, true},
		{"assert value", edit("value: 30 days\n", "value: 31 days\n"), false, true},
		{"assert threshold", edit("threshold: 5", "threshold: 6"), false, true},
		{"assert weight", edit("value: 30 days\n", "value: 30 days\n        weight: 2\n"), false, true},
		{"assert type", edit("type: contains", "type: icontains"), false, true},
		{"default assert", edit("value: as an ai", "value: as a bot"), false, true},
		{"case id", edit("id: refund", "id: refunds"), false, true},
		{"dataset", file("cases.jsonl", `{"vars": {"question": "Ship abroad?"}}`), false, true},
		{"case added", edit("  - file://cases.jsonl", "  - file://cases.jsonl\n  - vars: {question: new}"), false, true},
		{"case order", edit("  - id: refund", "  - file://cases.jsonl\n  - id: refund"), false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := versionFiles(versionSuite)
			tt.change(fsys)
			if tt.name == "case order" {
				// the dataset now comes first: drop its second mention
				s := string(fsys["suite.yaml"].Data)
				i := strings.LastIndex(s, "  - file://cases.jsonl\n")
				fsys["suite.yaml"].Data = []byte(s[:i] + s[i+len("  - file://cases.jsonl\n"):])
			}
			s := mustParse(t, fsys, "suite.yaml")
			if got := s.PromptVersion != base.PromptVersion; got != tt.prompt {
				t.Errorf("prompt version moved = %v, want %v", got, tt.prompt)
			}
			if got := s.Version != base.Version; got != tt.suite {
				t.Errorf("suite version moved = %v, want %v", got, tt.suite)
			}
		})
	}
}

// TestVersionsPinned pins the hashes of a small suite: a change to the
// canonical form (which would orphan every stored baseline) must be a
// deliberate one.
func TestVersionsPinned(t *testing.T) {
	s := mustParse(t, files("s.yaml", "name: s\nprompt: [{role: user, content: '{{q}}'}]\ntests: [{id: a, vars: {q: hi}, assert: [{type: contains, value: hi}]}]\n"), "s.yaml")
	pv, err := hashOf([]any{map[string]any{"role": "user", "content": "{{q}}"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.PromptVersion, pv; got != want {
		t.Errorf("PromptVersion = %s, want %s", got, want)
	}
	canon := `{"cases":[{"assert":[{"threshold":null,"type":"contains","value":"hi","weight":1}],"id":"a","vars":{"q":"hi"}}],"prompt_version":"` + pv + `","repeats":1}`
	sv, err := hashOf(json.RawMessage(canon))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Version, sv; got != want {
		t.Errorf("Version = %s, want the sha256 of %s (%s)", got, canon, want)
	}
}

func TestCanonicalJSON(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   any
		want string
	}{
		{"sorted keys", map[string]any{"b": 1, "a": []any{true, nil}}, `{"a":[true,null],"b":1}`},
		{"integral floats", []any{1.0, float32(2), int64(3), json.Number("4.0"), json.Number("5e0")}, `[1,2,3,4,5]`},
		{"fractions", []any{0.1, 1.5, -0.25, 1e-7}, `[0.1,1.5,-0.25,1e-07]`},
		{"negative zero", math.Copysign(0, -1), `0`},
		{"big", 1e21, `1e+21`},
		{"no html escaping", "<a & b>", `"<a & b>"`},
		{"unicode", "é\u2028", "\"é\\u2028\""},
		{"structs via json", struct {
			B int    `json:"b"`
			A string `json:"a"`
		}{1, "x"}, `{"a":"x","b":1}`},
		{"nil pointer", (*int)(nil), `null`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalJSON(tt.in)
			if err != nil {
				t.Fatalf("CanonicalJSON(%v): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("CanonicalJSON(%v) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	if _, err := CanonicalJSON([]any{1, map[string]any{"x": func() {}}}); err == nil {
		t.Errorf("CanonicalJSON(func) = nil error, want one")
	}
}

func TestCaseIDs(t *testing.T) {
	s := mustParse(t, files("s.yaml", `name: s
prompt: [{role: user, content: "{{q}}"}]
defaultTest: {vars: {lang: en}}
tests:
  - vars: {q: hi, n: 1}
  - vars: {n: 1.0, q: hi, extra: x}
  - id: 42
    vars: {q: hi}
`), "s.yaml")
	// Ids hash the case's own vars, not defaultTest's: changing a default
	// keeps the ids, so cases still pair across runs.
	want := []string{caseID(t, map[string]any{"q": "hi", "n": 1}), caseID(t, map[string]any{"q": "hi", "n": 1, "extra": "x"}), "42"}
	for i, c := range s.Cases {
		if c.ID != want[i] {
			t.Errorf("Cases[%d].ID = %q, want %q", i, c.ID, want[i])
		}
	}
	if got := s.Cases[0].ID; !strings.HasPrefix(got, "c-") || len(got) != 14 {
		t.Errorf("hashed id %q: want c- and 12 hex digits", got)
	}
}

func TestWithPrompt(t *testing.T) {
	base := mustParse(t, versionFiles(versionSuite), "suite.yaml")
	candidate := []Message{{Role: "system", Content: "Be very brief."}, {Role: "user", Content: "Q: {{question}}"}}
	got, err := base.WithPrompt(candidate)
	if err != nil {
		t.Fatalf("WithPrompt: %v", err)
	}
	// The same suite written with the candidate prompt loads to the same
	// versions and messages.
	fsys := versionFiles(versionSuite)
	fsys["system.txt"].Data = []byte("Be very brief.")
	want := mustParse(t, fsys, "suite.yaml")
	if got.PromptVersion != want.PromptVersion || got.Version != want.Version {
		t.Errorf("WithPrompt versions = %s, %s; want %s, %s", got.PromptVersion, got.Version, want.PromptVersion, want.Version)
	}
	if got.Cases[0].Messages[0].Content != "Be very brief." || base.Cases[0].Messages[0].Content != "Be brief." {
		t.Errorf("WithPrompt messages = %q (original now %q)", got.Cases[0].Messages[0].Content, base.Cases[0].Messages[0].Content)
	}

	_, err = base.WithPrompt([]Message{{Role: "user", Content: "{{missing}}"}})
	if !errors.Is(err, ErrMissingVar) || !strings.Contains(errString(err), "case refund (suite.yaml:15): prompt[0].content: missing var \"missing\"") {
		t.Errorf("WithPrompt(missing var) error = %v, want one naming the case and the var", err)
	}
}
