package evals

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite the expected errors of testdata/invalid/*.txt")

// archive is a tiny txtar: "-- name --" lines start sections.
type archive struct {
	comment string
	files   []archiveFile
}

type archiveFile struct {
	name string
	data string
}

func parseArchive(text string) archive {
	var a archive
	cur := -1
	for line := range strings.Lines(text) {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			a.files = append(a.files, archiveFile{name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])})
			cur = len(a.files) - 1
			continue
		}
		if cur < 0 {
			a.comment += line
		} else {
			a.files[cur].data += line
		}
	}
	return a
}

func (a archive) format() string {
	var b strings.Builder
	b.WriteString(a.comment)
	for _, f := range a.files {
		b.WriteString("-- " + f.name + " --\n")
		b.WriteString(f.data)
	}
	return b.String()
}

// TestInvalid walks testdata/invalid: each file holds a suite (the first
// section), the files it refers to, and the expected error after
// "-- error --". Run with -update to rewrite the expected errors.
func TestInvalid(t *testing.T) {
	paths, err := filepath.Glob("testdata/invalid/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no testdata/invalid/*.txt")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a := parseArchive(string(data))
			fsys := fstest.MapFS{}
			var suite, want string
			wantAt := -1
			for i, f := range a.files {
				if f.name == "error" {
					want, wantAt = strings.TrimSpace(f.data), i
					continue
				}
				if suite == "" {
					suite = f.name
				}
				fsys[f.name] = &fstest.MapFile{Data: []byte(f.data)}
			}
			if suite == "" || wantAt < 0 {
				t.Fatalf("%s needs a suite section and an -- error -- section", path)
			}
			_, err = Parse(fsys, suite)
			if err == nil {
				t.Fatalf("Parse(%s) = nil error, want\n%s", suite, want)
			}
			got := err.Error()
			if *update {
				a.files[wantAt].data = got + "\n"
				if err := os.WriteFile(path, []byte(a.format()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("Parse(%s) error:\n%s\nwant:\n%s", suite, got, want)
			}
		})
	}
}

// FuzzParseSuite: no suite, prompt file or dataset panics the loader, and
// what loads has well-formed, repeatable versions. An input is an archive
// like testdata/invalid/*.txt: the first section is the suite.
func FuzzParseSuite(f *testing.F) {
	paths, _ := filepath.Glob("testdata/invalid/*.txt")
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add(archive{files: []archiveFile{
		{"suites/faq.yaml", faqSuite},
		{"prompts/faq-system.txt", "Be brief and {{tone}}."},
		{"datasets/faq.jsonl", `{"input": [{"role": "user", "content": "hi"}], "ideal": ["a", "b"]}` + "\n"},
		{"datasets/more.csv", "question,__expected\nhi,similar(0.5):x\n"},
	}}.format())
	f.Fuzz(func(t *testing.T, text string) {
		a := parseArchive(text)
		fsys := fstest.MapFS{}
		suite := ""
		for _, file := range a.files {
			if file.name == "error" || !fs.ValidPath(file.name) || file.name == "." {
				continue
			}
			if suite == "" {
				suite = file.name
			}
			fsys[file.name] = &fstest.MapFile{Data: []byte(file.data)}
		}
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
