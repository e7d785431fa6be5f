package evals

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/evald/evald/scoring"
)

// files builds an in-memory file system from name/content pairs.
func files(pairs ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := 0; i+1 < len(pairs); i += 2 {
		fsys[pairs[i]] = &fstest.MapFile{Data: []byte(pairs[i+1])}
	}
	return fsys
}

func mustParse(t testing.TB, fsys fstest.MapFS, name string) *Suite {
	t.Helper()
	s, err := Parse(fsys, name)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return s
}

// specs returns a case's assertions as specs, for comparing.
func specs(c Case) []scoring.Spec {
	out := make([]scoring.Spec, len(c.Asserts))
	for i, a := range c.Asserts {
		out[i] = a.Spec()
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// caseID is the id of a case without an explicit one.
func caseID(t testing.TB, vars map[string]any) string {
	t.Helper()
	h, err := hashOf(vars)
	if err != nil {
		t.Fatal(err)
	}
	return "c-" + h[:12]
}

// ignoreAsserts compares cases without their compiled assertions (compared
// as specs separately).
var ignoreAsserts = []cmp.Option{
	cmpopts.IgnoreUnexported(Case{}),
	cmpopts.IgnoreFields(Case{}, "Asserts"),
	cmpopts.IgnoreFields(Suite{}, "Version", "PromptVersion"),
}

const faqSuite = `# The suite of DESIGN.md, slightly trimmed.
name: faq
description: Support answers stay correct and polite
prompt:
  - role: system
    content: file://../prompts/faq-system.txt
  - role: user
    content: "Customer question: {{question}}"
repeats: 3
defaultTest:
  vars: {tone: friendly}
  assert:
    - type: not-icontains
      value: "as an ai"
tests:
  - id: refund-window
    description: the return window
    vars: {question: "How long do I have to return an item?"}
    assert:
      - type: contains
        value: "30 days"
      - type: levenshtein
        value: "You have 30 days to return an item."
        threshold: 10
        weight: 2
  - file://../datasets/faq.jsonl
  - file://../datasets/more.csv
thresholds:
  pass_rate: 0.90
  mean_score: 0.85
drift:
  min_effect: 0.05
judge: grader
`

func faqFiles() fstest.MapFS {
	return files(
		"suites/faq.yaml", faqSuite,
		// CRLF line ends and final newlines are not part of the prompt.
		"prompts/faq-system.txt", "Be brief\r\nand {{tone}}.\r\n\n",
		"datasets/faq.jsonl", `{"id": "ship", "vars": {"question": "Do you ship abroad?"}, "assert": [{"type": "icontains", "value": "{{ tone }}"}]}

{"vars": {"question": "Can I pay by card?", "tone": "formal"}}
`,
		// Spreadsheets write a BOM and CRLF.
		"datasets/more.csv", "\xef\xbb\xbfquestion,__expected,__description\r\nWhat is 2+2?,contains: 4,math\r\n",
	)
}

func TestParse(t *testing.T) {
	s := mustParse(t, faqFiles(), "suites/faq.yaml")
	want := &Suite{
		Name:        "faq",
		Description: "Support answers stay correct and polite",
		File:        "suites/faq.yaml",
		Prompt: []Message{
			{Role: "system", Content: "Be brief\nand {{tone}}."},
			{Role: "user", Content: "Customer question: {{question}}"},
		},
		Repeats:    3,
		Thresholds: Thresholds{PassRate: ptr(0.90), MeanScore: ptr(0.85)},
		MinEffect:  ptr(0.05),
		Judge:      "grader",
		JudgeLine:  33,
		Cases: []Case{{
			ID:          "refund-window",
			Description: "the return window",
			Vars:        map[string]any{"tone": "friendly", "question": "How long do I have to return an item?"},
			Messages: []Message{
				{Role: "system", Content: "Be brief\nand friendly."},
				{Role: "user", Content: "Customer question: How long do I have to return an item?"},
			},
			Source: "suites/faq.yaml:16",
		}, {
			ID:   "ship",
			Vars: map[string]any{"tone": "friendly", "question": "Do you ship abroad?"},
			Messages: []Message{
				{Role: "system", Content: "Be brief\nand friendly."},
				{Role: "user", Content: "Customer question: Do you ship abroad?"},
			},
			Source: "datasets/faq.jsonl:1",
		}, {
			// A case's vars override defaultTest's.
			ID:   caseID(t, map[string]any{"question": "Can I pay by card?", "tone": "formal"}),
			Vars: map[string]any{"tone": "formal", "question": "Can I pay by card?"},
			Messages: []Message{
				{Role: "system", Content: "Be brief\nand formal."},
				{Role: "user", Content: "Customer question: Can I pay by card?"},
			},
			Source: "datasets/faq.jsonl:3",
		}, {
			ID:          "more.csv:2", // a CSV without __id: file and line
			Description: "math",
			Vars:        map[string]any{"tone": "friendly", "question": "What is 2+2?"},
			Messages: []Message{
				{Role: "system", Content: "Be brief\nand friendly."},
				{Role: "user", Content: "Customer question: What is 2+2?"},
			},
			Source: "datasets/more.csv:2",
		}},
		RowNamed: []string{"datasets/more.csv"},
	}
	if diff := cmp.Diff(want, s, ignoreAsserts...); diff != "" {
		t.Errorf("Parse(suites/faq.yaml) mismatch (-want +got):\n%s", diff)
	}

	notAI := scoring.Spec{Type: "not-icontains", Value: "as an ai", Weight: 1}
	wantSpecs := [][]scoring.Spec{
		{notAI, {Type: "contains", Value: "30 days", Weight: 1},
			{Type: "levenshtein", Value: "You have 30 days to return an item.", Threshold: ptr(10.0), Weight: 2}},
		{notAI, {Type: "icontains", Value: "friendly", Weight: 1}},
		{notAI},
		{notAI, {Type: "contains", Value: "4", Weight: 1}},
	}
	for i, c := range s.Cases {
		if diff := cmp.Diff(wantSpecs[i], specs(c)); diff != "" {
			t.Errorf("case %s assertions mismatch (-want +got):\n%s", c.ID, diff)
		}
	}
	if got, want := len(s.Version), 64; got != want {
		t.Errorf("len(Version) = %d, want %d", got, want)
	}
	if got, want := len(s.PromptVersion), 64; got != want {
		t.Errorf("len(PromptVersion) = %d, want %d", got, want)
	}
}

func TestDatasets(t *testing.T) {
	const suite = `
name: ds
prompt: [{role: user, content: "{{input}}"}]
tests:
  - file://%s
`
	for _, tt := range []struct {
		name  string
		file  string
		data  string
		vars  []map[string]any
		specs [][]scoring.Spec
		ids   []string
	}{{
		name: "openai evals string input",
		file: "d.jsonl",
		data: `{"input": "Capital of France?", "ideal": "Paris"}`,
		vars: []map[string]any{{"input": "Capital of France?", "ideal": "Paris"}},
		// OpenAI evals' Match: the answer starts with the ideal.
		specs: [][]scoring.Spec{{{Type: "starts-with", Value: "Paris", Weight: 1}}},
	}, {
		name:  "openai evals chat input and several ideals",
		file:  "d.jsonl",
		data:  `{"input": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"}], "ideal": ["4", "four (4)"]}`,
		vars:  []map[string]any{{"input": "2+2?", "ideal": []any{"4", "four (4)"}}},
		specs: [][]scoring.Spec{{{Type: "regex", Value: `^(?:4|four \(4\))`, Weight: 1}}},
	}, {
		name:  "openai ideal is not a template",
		file:  "d.jsonl",
		data:  `{"input": "echo", "ideal": "{{input}}"}`,
		vars:  []map[string]any{{"input": "echo", "ideal": "{{input}}"}},
		specs: [][]scoring.Spec{{{Type: "starts-with", Value: "{{input}}", Weight: 1}}},
	}, {
		name:  "jsonl test objects with numbers",
		file:  "d.jsonl",
		data:  "{\"vars\": {\"input\": \"x\", \"n\": 1.0}, \"assert\": [{\"type\": \"equals\", \"value\": \"{{n}}\"}]}\r\n",
		vars:  []map[string]any{{"input": "x", "n": int64(1)}},
		specs: [][]scoring.Spec{{{Type: "equals", Value: "1", Weight: 1}}},
	}, {
		name: "csv shorthand and several expected columns",
		file: "d.csv",
		data: "input,__expected1,__expected2,__description\n" +
			"\"Hello, world\",icontains: HELLO,not-contains:bye,greets\n" +
			"json please,is-json,,\n",
		vars: []map[string]any{{"input": "Hello, world"}, {"input": "json please"}},
		specs: [][]scoring.Spec{
			{{Type: "icontains", Value: "HELLO", Weight: 1}, {Type: "not-contains", Value: "bye", Weight: 1}},
			{{Type: "is-json", Weight: 1}},
		},
		ids: []string{"d.csv:2", "d.csv:3"},
	}, {
		name:  "csv with an __id column",
		file:  "d.csv",
		data:  "__id,input\nhello,Hello\n\" bye \",Bye\n",
		vars:  []map[string]any{{"input": "Hello"}, {"input": "Bye"}},
		specs: [][]scoring.Spec{nil, nil},
		ids:   []string{"hello", "bye"},
	}, {
		name:  "yaml list of tests",
		file:  "d.yaml",
		data:  "- vars: {input: a}\n  assert: [{type: contains, value: a}]\n- id: b\n  vars: {input: b}\n",
		vars:  []map[string]any{{"input": "a"}, {"input": "b"}},
		specs: [][]scoring.Spec{{{Type: "contains", Value: "a", Weight: 1}}, nil},
		ids:   []string{"", "b"},
	}, {
		name:  "json array of tests",
		file:  "d.json",
		data:  `[{"vars": {"input": "a"}}]`,
		vars:  []map[string]any{{"input": "a"}},
		specs: [][]scoring.Spec{nil},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := files("s.yaml", strings.Replace(suite, "%s", tt.file, 1), tt.file, tt.data)
			s := mustParse(t, fsys, "s.yaml")
			var gotVars []map[string]any
			var gotSpecs [][]scoring.Spec
			for i, c := range s.Cases {
				gotVars = append(gotVars, c.Vars)
				sp := specs(c)
				if len(sp) == 0 {
					sp = nil
				}
				gotSpecs = append(gotSpecs, sp)
				want := caseID(t, c.Vars)
				if i < len(tt.ids) && tt.ids[i] != "" {
					want = tt.ids[i]
				}
				if c.ID != want {
					t.Errorf("case %d: ID = %q, want %q", i, c.ID, want)
				}
			}
			if diff := cmp.Diff(tt.vars, gotVars); diff != "" {
				t.Errorf("vars mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.specs, gotSpecs); diff != "" {
				t.Errorf("assertions mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPromptFromFile(t *testing.T) {
	fsys := files(
		"suites/s.yaml", "name: s\nprompt: file://../prompts/chat.yaml\ntests: [{vars: {q: hi}}]\n",
		"prompts/chat.yaml", "- role: system\n  content: file://system.txt\n- {role: user, content: '{{q}}'}\n",
		"prompts/system.txt", "Be kind.\n",
	)
	s := mustParse(t, fsys, "suites/s.yaml")
	want := []Message{{Role: "system", Content: "Be kind."}, {Role: "user", Content: "{{q}}"}}
	if diff := cmp.Diff(want, s.Prompt); diff != "" {
		t.Errorf("Prompt mismatch (-want +got):\n%s", diff)
	}
	got, err := ParsePrompt(fsys, "prompts/chat.yaml")
	if err != nil {
		t.Fatalf("ParsePrompt: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParsePrompt mismatch (-want +got):\n%s", diff)
	}
	_, err = ParsePrompt(fsys, "prompts/system.txt")
	if got, want := errString(err), "prompts/system.txt:1: must be a list of {role, content} messages (got \"Be kind.\")"; got != want {
		t.Errorf("ParsePrompt(system.txt) error = %q, want %q", got, want)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestLoadFile loads from disk: file:// references leave the suite's folder
// and errors print paths as the user gave them.
func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("suites/faq.yaml", "name: faq\nprompt:\n  - {role: system, content: file://../prompts/sys.txt}\n  - {role: user, content: '{{q}}'}\ntests:\n  - file://../datasets/faq.jsonl\n")
	write("prompts/sys.txt", "Be brief.")
	write("datasets/faq.jsonl", `{"vars": {"q": "hi"}}`+"\n"+`{"vars": {"q": "hi"}}`+"\n")
	t.Chdir(dir)

	_, err := LoadFile("suites/faq.yaml")
	want := `datasets/faq.jsonl:2: vars: duplicate case id "c-` // same vars, no ids
	if got := errString(err); !strings.HasPrefix(got, want) || !strings.Contains(got, "same vars as the case at datasets/faq.jsonl:1") {
		t.Errorf("LoadFile error = %q, want it to start with %q and name the first case", got, want)
	}
	if !errors.Is(err, ErrDuplicate) {
		t.Errorf("errors.Is(%v, ErrDuplicate) = false, want true", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As(%v, *FieldError) = false, want true", err)
	}
	if diff := cmp.Diff(&FieldError{File: "datasets/faq.jsonl", Line: 2, Field: "vars"}, fe, cmpopts.IgnoreFields(FieldError{}, "Err")); diff != "" {
		t.Errorf("FieldError mismatch (-want +got):\n%s", diff)
	}

	write("datasets/faq.jsonl", `{"vars": {"q": "hi"}}`+"\n")
	s, err := LoadFile(filepath.Join("suites", "..", "suites", "faq.yaml"))
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if got, want := s.Cases[0].Source, "datasets/faq.jsonl:1"; got != want {
		t.Errorf("Source = %q, want %q", got, want)
	}
	if got, want := s.Prompt[0].Content, "Be brief."; got != want {
		t.Errorf("Prompt[0].Content = %q, want %q", got, want)
	}
	abs, err := LoadFile(filepath.Join(dir, "suites", "faq.yaml"))
	if err != nil {
		t.Fatalf("LoadFile(absolute): %v", err)
	}
	if got, want := abs.Version, s.Version; got != want {
		t.Errorf("Version from an absolute path = %s, want %s (the same suite)", got, want)
	}
	if got, want := abs.Cases[0].Source, filepath.Join(dir, "datasets", "faq.jsonl")+":1"; got != want {
		t.Errorf("Source = %q, want %q", got, want)
	}
}

func TestFieldError(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  *FieldError
		want string
	}{
		{"all parts", &FieldError{File: "suites/faq.yaml", Line: 14, Field: "tests[2].assert[0].threshold", Value: "1.5", Err: Because(ErrInvalid, "must be in [0,1]")}, "suites/faq.yaml:14: tests[2].assert[0].threshold: must be in [0,1] (got 1.5)"},
		{"no field", &FieldError{File: "datasets/faq.jsonl", Line: 3, Err: Because(ErrSyntax, "not a JSON object")}, "datasets/faq.jsonl:3: not a JSON object"},
		{"no line", &FieldError{File: "suites/faq.yaml", Err: Because(ErrMissing, "empty file")}, "suites/faq.yaml: empty file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	fe := &FieldError{File: "f", Err: Because(ErrInvalid, "x")}
	if !errors.Is(fe, ErrInvalid) || errors.Is(fe, ErrMissing) {
		t.Errorf("errors.Is on %v does not follow Err's sentinel", fe)
	}
}

// TestErrorsAtOnce: every problem of every file is reported, in file order
// and by line, and the sentinels can be told apart.
func TestErrorsAtOnce(t *testing.T) {
	fsys := files(
		"s.yaml", "name: s\nrepeats: 0\nprompt: [{role: user, content: '{{q}}'}]\ntests:\n  - file://d.jsonl\n  - vars: {q: a}\n    assert: [{type: nope}]\nthresholds: {pass_rate: 2}\n",
		"d.jsonl", "{\"vars\": {\"q\": 1}, \"extra\": true}\n",
	)
	_, err := Parse(fsys, "s.yaml")
	var lines []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a *FieldError", e)
		}
		lines = append(lines, fe.File+":"+fe.Field)
	}
	want := []string{"s.yaml:repeats", "s.yaml:tests[1].assert[0].type", "s.yaml:thresholds.pass_rate", "d.jsonl:extra"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("problems mismatch (-want +got):\n%s\nfull error:\n%v", diff, err)
	}
	for _, kind := range []error{ErrInvalid, ErrUnknownKey, scoring.ErrUnknownType} {
		if !errors.Is(err, kind) {
			t.Errorf("errors.Is(err, %v) = false, want true", kind)
		}
	}
}

func TestTooManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("q,__expected\n")
	for i := range 150 {
		b.WriteString("x" + strings.Repeat("y", i) + ",regex:(\n")
	}
	fsys := files("s.yaml", "name: s\nprompt: [{role: user, content: '{{q}}'}]\ntests: [file://d.csv]\n", "d.csv", b.String())
	_, err := Parse(fsys, "s.yaml")
	errs := err.(interface{ Unwrap() []error }).Unwrap()
	if got, want := len(errs), maxProblems+1; got != want {
		t.Fatalf("%d errors, want %d", got, want)
	}
	if got, want := errs[maxProblems].Error(), "... and 50 more problems"; got != want {
		t.Errorf("last error = %q, want %q", got, want)
	}
}

func TestAnchorsAndMerge(t *testing.T) {
	fsys := files("s.yaml", `
name: s
prompt: &p [{role: user, content: "{{q}} {{lang}}"}]
x-defaults: &d {vars: {lang: en}}
tests:
  - <<: *d
    id: a
    vars: {q: one, lang: fr}
  - <<: *d
    id: b
    vars: {q: two, lang: de}
`)
	_, err := Parse(fsys, "s.yaml")
	// x- keys are not special: unknown keys are errors.
	if got, want := errString(err), "s.yaml:4: x-defaults: unknown key (known: name, description, prompt, repeats, defaultTest, tests, thresholds, drift, judge, judge_prompts, calibration, timeout, tools, tool_results, max_tool_steps)"; got != want {
		t.Fatalf("Parse error = %q, want %q", got, want)
	}
	fsys = files("s.yaml", `
name: s
prompt: [{role: user, content: "{{q}} {{lang}}"}]
tests:
  - &first
    id: a
    vars: &v {q: one, lang: en}
  - <<: *first
    id: b
    vars: {<<: *v, lang: fr}
`)
	s := mustParse(t, fsys, "s.yaml")
	var got []string
	for _, c := range s.Cases {
		got = append(got, c.ID+": "+c.Messages[0].Content)
	}
	if diff := cmp.Diff([]string{"a: one en", "b: one fr"}, got); diff != "" {
		t.Errorf("cases mismatch (-want +got):\n%s", diff)
	}
}

// TestAliasBomb: a small file whose aliases expand to billions of nodes is
// refused quickly.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: s\nprompt: [{role: user, content: hi}]\nx0: &a0 {id: a}\n")
	for i := 1; i < 30; i++ {
		b.WriteString("x" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " {<<: [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + strconv.Itoa(i-1))
		}
		b.WriteString("]}\n")
	}
	b.WriteString("tests:\n  - <<: *a29\n    vars: {v: [*a29, *a29]}\n")
	_, err := Parse(files("s.yaml", b.String()), "s.yaml")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(errString(err), "too large") {
		t.Errorf("Parse(alias bomb) error = %v, want a too-large error", err)
	}
}
