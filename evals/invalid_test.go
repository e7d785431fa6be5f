package evals

import (
	"io/fs"
	"testing"

	"github.com/evald/evald/internal/goldentest"
)

// TestInvalid walks testdata/invalid: each file holds a suite (the first
// section), the files it refers to, and the expected error after
// "-- error --". Run with -update to rewrite the expected errors.
func TestInvalid(t *testing.T) {
	goldentest.Errors(t, "testdata/invalid/*.txt", "Parse", "suite", func(fsys fs.FS, suite string) error {
		_, err := Parse(fsys, suite)
		return err
	})
}

// FuzzParseSuite: no suite, prompt file or dataset panics the loader, and
// what loads has well-formed, repeatable versions. An input is an archive
// like testdata/invalid/*.txt: the first section is the suite.
func FuzzParseSuite(f *testing.F) {
	goldentest.Seed(f, "testdata/invalid/*.txt")
	f.Add(goldentest.Of(
		"suites/faq.yaml", faqSuite,
		"prompts/faq-system.txt", "Be brief and {{tone}}.",
		"datasets/faq.jsonl", `{"input": [{"role": "user", "content": "hi"}], "ideal": ["a", "b"]}`+"\n",
		"datasets/more.csv", "question,__expected\nhi,similar(0.5):x\n",
	).Format())
	f.Fuzz(func(t *testing.T, text string) {
		fsys, suite := goldentest.Parse(text).FS()
		if suite == "" {
			return
		}
		s, err := Parse(fsys, suite)
		_, _ = ParsePrompt(fsys, suite)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned a suite and an error")
			}
			if err.Error() == "" {
				t.Fatalf("empty error text")
			}
			return
		}
		if len(s.Version) != 64 || len(s.PromptVersion) != 64 {
			t.Fatalf("versions %q, %q: want 64 hex digits", s.Version, s.PromptVersion)
		}
		again, err := Parse(fsys, suite)
		if err != nil || again.Version != s.Version {
			t.Fatalf("second Parse = %v; want the same suite", err)
		}
	})
}
