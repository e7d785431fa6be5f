package scoring

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
)

// The judge's prompts are plain files, embedded at build time, so a user can
// read exactly what the judge is asked. Each file holds a "[system]" section
// and a "[user]" section, each marker a line of its own; placeholders such as
// {{output}}, {{input}}, {{rubric}} and {{reference}} are replaced in one
// pass (text that the model wrote is never expanded again). A suite may
// replace any of them with a file of the same form (JudgePrompts).
//
//go:embed prompts/*.txt
var promptFiles embed.FS

// JudgePrompt is a parsed judge prompt: a system and a user message, with
// placeholders. The zero value is not usable; get one from ParseJudgePrompt.
type JudgePrompt struct {
	name         string
	system, user string
}

// Name is the prompt's name ("llm-rubric", "g-eval-steps", ...).
func (p JudgePrompt) Name() string { return p.name }

// Text is the prompt in its canonical file form: what a suite version
// hashes, so that only a change of words changes it.
func (p JudgePrompt) Text() string {
	return "[system]\n" + p.system + "\n[user]\n" + p.user
}

// promptVars lists, per prompt, the placeholders its [user] section must
// hold and those it may also use (in either section).
var promptVars = map[string]struct{ required, optional []string }{
	"llm-rubric":            {required: []string{"output", "rubric"}, optional: []string{"input"}},
	"factuality":            {required: []string{"output", "reference"}, optional: []string{"input"}},
	"model-graded-closedqa": {required: []string{"output", "rubric"}, optional: []string{"input"}},
	"answer-relevance":      {required: []string{"output"}},
	"g-eval-steps":          {required: []string{"criteria"}},
	"g-eval":                {required: []string{"output", "criteria", "steps"}, optional: []string{"input"}},
}

// typePrompts says which prompts grading each base type uses.
var typePrompts = map[string][]string{
	"llm-rubric":              {"llm-rubric"},
	"factuality":              {"factuality"},
	"model-graded-factuality": {"factuality"},
	"model-graded-closedqa":   {"model-graded-closedqa"},
	"answer-relevance":        {"answer-relevance"},
	"g-eval":                  {"g-eval-steps", "g-eval"},
}

// JudgePromptNames returns the names of the judge prompts, sorted: the keys
// a suite's judge_prompts may replace.
func JudgePromptNames() []string {
	return slices.Sorted(maps.Keys(promptVars))
}

var placeholder = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// ParseJudgePrompt parses and checks the text of a prompt file meant to
// replace the built-in prompt name. The text must start with a [system]
// line (blank lines and a byte-order mark before it are passed over), hold
// one [user] line, and use only the placeholders that prompt knows, the
// required ones in its [user] section. Errors are one lower-case line.
func ParseJudgePrompt(name, text string) (JudgePrompt, error) {
	vars, ok := promptVars[name]
	if !ok {
		return JudgePrompt{}, fmt.Errorf("unknown judge prompt %q (known: %s)", name, strings.Join(JudgePromptNames(), ", "))
	}
	p, err := parsePrompt(name, text)
	if err != nil {
		return JudgePrompt{}, err
	}
	known := slices.Concat(vars.required, vars.optional)
	for _, sec := range []string{p.system, p.user} {
		for _, m := range placeholder.FindAllStringSubmatch(sec, -1) {
			if !slices.Contains(known, m[1]) {
				return JudgePrompt{}, fmt.Errorf("unknown placeholder %q: %s knows %s", clipText(m[0]), name, braces(known))
			}
		}
	}
	var lacks []string
	for _, v := range vars.required {
		if !strings.Contains(p.user, "{{"+v+"}}") {
			lacks = append(lacks, v)
		}
	}
	if len(lacks) > 0 {
		return JudgePrompt{}, fmt.Errorf("the [user] section lacks %s (%s needs %s there)", braces(lacks), name, braces(vars.required))
	}
	return p, nil
}

// braces renders names as "{{a}}, {{b}} and {{c}}".
func braces(names []string) string {
	b := make([]string, len(names))
	for i, n := range names {
		b[i] = "{{" + n + "}}"
	}
	if len(b) < 2 {
		return strings.Join(b, "")
	}
	return strings.Join(b[:len(b)-1], ", ") + " and " + b[len(b)-1]
}

func clipText(s string) string { return truncate(s, 40) }

