package configs

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

// TestInvalid walks testdata/invalid: each file holds a config (the first
// section), the suites it names, and the expected error of ParseProject
// after "-- error --". Run with -update to rewrite the expected errors.
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
			var config, want string
			wantAt := -1
			for i, f := range a.files {
				if f.name == "error" {
					want, wantAt = strings.TrimSpace(f.data), i
					continue
				}
				if config == "" {
					config = f.name
				}
				fsys[f.name] = &fstest.MapFile{Data: []byte(f.data)}
			}
			if config == "" || wantAt < 0 {
				t.Fatalf("%s needs a config section and an -- error -- section", path)
			}
			_, err = ParseProject(fsys, config)
			if err == nil {
				t.Fatalf("ParseProject(%s) = nil error, want\n%s", config, want)
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
				t.Errorf("ParseProject(%s) error:\n%s\nwant:\n%s", config, got, want)
			}
		})
	}
}

// FuzzParseConfig: no config (with the suites it names) panics the loader.
// An input is an archive like testdata/invalid/*.txt.
func FuzzParseConfig(f *testing.F) {
	paths, _ := filepath.Glob("testdata/invalid/*.txt")
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add(archive{files: []archiveFile{{"evald.yaml", designConfig}, {"suites/faq.yaml", suiteYAML("faq")}}}.format())
	demo := archive{}
	_ = fs.WalkDir(DemoFS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := fs.ReadFile(DemoFS(), path)
			demo.files = append(demo.files, archiveFile{path, string(data)})
		}
		return nil
	})
	f.Add(demo.format())
	f.Fuzz(func(t *testing.T, text string) {
		a := parseArchive(text)
		fsys := fstest.MapFS{}
		config := ""
		for _, file := range a.files {
			if file.name == "error" || !fs.ValidPath(file.name) || file.name == "." {
				continue
			}
			if config == "" {
				config = file.name
			}
			fsys[file.name] = &fstest.MapFile{Data: []byte(file.data)}
		}
		if config == "" {
			return
		}
		proj, err := ParseProject(fsys, config)
		if err != nil {
			if proj != nil {
				t.Fatalf("ParseProject returned a project and an error")
			}
			return
		}
		if len(proj.Suites) != len(proj.Config.Suites) {
			t.Fatalf("%d suites for %d suite refs", len(proj.Suites), len(proj.Config.Suites))
		}
		for _, tg := range proj.Config.Targets {
			if len(tg.Version()) != 64 {
				t.Fatalf("Version() = %q", tg.Version())
			}
		}
	})
}
