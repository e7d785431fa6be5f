// Package goldentest runs the golden-file tests of the loaders (configs,
// evals): each testdata/invalid/*.txt archive holds the files to load and,
// in its "-- error --" section, the error text the loader must return; the
// -update flag rewrites those sections. For tests only: it never runs in
// the daemon or the CLI.
package goldentest

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

// Archive is a tiny txtar: "-- name --" lines start sections.
type Archive struct {
	Comment string
	Files   []File
}

// File is one section of an Archive.
type File struct {
	Name string
	Data string
}

// Of builds an archive from name, data pairs.
func Of(pairs ...string) Archive {
	if len(pairs)%2 != 0 {
		panic("goldentest.Of: an odd number of arguments")
	}
	var a Archive
	for i := 0; i < len(pairs); i += 2 {
		a.Files = append(a.Files, File{Name: pairs[i], Data: pairs[i+1]})
	}
	return a
}

// Parse reads an archive; text before the first section is its comment.
func Parse(text string) Archive {
	var a Archive
	cur := -1
	for line := range strings.Lines(text) {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			a.Files = append(a.Files, File{Name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])})
			cur = len(a.Files) - 1
			continue
		}
		if cur < 0 {
			a.Comment += line
		} else {
			a.Files[cur].Data += line
		}
	}
	return a
}

// Format writes the archive back as text.
func (a Archive) Format() string {
	var b strings.Builder
	b.WriteString(a.Comment)
	for _, f := range a.Files {
		b.WriteString("-- " + f.Name + " --\n")
		b.WriteString(f.Data)
	}
	return b.String()
}

// FS returns the archive's files, all but the "error" section and names
// that are not valid fs paths, and the name of the first of them (the file
// to load; empty when there is none).
func (a Archive) FS() (fstest.MapFS, string) {
	fsys := fstest.MapFS{}
	first := ""
	for _, f := range a.Files {
		if f.Name == "error" || !fs.ValidPath(f.Name) || f.Name == "." {
			continue
		}
		if first == "" {
			first = f.Name
		}
		fsys[f.Name] = &fstest.MapFile{Data: []byte(f.Data)}
	}
	return fsys, first
}

// Errors runs a subtest for each archive that glob matches: load(fsys,
// first) must fail with the text of the "-- error --" section (surrounding
// space trimmed). call names load in messages (e.g. "ParseProject") and
// what names what the first section holds (e.g. "config"). With -update
// the error sections are rewritten instead.
func Errors(t *testing.T, glob, call, what string, load func(fsys fs.FS, first string) error) {
	t.Helper()
	paths, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no %s", glob)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a := Parse(string(data))
			fsys, first := a.FS()
			want, wantAt := "", -1
			for i, f := range a.Files {
				if f.Name == "error" {
					want, wantAt = strings.TrimSpace(f.Data), i
				}
			}
			if first == "" || wantAt < 0 {
				t.Fatalf("%s needs a %s section and an -- error -- section", path, what)
			}
			err = load(fsys, first)
			if err == nil {
				t.Fatalf("%s(%s) = nil error, want\n%s", call, first, want)
			}
			got := err.Error()
			if *update {
				a.Files[wantAt].Data = got + "\n"
				if err := os.WriteFile(path, []byte(a.Format()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("%s(%s) error:\n%s\nwant:\n%s", call, first, got, want)
			}
		})
	}
}

// Seed adds the archives that glob matches to f's seed corpus.
func Seed(f *testing.F, glob string) {
	f.Helper()
	paths, _ := filepath.Glob(glob)
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
}