// parsePrompt splits a prompt file into its sections.
func parsePrompt(name, text string) (JudgePrompt, error) {
	text = strings.ReplaceAll(strings.TrimPrefix(text, "\ufeff"), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	start := 0
	for start < len(lines) && strings.TrimSpace(lines[start]) == "" {
		start++
	}
	if start == len(lines) || strings.TrimSpace(lines[start]) != "[system]" {
		return JudgePrompt{}, fmt.Errorf("must start with a [system] line")
	}
	userAt := -1
	for i := start + 1; i < len(lines); i++ {
		switch strings.TrimSpace(lines[i]) {
		case "[system]":
			return JudgePrompt{}, fmt.Errorf("line %d: a second [system] line", i+1)
		case "[user]":
			if userAt >= 0 {
				return JudgePrompt{}, fmt.Errorf("line %d: a second [user] line", i+1)
			}
			userAt = i
		}
	}
	if userAt < 0 {
		return JudgePrompt{}, fmt.Errorf("has no [user] line")
	}
	p := JudgePrompt{
		name:   name,
		system: strings.TrimSpace(strings.Join(lines[start+1:userAt], "\n")),
		user:   strings.TrimSpace(strings.Join(lines[userAt+1:], "\n")),
	}
	if p.user == "" {
		return JudgePrompt{}, fmt.Errorf("the [user] section is empty")
	}
	return p, nil
}

// render fills the prompt's placeholders: vars holds pairs of name and
// value. An empty system section sends no system message.
func (p JudgePrompt) render(vars ...string) []JudgeMessage {
	pairs := make([]string, 0, len(vars))
	for i := 0; i+1 < len(vars); i += 2 {
		pairs = append(pairs, "{{"+vars[i]+"}}", vars[i+1])
	}
	r := strings.NewReplacer(pairs...)
	msgs := make([]JudgeMessage, 0, 2)
	if p.system != "" {
		msgs = append(msgs, JudgeMessage{Role: "system", Content: r.Replace(p.system)})
	}
	return append(msgs, JudgeMessage{Role: "user", Content: r.Replace(p.user)})
}

// builtinPrompts are the embedded prompts by name, parsed and checked once;
// a malformed file is a build mistake, caught by the package tests.
var builtinPrompts = loadPrompts()

func loadPrompts() map[string]JudgePrompt {
	out := map[string]JudgePrompt{}
	files, err := fs.Glob(promptFiles, "prompts/*.txt")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		b, err := promptFiles.ReadFile(f)
		if err != nil {
			panic(err)
		}
		name := strings.TrimSuffix(path.Base(f), ".txt")
		p, err := ParseJudgePrompt(name, string(b))
		if err != nil {
			panic(fmt.Sprintf("prompt %s: %v", f, err))
		}
		out[name] = p
	}
	for name := range promptVars {
		if _, ok := out[name]; !ok {
			panic("no embedded prompt " + name)
		}
	}
	return out
}

// JudgePrompts are a suite's replacements for some built-in judge prompts
// (its judge_prompts). A nil *JudgePrompts replaces none. It is immutable
// and safe for concurrent use.
type JudgePrompts struct {
	byName map[string]JudgePrompt
}

// NewJudgePrompts gathers parsed prompts (a later one of the same name
// wins); it returns nil when there are none.
func NewJudgePrompts(ps ...JudgePrompt) *JudgePrompts {
	if len(ps) == 0 {
		return nil
	}
	s := &JudgePrompts{byName: make(map[string]JudgePrompt, len(ps))}
	for _, p := range ps {
		s.byName[p.name] = p
	}
	return s
}

// get returns the prompt to grade with: the replacement, else the built-in.
func (s *JudgePrompts) get(name string) JudgePrompt {
	if s != nil {
		if p, ok := s.byName[name]; ok {
			return p
		}
	}
	return builtinPrompts[name]
}

// Overrides returns the texts of the replaced prompts that grading an
// assertion of type typ ("not-" allowed) uses, by prompt name; nil when it
// uses none. Suite versions count them, so that editing a judge prompt
// starts a new history.
func (s *JudgePrompts) Overrides(typ string) map[string]string {
	if s == nil {
		return nil
	}
	var out map[string]string
	for _, name := range typePrompts[base(typ)] {
		if p, ok := s.byName[name]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = p.Text()
		}
	}
	return out
}
