package evals

import (
	"path/filepath"
	"testing"
)

// TestSuiteVersionStreamsTheCanonicalForm: suiteVersion hashes as it
// writes, case by case; the hash is the one of the whole canonical JSON.
func TestSuiteVersionStreamsTheCanonicalForm(t *testing.T) {
	whole := func(pv string, repeats int, cases []Case, agent map[string]any) string {
		list := make([]any, len(cases))
		for i, c := range cases {
			asserts := make([]any, len(c.Asserts))
			for j, a := range c.Asserts {
				asserts[j] = specJSON(a.Spec())
			}
			vars := map[string]any{}
			for k, v := range c.Vars {
				vars[k] = v
			}
			entry := map[string]any{"id": c.ID, "vars": vars, "assert": asserts}
			if c.Turns != nil {
				ts := make([]any, len(c.Turns))
				for k, t := range c.Turns {
					ts[k] = map[string]any{"user": t.User, "first": t.First, "end": t.End}
				}
				entry["turns"] = ts
			}
			list[i] = entry
		}
		top := map[string]any{"prompt_version": pv, "repeats": repeats, "cases": list}
		for k, v := range agent { // an agent suite's tools, tool_results and max_tool_steps
			top[k] = v
		}
		h, err := hashOf(top)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	files, _ := filepath.Glob("../configs/demo/suites/*.yaml")
	if len(files) == 0 {
		t.Fatal("no demo suites")
	}
	for _, f := range files {
		s, err := LoadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var agent map[string]any
		if s.IsAgent() {
			agent = agentJSON(s)
		}
		if got, want := s.Version, whole(s.PromptVersion, s.Repeats, s.Cases, agent); got != want {
			t.Errorf("%s: suiteVersion = %s, want %s", f, got, want)
		}
	}
	if got, err := suiteVersion("p\"v", 3, nil); err != nil || got != whole("p\"v", 3, nil, nil) {
		t.Errorf("suiteVersion of no cases = %s, %v", got, err)
	}
}
